"""Residual blocks and conditioning layers shared by the ResNet-based families.

The blocks follow the SNGAN / projection-discriminator networks (Miyato et al. 2018; Miyato &
Koyama 2018), which build on the residual blocks of WGAN-GP (Gulrajani et al. 2017): pre-activation
3x3 convolutions, nearest-neighbour upsampling in G, average pooling in D, and a 1x1 learnable
shortcut wherever the shape changes.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


def maybe_sn(module: nn.Module, enabled: bool) -> nn.Module:
    return spectral_norm(module) if enabled else module


def xavier(module: nn.Module, gain: float = 1.0) -> nn.Module:
    """SNGAN's initialisation: Xavier-uniform weights (gain sqrt 2 inside residual branches), zero bias."""
    nn.init.xavier_uniform_(module.weight, gain)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
    return module


def scaled_width(width: int, resolution: int) -> int:
    """Channels at a resolution: ``width`` up to 32 px, halved for each doubling above it, so the
    64 px networks cost about as much per pixel as the CIFAR ones."""
    if resolution <= 32:
        return width
    return max(width * 32 // resolution, 8)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017; Miyato &
    Koyama 2018). With ``num_classes == 0`` it is ordinary affine batch norm."""

    def __init__(self, features: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(features, affine=num_classes == 0)
        if num_classes:
            self.gamma = nn.Embedding(num_classes, features)
            self.beta = nn.Embedding(num_classes, features)
            nn.init.ones_(self.gamma.weight)  # start as the identity, like plain batch norm
            nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.bn(x)
        if not self.num_classes:
            return h
        if y is None:
            raise ValueError("this conditional generator needs class labels y")
        return self.gamma(y)[:, :, None, None] * h + self.beta(y)[:, :, None, None]


class ResBlockUp(nn.Module):
    """G block: BN-ReLU-up-conv3-BN-ReLU-conv3, plus an upsampled 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, num_classes: int = 0) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(c_in, num_classes)
        self.conv1 = xavier(nn.Conv2d(c_in, c_out, 3, 1, 1), math.sqrt(2))
        self.bn2 = ConditionalBatchNorm2d(c_out, num_classes)
        self.conv2 = xavier(nn.Conv2d(c_out, c_out, 3, 1, 1), math.sqrt(2))
        self.shortcut = xavier(nn.Conv2d(c_in, c_out, 1, 1, 0))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResBlockDown(nn.Module):
    """D block: (ReLU-)conv3-ReLU-conv3(-avgpool), plus a 1x1 shortcut when the shape changes.

    ``first`` is SNGAN's "optimized" input block: no ReLU before the first convolution (the input is
    an image, not an activation) and the shortcut pools before its 1x1 convolution.
    """

    def __init__(self, c_in: int, c_out: int, *, down: bool, first: bool = False, sn: bool = True) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = maybe_sn(xavier(nn.Conv2d(c_in, c_out, 3, 1, 1), math.sqrt(2)), sn)
        self.conv2 = maybe_sn(xavier(nn.Conv2d(c_out, c_out, 3, 1, 1), math.sqrt(2)), sn)
        learnable = first or down or c_in != c_out
        self.shortcut = maybe_sn(xavier(nn.Conv2d(c_in, c_out, 1, 1, 0)), sn) if learnable else None

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.first:  # pool first: the 1x1 convolution then runs on a quarter of the pixels
            s = self.shortcut(F.avg_pool2d(s, 2) if self.down else s)
        else:
            if self.shortcut is not None:
                s = self.shortcut(s)
            if self.down:
                s = F.avg_pool2d(s, 2)
        return h + s


def one_hot(y: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    return F.one_hot(y.long(), num_classes).to(dtype)
