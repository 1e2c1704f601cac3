"""Precision/recall and density/coverage from k-nearest-neighbour balls in feature space.

- Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric
  for Assessing Generative Models"): each sample gets a ball reaching its k-th nearest neighbour
  in its own set. Precision is the share of generated samples inside some real ball (fidelity);
  recall is the share of real samples inside some generated ball (diversity). Default k = 3.
- Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models"): only real balls are used, which makes them robust to generated outliers.
  Density = mean over generated samples of (number of real balls containing it) / k, ≈ 1 when the
  distributions match and unbounded above; coverage = share of real balls containing at least one
  generated sample. Default k = 5.

Distances are computed block by block with ``torch.cdist`` so 10k × 10k × 2048 fits in memory;
the generated-vs-real distance matrix is swept once and serves all four figures. Balls are closed
(distance ≤ radius) and computed in float64 with radii widened by a relative 1e-9: otherwise
matmul round-off (d(i, j) ≠ d(j, i) in the last bits) decides whether a point lying exactly on a
ball's boundary, such as the k-th neighbour itself, is inside.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


_BOUNDARY_SLACK = 1.0 + 1e-9


@dataclass(frozen=True)
class PRDCResult:
    precision: float
    recall: float
    density: float
    coverage: float


def _as_tensor(features: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(features).detach().to(device=device, dtype=torch.float64)


def kth_neighbour_radii(points: torch.Tensor, ks: tuple[int, ...], block: int = 1024) -> dict[int, torch.Tensor]:
    """Distance from every point to its k-th nearest other point, for each k in ``ks``."""
    if len(points) <= max(ks):
        raise ValueError(f"need more than k={max(ks)} samples for k-NN radii, got {len(points)}")
    ks = tuple(sorted(set(ks)))  # k_precision_recall may equal k_density_coverage
    radii: dict[int, list[torch.Tensor]] = {k: [] for k in ks}
    for start in range(0, len(points), block):
        distances = torch.cdist(points[start : start + block], points)
        # The k+1 smallest include the point itself at distance 0.
        nearest = distances.topk(max(ks) + 1, dim=1, largest=False).values
        for k in ks:
            radii[k].append(nearest[:, k])
    return {k: torch.cat(parts) * _BOUNDARY_SLACK for k, parts in radii.items()}


@torch.inference_mode()
def precision_recall_density_coverage(
    real: np.ndarray | torch.Tensor,
    generated: np.ndarray | torch.Tensor,
    *,
    k_precision_recall: int = 3,
    k_density_coverage: int = 5,
    device: torch.device | str = "cpu",
    block: int = 1024,
) -> PRDCResult:
    """All four figures from one sweep over generated-vs-real distances."""
    dev = torch.device(device)
    r, g = _as_tensor(real, dev), _as_tensor(generated, dev)
    if r.dim() != 2 or g.dim() != 2 or r.shape[1] != g.shape[1]:
        raise ValueError(f"features must be [N, D] with equal D, got {tuple(r.shape)} and {tuple(g.shape)}")
    k_pr, k_dc = k_precision_recall, k_density_coverage
    real_radii = kth_neighbour_radii(r, (k_pr, k_dc), block)
    generated_radius = kth_neighbour_radii(g, (k_pr,), block)[k_pr]

    in_real_ball = torch.zeros(len(g), dtype=torch.bool, device=dev)  # precision
    real_balls_hit = torch.zeros(len(g), dtype=torch.float64, device=dev)  # density
    real_in_generated_ball = torch.zeros(len(r), dtype=torch.bool, device=dev)  # recall
    nearest_generated = torch.full((len(r),), float("inf"), dtype=torch.float64, device=dev)  # coverage
    for start in range(0, len(g), block):
        d = torch.cdist(g[start : start + block], r)  # [b, n_real]
        stop = start + len(d)
        in_real_ball[start:stop] = (d <= real_radii[k_pr]).any(dim=1)
        real_balls_hit[start:stop] = (d <= real_radii[k_dc]).sum(dim=1).double()
        real_in_generated_ball |= (d <= generated_radius[start:stop, None]).any(dim=0)
        nearest_generated = torch.minimum(nearest_generated, d.min(dim=0).values)

    return PRDCResult(
        precision=in_real_ball.double().mean().item(),
        recall=real_in_generated_ball.double().mean().item(),
        density=(real_balls_hit.sum() / (k_dc * len(g))).item(),
        coverage=(nearest_generated <= real_radii[k_dc]).double().mean().item(),
    )
