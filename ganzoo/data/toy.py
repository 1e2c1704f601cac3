"""2D Gaussian-mixture toy data: the mode-collapse benchmarks of VEEGAN / PacGAN / Unrolled GAN.

The geometry is fixed here once, because the toy metrics in ``ganzoo.metrics.toy`` score samples
against exactly these centres and this standard deviation.

- ``toy-ring``: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02.
- ``toy-grid``: 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05.
"""
from __future__ import annotations

import math

import torch

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.02
GRID_SIDE = 5
GRID_SPACING = 2.0
GRID_STD = 0.05


def toy_centers(name: str) -> torch.Tensor:
    """Mode centres of a toy dataset, shape [K, 2]."""
    if name == "toy-ring":
        angles = torch.arange(RING_MODES, dtype=torch.float64) * (2 * math.pi / RING_MODES)
        return (RING_RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if name == "toy-grid":
        ticks = (torch.arange(GRID_SIDE, dtype=torch.float32) - (GRID_SIDE - 1) / 2) * GRID_SPACING
        gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    raise ValueError(f"unknown toy dataset {name!r}; expected 'toy-ring' or 'toy-grid'")


def toy_std(name: str) -> float:
    """Per-coordinate standard deviation of every mode of a toy dataset."""
    if name == "toy-ring":
        return RING_STD
    if name == "toy-grid":
        return GRID_STD
    raise ValueError(f"unknown toy dataset {name!r}; expected 'toy-ring' or 'toy-grid'")


def sample_toy(name: str, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points and the index of the mode each came from."""
    centers = toy_centers(name)
    modes = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator) * toy_std(name)
    return centers[modes] + noise, modes
