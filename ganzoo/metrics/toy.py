"""Mode-collapse figures for the 2D Gaussian-mixture toys ``toy-ring`` and ``toy-grid``.

Protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018), following Unrolled GAN
(Metz et al. 2017): a generated point is *high quality* when it lies within 3 standard deviations
(Euclidean distance ≤ 3·std) of its nearest mode centre; a mode is *captured* when at least one
high-quality point has it as nearest mode. Default 2,500 samples. The geometry comes from
:mod:`ganzoo.data.toy`, the same place the training data comes from.

``kl_to_uniform`` = KL(q || uniform) where q is the distribution of high-quality points over the
modes (VEEGAN's mode-distribution KL; 0 is perfectly balanced, log K is everything in one mode).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ganzoo.data.toy import toy_centers, toy_std

HIGH_QUALITY_STDS = 3.0
DEFAULT_TOY_SAMPLES = 2500


@dataclass(frozen=True)
class ToyResult:
    modes_captured: int
    n_modes: int
    high_quality_fraction: float
    kl_to_uniform: float  # nan when there is no high-quality sample
    n_samples: int

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def toy_metrics(points: torch.Tensor, name: str) -> ToyResult:
    """Score generated 2D points [N, 2] against the modes of toy dataset ``name``."""
    pts = torch.as_tensor(points).detach().cpu().double()
    if pts.dim() != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"toy samples must be a non-empty [N, 2] tensor, got shape {tuple(pts.shape)}")
    centers = toy_centers(name).double()
    distances = torch.cdist(pts, centers)  # [N, K]
    nearest_distance, nearest_mode = distances.min(dim=1)
    high_quality = nearest_distance <= HIGH_QUALITY_STDS * toy_std(name)
    counts = torch.bincount(nearest_mode[high_quality], minlength=len(centers)).double()

    n_hq = counts.sum().item()
    if n_hq > 0:
        q = counts[counts > 0] / n_hq
        kl = float((q * (q * len(centers)).log()).sum())
    else:
        kl = math.nan
    return ToyResult(
        modes_captured=int((counts > 0).sum()),
        n_modes=len(centers),
        high_quality_fraction=high_quality.double().mean().item(),
        kl_to_uniform=kl,
        n_samples=len(pts),
    )
