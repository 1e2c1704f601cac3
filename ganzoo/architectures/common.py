"""Building blocks shared by architecture families."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError


class _GradientInInputLayout(torch.autograd.Function):
    """Identity whose backward returns the gradient in the memory layout of the forward input.

    Flattening a channels_last map into a linear head copies it to NCHW order, so its gradient
    comes back NCHW while the convolution stack below is channels_last; every layer's backward then
    mixes layouts (leaky_relu_backward took 17% of a bf16 DCGAN step). Converting the gradient once,
    here, keeps the stack's backward in one layout.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        ctx.channels_last = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.contiguous(memory_format=torch.channels_last) if ctx.channels_last else grad


def flatten_maps(h: Tensor) -> Tensor:
    """``h.flatten(1)`` in NCHW order (what the weights of the linear head expect), with the
    gradient handed back in ``h``'s own memory layout (see :class:`_GradientInInputLayout`)."""
    return _GradientInInputLayout.apply(h).flatten(1)


class FlattenMaps(nn.Module):
    """:func:`flatten_maps` as a layer, in place of ``nn.Flatten`` at the end of a conv stack."""

    def forward(self, h: Tensor) -> Tensor:
        return flatten_maps(h)


def dcgan_init(module: nn.Module) -> None:
    """Weights from N(0, 0.02), batch-norm scales from N(1, 0.02): the DCGAN paper's init."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


PYRAMID_BASES = (4, 7)  # the smallest maps a pyramid grows from: 4x4, or 7x7 for 28 px (MNIST-style)


def pyramid_plan(image_size: int, family: str) -> tuple[int, int]:
    """(base size, number of 2x up/down-sampling stages) for 28, 32 or 64 px images.

    28 px grows from 7x7 (MNIST-style); powers of two from 4x4.
    """
    for base in PYRAMID_BASES:
        stages = math.log2(image_size / base) if image_size >= base else -1
        if stages >= 1 and stages.is_integer():
            return base, int(stages)
    raise ConfigError(f"{family} supports image sizes 4*2^k or 7*2^k (e.g. 28, 32, 64), got {image_size}")


def pyramid_sizes(largest: int = 1024) -> list[int]:
    """Every image size :func:`pyramid_plan` accepts, up to ``largest``, smallest first."""
    return sorted(b << k for b in PYRAMID_BASES for k in range(1, largest.bit_length()) if b << k <= largest)


def positive(name: str, value: int | float) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")


def data_shape(data_dim: int | None, channels: int | None, image_size: int | None, family: str) -> tuple[int, ...]:
    """(C, H, W) for images, (D,) for points, for families that handle both.

    Images when ``channels`` and ``image_size`` are given (the engine fills them for image
    datasets), points of ``data_dim`` otherwise; with neither, 28 px grayscale (MNIST).
    """
    if channels is not None and image_size is not None:
        positive("channels", channels)
        if data_dim is not None and channels * image_size * image_size != data_dim:
            raise ConfigError(f"{family}: channels*image_size^2 = {channels * image_size**2} does not match data_dim {data_dim}")
        return (channels, image_size, image_size)
    if data_dim is not None:
        positive("data_dim", data_dim)
        return (data_dim,)
    return (1, 28, 28)
