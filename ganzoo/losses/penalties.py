"""Gradient penalties on the discriminator's inputs, shared by losses (WGAN-GP, DRAGAN) and tricks
(``gradient-penalty``, ``r1``), so the math lives in one place.

Every function works on :class:`~ganzoo.contracts.DInput`, so a penalty differentiates *all* the
sample tensors the discriminator sees (an image, a pyramid of images, BiGAN's (x, z) pair) and
holds the conditioning (``y``, ``cond``) fixed.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..contracts import DInput, DOut, GANModel


def _per_sample(t: Tensor, like: Tensor) -> Tensor:
    """Reshape a [N] tensor so it broadcasts over a [N, ...] tensor."""
    return t.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def interpolate(a: DInput, b: DInput) -> DInput:
    """Random points on the segments between paired samples of ``a`` and ``b``.

    One mixing weight eps ~ U[0, 1] per example is shared by all its sample tensors, so a joint
    sample (BiGAN's (x, z), a pyramid) stays on one segment. Conditioning is taken from ``a``.
    """
    parts_a, parts_b = a.samples(), b.samples()
    if len(parts_a) != len(parts_b):
        raise ValueError("cannot interpolate inputs with different numbers of sample tensors")
    first = parts_a[0]
    eps = torch.rand(first.shape[0], device=first.device)
    mixed = [pa + _per_sample(eps, pa) * (pb - pa) for pa, pb in zip(parts_a, parts_b)]
    return a.with_samples(mixed)


def input_gradients(model: GANModel, inp: DInput, grad_scale: float = 1.0) -> tuple[DOut, list[Tensor]]:
    """The critic's output on ``inp`` and d(sum of scores)/d(each sample tensor), with a graph so
    the penalty itself can be back-propagated into the discriminator's weights.

    Under fp16 autocast small input gradients underflow; PyTorch's AMP recipe differentiates the
    output multiplied by the loss scale (``grad_scale``) and divides it out in fp32 afterwards.
    """
    parts = [p.detach().requires_grad_(True) for p in inp.samples()]
    out = model.critic(inp.with_samples(parts))
    grads = torch.autograd.grad(out.score.float().sum() * grad_scale, parts, create_graph=True)
    return out, [g.float() / grad_scale for g in grads] if grad_scale != 1.0 else list(grads)


def gradient_norm(grads: Sequence[Tensor]) -> Tensor:
    """Per-example L2 norm of the gradient over all sample tensors jointly, shape [N]."""
    squares = sum(g.float().flatten(1).pow(2).sum(1) for g in grads)
    # The epsilon keeps the norm's own gradient finite where the input gradient is exactly zero.
    return (squares + 1e-12).sqrt()


def gradient_penalty(
    model: GANModel,
    a: DInput,
    b: DInput,
    *,
    weight: float,
    target: float = 1.0,
    one_sided: bool = False,
    grad_scale: float = 1.0,
) -> Tensor:
    """``weight * E[(||grad D(x_hat)|| - target)^2]`` on random interpolates of ``a`` and ``b``.

    Two-sided is WGAN-GP's (Gulrajani et al. 2017); one-sided penalises only norms above
    ``target``, ``max(0, ||g|| - target)^2`` (their appendix; Petzka et al. 2018).
    """
    _, grads = input_gradients(model, interpolate(a, b), grad_scale)
    excess = gradient_norm(grads) - target
    if one_sided:
        excess = excess.clamp(min=0)
    return weight * excess.pow(2).mean()


def squared_gradient_norm(model: GANModel, inp: DInput, grad_scale: float = 1.0) -> Tensor:
    """``E[||grad D(x)||^2]`` at the given inputs (R1 on the real side, R2 on the fake side)."""
    _, grads = input_gradients(model, inp, grad_scale)
    return sum(g.float().flatten(1).pow(2).sum(1) for g in grads).mean()


def perturb(inp: DInput, scale: float) -> DInput:
    """DRAGAN's noisy copy of real data: x + scale * std(x) * U[0, 1] element-wise, with one std
    per sample tensor over the whole batch, as in the authors' code (Kodali et al. 2017)."""
    parts = [p + scale * p.detach().float().std().to(p.dtype) * torch.rand_like(p) for p in inp.samples()]
    return inp.with_samples(parts)
