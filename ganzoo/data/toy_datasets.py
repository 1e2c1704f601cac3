"""Toy 2D mixtures as dataset plugins; geometry in :mod:`ganzoo.data.toy`."""
from __future__ import annotations

import torch

from ..contracts import LABELS, POINTS
from .base import TensorDataset
from .toy import sample_toy, toy_centers

_SIZE = 50_000


class _Toy(TensorDataset):
    toy_name = ""

    def __init__(self, n: int = _SIZE, seed: int = 0) -> None:
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        x, modes = sample_toy(self.toy_name, n, torch.Generator().manual_seed(seed))
        super().__init__(x, modes, len(toy_centers(self.toy_name)), frozenset({POINTS, LABELS}))


class ToyRing(_Toy):
    """8 Gaussians on a ring of radius 2, std 0.02 (the mode-collapse test of Metz et al. 2017)."""

    toy_name = "toy-ring"
    pretty_name = "8-Gaussian ring"
    provides = frozenset({POINTS, LABELS})


class ToyGrid(_Toy):
    """25 Gaussians on a 5x5 grid, spacing 2, std 0.05 (the mode-collapse test of VEEGAN, 2017)."""

    toy_name = "toy-grid"
    pretty_name = "25-Gaussian grid"
    provides = frozenset({POINTS, LABELS})
