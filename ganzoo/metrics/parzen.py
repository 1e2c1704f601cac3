"""Parzen-window log-likelihood (Breuleux et al. 2011; used by Goodfellow et al. 2014, "Generative
Adversarial Nets", Table 1).

A Gaussian kernel density with bandwidth σ is placed on the generated samples s₁..s_N and the test
points are scored under it:

    log p(x) = logsumexp_i(-||x - s_i||² / (2σ²)) - log N - (d/2) log(2πσ²)

σ is chosen by grid search for the best mean log-likelihood on a validation split, then the test
mean and its standard error are reported. The estimate is known to be poor in high dimension
(Theis et al. 2016, "A note on the evaluation of generative models"); it is kept for comparison
with the GAN literature of that era.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

# Goodfellow et al.'s grid for pixel values in [0, 1].
DEFAULT_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.logspace(-1.0, 0.0, 10))


@dataclass(frozen=True)
class ParzenResult:
    mean: float  # mean test log-likelihood (nats per example)
    stderr: float  # standard error of that mean
    sigma: float  # bandwidth picked on the validation split
    validation_mean: float  # best mean validation log-likelihood
    n_samples: int
    n_test: int


@torch.inference_mode()
def parzen_log_likelihood(
    points: torch.Tensor, samples: torch.Tensor, sigma: float, *, block: int = 256
) -> torch.Tensor:
    """Per-point log-density [M] of ``points`` [M, d] under the Parzen window on ``samples`` [N, d]."""
    x, s = points.double(), samples.double()
    if x.dim() != 2 or s.dim() != 2 or x.shape[1] != s.shape[1]:
        raise ValueError(f"points and samples must be [M, d] and [N, d], got {tuple(x.shape)} and {tuple(s.shape)}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    d = x.shape[1]
    log_norm = math.log(len(s)) + 0.5 * d * math.log(2.0 * math.pi * sigma**2)
    out = []
    for start in range(0, len(x), block):
        squared = torch.cdist(x[start : start + block], s).square()
        out.append(torch.logsumexp(-squared / (2.0 * sigma**2), dim=1) - log_norm)
    return torch.cat(out)


def parzen_evaluate(
    samples: torch.Tensor,
    test: torch.Tensor,
    validation: torch.Tensor,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    *,
    block: int = 256,
) -> ParzenResult:
    """Pick σ on ``validation``, then report the test log-likelihood mean ± standard error."""
    sigmas = [float(s) for s in sigmas]
    if not sigmas:
        raise ValueError("sigmas must not be empty")
    validation_means = [parzen_log_likelihood(validation, samples, s, block=block).mean().item() for s in sigmas]
    best = int(np.argmax(validation_means))
    if len(sigmas) > 1 and best in (0, len(sigmas) - 1):
        # The optimum may lie outside the grid; the figure is then a lower bound.
        warnings.warn(f"Parzen: best sigma {sigmas[best]:.4g} is at the edge of the grid", stacklevel=2)
    test_ll = parzen_log_likelihood(test, samples, sigmas[best], block=block)
    stderr = test_ll.std().item() / math.sqrt(len(test_ll)) if len(test_ll) > 1 else math.nan
    return ParzenResult(
        mean=test_ll.mean().item(),
        stderr=stderr,
        sigma=float(sigmas[best]),
        validation_mean=validation_means[best],
        n_samples=len(samples),
        n_test=len(test_ll),
    )
