"""Tricks on what the discriminator sees: instance noise and differentiable augmentation."""
from __future__ import annotations

import torch
from torch import Tensor

from ..contracts import IMAGES, DInput, Trick


class InstanceNoise(Trick):
    """Instance noise: Gaussian noise on D's inputs, annealed to 0 (Sønderby et al. 2017; Arjovsky & Bottou 2017).

    Both the real and the fake samples get N(0, sigma_t^2) noise with sigma_t falling linearly
    from ``sigma`` at step 0 to 0 at ``anneal_steps``, which makes the two distributions overlap
    early in training so D's gradients stay informative. All sample tensors are noised
    (conditioning is not). Defaults (ganzoo's; the papers tune per task): sigma 0.1 on the
    [-1, 1] data scale, annealed over 10,000 steps.
    """

    paper = (
        "Sønderby, Caballero, Theis, Shi, Huszár 2017, Amortised MAP Inference for Image Super-resolution, ICLR, "
        "arXiv:1610.04490; Arjovsky, Bottou 2017, Towards Principled Methods for Training GANs, ICLR, arXiv:1701.04862"
    )

    def __init__(self, sigma: float = 0.1, anneal_steps: int = 10_000) -> None:
        super().__init__()
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        if anneal_steps < 1:
            raise ValueError(f"anneal_steps must be >= 1, got {anneal_steps}")
        self.sigma, self.anneal_steps = float(sigma), anneal_steps

    def sigma_at(self, step: int) -> float:
        return self.sigma * max(0.0, 1.0 - step / self.anneal_steps)

    def d_input(self, inp: DInput, step: int) -> DInput:
        sigma = self.sigma_at(step)
        if sigma <= 0:
            return inp
        return inp.with_samples([p + sigma * torch.randn_like(p) for p in inp.samples()])


# --- DiffAugment's three differentiable transformations; each draws its own random values per sample.

def _color(x: Tensor) -> Tensor:
    n = x.shape[0]
    rand = lambda: torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype)  # noqa: E731
    x = x + (rand() - 0.5)  # brightness in [-0.5, 0.5]
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (rand() * 2) + mean  # saturation in [0, 2]
    mean = x.mean([1, 2, 3], keepdim=True)
    return (x - mean) * (rand() + 0.5) + mean  # contrast in [0.5, 1.5]


def _translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ratio * size pixels in each axis, filling with zeros."""
    n, c, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # source row of each output row
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx
    inside = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
    return x.flatten(2).gather(2, index).view(n, c, h, w) * inside.to(x.dtype)


def _cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a square of ratio * size at a random position in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


_AUGMENTS = {"color": _color, "translation": _translation, "cutout": _cutout}


class DiffAugment(Trick):
    """DiffAugment: differentiable color, translation and cutout on real and fake D inputs (Zhao et al. 2020).

    The same family of random transformations is applied to real and generated images (each
    sample gets its own draw) in both the discriminator and the generator step; being
    differentiable, the generator is trained through them, so D cannot memorize the real set
    without the augmentations leaking into the samples. ``policy`` is a comma-separated subset of
    color, translation (1/8 of the size) and cutout (1/2 of the size), applied in that order.
    Image tensors among the samples are augmented, each with its own draw (so the levels of a
    LAPGAN pyramid are not augmented consistently); latents and conditioning are not. Images only.
    """

    requires = frozenset({IMAGES})
    paper = "Zhao, Liu, Lin, Zhu, Han 2020, Differentiable Augmentation for Data-Efficient GAN Training, NeurIPS. arXiv:2006.10738"

    def __init__(self, policy: str = "color,translation,cutout") -> None:
        super().__init__()
        names = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [p for p in names if p not in _AUGMENTS]
        if unknown or not names:
            raise ValueError(f"unknown DiffAugment policy {policy!r}; use a comma-separated subset of {', '.join(_AUGMENTS)}")
        self.policy = ",".join(names)
        self._augments = [_AUGMENTS[p] for p in names]

    def augment(self, x: Tensor) -> Tensor:
        for fn in self._augments:
            x = fn(x)
        return x

    def d_input(self, inp: DInput, step: int) -> DInput:
        parts = inp.samples()
        n_images = len(inp.x) if isinstance(inp.x, tuple) else 1  # the latent z, if any, comes last
        parts = [self.augment(p) if i < n_images and p.dim() == 4 else p for i, p in enumerate(parts)]
        return inp.with_samples(parts)
