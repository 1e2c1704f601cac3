"""Mode-collapse figures for the 2D Gaussian-mixture toys (``toy-ring``, ``toy-grid`` and the
PacGAN presets ``toy-ring-pacgan``, ``toy-grid-pacgan``).

Protocol of VEEGAN (Srivastava et al. 2017, Sec. 5.1) that PacGAN's Table 1 (Lin et al. 2018)
reuses: a generated point is *high quality* when it lies within 3 standard deviations (Euclidean
distance ≤ 3·std) of its nearest mode centre; a mode is *captured* when at least one high-quality
point has it as nearest mode (VEEGAN's text; PacGAN's released code counts a mode as covered on a
non-zero count, the same rule). 2,500 generated samples (both papers). The geometry comes from
:mod:`ganzoo.data.toy`, the same place the training data comes from.

``kl_to_uniform`` = KL(q || uniform) where q is the distribution of high-quality points over the
modes (VEEGAN's mode-distribution KL; 0 is perfectly balanced, log K is everything in one mode).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ganzoo.data.toy import geometry, toy_centers, toy_std

HIGH_QUALITY_STDS = 3.0
DEFAULT_TOY_SAMPLES = 2500
MIN_HIGH_QUALITY_PER_MODE = 1  # a mode with at least this many high-quality points is captured


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

    kl = kl_to_uniform(counts) if counts.sum() > 0 else math.nan
    return ToyResult(
        modes_captured=int((counts >= MIN_HIGH_QUALITY_PER_MODE).sum()),
        n_modes=len(centers),
        high_quality_fraction=high_quality.double().mean().item(),
        kl_to_uniform=kl,
        n_samples=len(pts),
    )


def kl_to_uniform(counts: torch.Tensor) -> float:
    """KL(q || uniform) in nats of the histogram ``counts`` over ``len(counts)`` bins (0·log 0 = 0)."""
    counts = torch.as_tensor(counts).double()
    total = float(counts.sum())
    if total <= 0:
        raise ValueError("the histogram is empty")
    q = counts[counts > 0] / total
    return float((q * (q * len(counts)).log()).sum())


def toy_protocol(name: str) -> dict[str, str]:
    """The scoring rule and geometry of ``name``, as recorded next to every toy figure."""
    shape = geometry(name)
    return {
        "high_quality": f"distance to nearest mode <= {HIGH_QUALITY_STDS:g} std",
        "mode_captured": f"at least {MIN_HIGH_QUALITY_PER_MODE} high-quality sample(s) nearest to the mode",
        "geometry": shape.describe(),
        "geometry_source": shape.source,
    }
