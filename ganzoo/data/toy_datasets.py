"""Toy 2D mixtures as dataset plugins; geometry in :mod:`ganzoo.data.toy`."""
from __future__ import annotations

import torch

from ..contracts import LABELS, POINTS
from .base import TensorDataset
from .toy import sample_toy, toy_centers

_SIZE = 50_000
# PacGAN's training set: 100,000 points drawn once, shuffled every epoch (released config, num_sample).
_PACGAN_SIZE = 100_000


class _Toy(TensorDataset):
    toy_name = ""
    provides = frozenset({POINTS, LABELS})

    def __init__(self, n: int = _SIZE, seed: int = 0) -> None:
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        x, modes = sample_toy(self.toy_name, n, torch.Generator().manual_seed(seed))
        super().__init__(x, modes, len(toy_centers(self.toy_name)), frozenset({POINTS, LABELS}))


class ToyRing(_Toy):
    """8 Gaussians on a ring of radius 2, std 0.02 (the mode-collapse test of Metz et al. 2017)."""

    toy_name = "toy-ring"
    pretty_name = "8-Gaussian ring"


class ToyGrid(_Toy):
    """25 Gaussians on a 5x5 grid, spacing 2, std 0.05 (the mode-collapse test of VEEGAN, 2017)."""

    toy_name = "toy-grid"
    pretty_name = "25-Gaussian grid"


class _PacGANToy(_Toy):
    """A toy of PacGAN's Table 1 (VEEGAN's protocol), with its 100,000-point training set;
    benchmark it with ``ganzoo bench --preset pacgan``."""

    paper = "Lin et al. 2018, PacGAN: The power of two samples in generative adversarial networks, NeurIPS. arXiv:1712.04086"

    def __init__(self, n: int = _PACGAN_SIZE, seed: int = 0) -> None:
        super().__init__(n, seed)


class ToyRingPacGAN(_PacGANToy):
    """8 Gaussians on the unit circle, std 0.01: the 2D ring of PacGAN's Table 1 (Lin et al. 2018 /
    Srivastava et al. 2017)."""

    toy_name = "toy-ring-pacgan"
    pretty_name = "8-Gaussian ring (PacGAN / VEEGAN)"


class ToyGridPacGAN(_PacGANToy):
    """25 Gaussians on {-4,-2,0,2,4}^2, std 0.05: the 2D grid of PacGAN's Table 1 (Lin et al. 2018 /
    Srivastava et al. 2017)."""

    toy_name = "toy-grid-pacgan"
    pretty_name = "25-Gaussian grid (PacGAN / VEEGAN)"
