"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

KID is the unbiased estimator of the squared maximum mean discrepancy with the cubic polynomial
kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets. Unlike FID it has an unbiased
estimator, so equal distributions score ≈ 0 on average and single estimates can be negative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class KIDResult:
    mean: float
    std: float  # spread of the per-subset estimates
    subset_size: int
    subsets: int


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x·y / d + 1)³ for all pairs of rows."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3) between samples x [m, d] and y [n, d].

    The diagonals k(xᵢ, xᵢ) are left out of the within-set means; that is what removes the bias.
    """
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("unbiased MMD needs at least 2 samples on each side")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def _as_float64(features: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    return np.asarray(features, dtype=np.float64)


def kernel_inception_distance(
    real: np.ndarray | torch.Tensor,
    generated: np.ndarray | torch.Tensor,
    *,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
) -> KIDResult:
    """KID mean and std over ``subsets`` random subsets (subset size clipped to both set sizes)."""
    x, y = _as_float64(real), _as_float64(generated)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be [N, D] with equal D, got {x.shape} and {y.shape}")
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            mmd2_unbiased(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
            for _ in range(subsets)
        ]
    )
    return KIDResult(mean=float(estimates.mean()), std=float(estimates.std()), subset_size=m, subsets=subsets)
