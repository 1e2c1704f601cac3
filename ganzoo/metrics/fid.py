"""Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium").

FID is the Fréchet (2-Wasserstein) distance between two Gaussians fitted to feature sets
(Dowson & Landau 1982):

    d² = ||μ₁ - μ₂||² + Tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^{1/2})
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

# Imaginary parts of (Σ₁Σ₂)^{1/2} larger than this are not round-off: the input is broken.
_MAX_IMAGINARY = 1e-3


@dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance of a feature set (float64)."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int


def _as_float64(features: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    return np.asarray(features, dtype=np.float64)


def gaussian_stats(features: np.ndarray | torch.Tensor) -> GaussianStats:
    """μ and the unbiased (N-1) covariance of features [N, D], as every FID implementation uses."""
    x = _as_float64(features)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be [N, D] with N >= 2, got shape {x.shape}")
    return GaussianStats(mu=x.mean(axis=0), sigma=np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1]), n=x.shape[0])


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(_as_float64(mu1)), np.atleast_1d(_as_float64(mu2))
    sigma1, sigma2 = np.atleast_2d(_as_float64(sigma1)), np.atleast_2d(_as_float64(sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    import scipy.linalg  # deferred: only FID needs it, and it is slow to import

    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # Singular product (fewer samples than dimensions): nudge both covariances off the
        # boundary of the PSD cone, as in the reference TF implementation.
        warnings.warn(f"FID: singular covariance product; adding {eps} to the diagonals", stacklevel=2)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        # Only the trace is used, so only the diagonal's imaginary round-off matters.
        largest = np.max(np.abs(np.diagonal(covmean).imag))
        if largest > _MAX_IMAGINARY:
            raise ValueError(f"FID: matrix square root has imaginary component {largest:.3g}")
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(value)


def fid_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    """FID between two precomputed :class:`GaussianStats`."""
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


def fid_from_features(real: np.ndarray | torch.Tensor, generated: np.ndarray | torch.Tensor) -> float:
    """FID between two feature sets [N, D] and [M, D]."""
    return fid_from_stats(gaussian_stats(real), gaussian_stats(generated))
