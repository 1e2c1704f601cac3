"""Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium").

FID is the Fréchet (2-Wasserstein) distance between two Gaussians fitted to feature sets
(Dowson & Landau 1982):

    d² = ||μ₁ - μ₂||² + Tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^{1/2})

The trace of the matrix square root comes from symmetric eigendecompositions in float64 torch
(:func:`trace_sqrt_product`), not ``scipy.linalg.sqrtm``; tests/test_metrics_xcheck.py holds it to
pytorch-fid, clean-fid, torch-fidelity and torchmetrics.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


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


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric PSD matrix; round-off below zero is clamped."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0.0).sqrt()) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr (Σ₁Σ₂)^{1/2} for covariances Σ₁, Σ₂ (float64, in torch).

    Σ₁Σ₂ is similar to Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which is symmetric PSD, so the trace is the sum of the
    square roots of that matrix's eigenvalues: two symmetric eigendecompositions, real throughout,
    and no failure on singular covariances (fewer samples than dimensions) where ``sqrtm`` of the
    product needs an ε on the diagonals and a check of its imaginary part.
    """
    s1, s2 = (torch.from_numpy(np.ascontiguousarray(s)) for s in (sigma1, sigma2))
    root = _psd_sqrt((s1 + s1.T) / 2)
    inner = root @ ((s2 + s2.T) / 2) @ root
    eigenvalues = torch.linalg.eigvalsh((inner + inner.T) / 2)
    return float(eigenvalues.clamp(min=0.0).sqrt().sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(_as_float64(mu1)), np.atleast_1d(_as_float64(mu2))
    sigma1, sigma2 = np.atleast_2d(_as_float64(sigma1)), np.atleast_2d(_as_float64(sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    if not all(np.isfinite(a).all() for a in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("FID: the means or covariances contain NaN or infinity")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(value)


def fid_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    """FID between two precomputed :class:`GaussianStats`."""
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


def fid_from_features(real: np.ndarray | torch.Tensor, generated: np.ndarray | torch.Tensor) -> float:
    """FID between two feature sets [N, D] and [M, D]."""
    return fid_from_stats(gaussian_stats(real), gaussian_stats(generated))
