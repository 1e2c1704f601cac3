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


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """k(x, y) = (x·y / d + 1)³ for all pairs of rows."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3) between samples x [m, d] and y [n, d].

    The diagonals k(xᵢ, xᵢ) are left out of the within-set means; that is what removes the bias.
    """
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("unbiased MMD needs at least 2 samples on each side")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - k_xx.trace()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.trace()) / (n * (n - 1))
    return (within_x + within_y - 2.0 * k_xy.mean()).item()


@torch.inference_mode()
def kernel_inception_distance(
    real: np.ndarray | torch.Tensor,
    generated: np.ndarray | torch.Tensor,
    *,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> KIDResult:
    """KID mean and std over ``subsets`` random subsets (subset size clipped to both set sizes).

    Subsets are drawn without replacement by ``numpy.random.default_rng(seed)``, so the figure
    does not depend on the device; kernels are evaluated in float64 on ``device``.
    """
    x = torch.as_tensor(real).detach().to(device=device, dtype=torch.float64)
    y = torch.as_tensor(generated).detach().to(device=device, dtype=torch.float64)
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be [N, D] with equal D, got {tuple(x.shape)} and {tuple(y.shape)}")
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            mmd2_unbiased(
                x[torch.from_numpy(rng.choice(len(x), m, replace=False)).to(x.device)],
                y[torch.from_numpy(rng.choice(len(y), m, replace=False)).to(y.device)],
            )
            for _ in range(subsets)
        ]
    )
    return KIDResult(mean=float(estimates.mean()), std=float(estimates.std()), subset_size=m, subsets=subsets)
