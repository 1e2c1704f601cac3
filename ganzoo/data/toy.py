"""2D Gaussian-mixture toy data: the mode-collapse benchmarks of Unrolled GAN / VEEGAN / PacGAN.

Each toy dataset's geometry is fixed here once, because the toy metrics in ``ganzoo.metrics.toy``
score samples against exactly these centres and this standard deviation.

- ``toy-ring``: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02 (Metz et al. 2017).
- ``toy-grid``: 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05.
- ``toy-ring-pacgan`` / ``toy-grid-pacgan``: the geometry of PacGAN's Table 1 (Lin et al. 2018),
  which follows VEEGAN's protocol (Srivastava et al. 2017): 8 Gaussians on the unit circle with
  std 0.01 (variance 1e-4), and 25 Gaussians on {-4, -2, 0, 2, 4}^2 with std 0.05 (variance
  0.0025). Values as in the paper's appendix and its released code (fjxmlzn/PacGAN,
  ``synthetic_data_experiments/2D*_GAN&PacGAN/config.py``). The ring is ``toy-ring`` at half the
  scale: the same radius-to-std ratio, so the same mode test, but a different target for training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

PACGAN = "Lin et al. 2018 (PacGAN, Table 1), following Srivastava et al. 2017 (VEEGAN)"


@dataclass(frozen=True)
class Ring:
    """``modes`` Gaussians evenly spaced on a circle, the first on the positive x axis."""

    modes: int
    radius: float
    std: float
    source: str

    def centers(self) -> torch.Tensor:
        angles = torch.arange(self.modes, dtype=torch.float64) * (2 * math.pi / self.modes)
        return (self.radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()

    def describe(self) -> str:
        return f"{self.modes} Gaussians on a circle of radius {self.radius:g}, std {self.std:g}"


@dataclass(frozen=True)
class Grid:
    """``side`` x ``side`` Gaussians on a square grid centred on the origin."""

    side: int
    spacing: float
    std: float
    source: str

    def centers(self) -> torch.Tensor:
        ticks = (torch.arange(self.side, dtype=torch.float32) - (self.side - 1) / 2) * self.spacing
        gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)

    def describe(self) -> str:
        half = (self.side - 1) / 2 * self.spacing
        return f"{self.side * self.side} Gaussians on a {self.side}x{self.side} grid over [-{half:g}, {half:g}]^2, std {self.std:g}"


GEOMETRIES: dict[str, Ring | Grid] = {
    "toy-ring": Ring(modes=8, radius=2.0, std=0.02, source="Metz et al. 2017 (Unrolled GAN)"),
    "toy-grid": Grid(side=5, spacing=2.0, std=0.05, source="Srivastava et al. 2017 (VEEGAN)"),
    "toy-ring-pacgan": Ring(modes=8, radius=1.0, std=0.01, source=PACGAN),
    "toy-grid-pacgan": Grid(side=5, spacing=2.0, std=0.05, source=PACGAN),
}


def is_toy(name: str) -> bool:
    """Whether ``name`` is one of the 2D toy mixtures the toy metrics can score."""
    return name in GEOMETRIES


def geometry(name: str) -> Ring | Grid:
    try:
        return GEOMETRIES[name]
    except KeyError:
        raise ValueError(f"unknown toy dataset {name!r}; expected one of {', '.join(GEOMETRIES)}") from None


def toy_centers(name: str) -> torch.Tensor:
    """Mode centres of a toy dataset, shape [K, 2]."""
    return geometry(name).centers()


def toy_std(name: str) -> float:
    """Per-coordinate standard deviation of every mode of a toy dataset."""
    return geometry(name).std


def sample_toy(name: str, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points and the index of the mode each came from."""
    centers = toy_centers(name)
    modes = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator) * toy_std(name)
    return centers[modes] + noise, modes
