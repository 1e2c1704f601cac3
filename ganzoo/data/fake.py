"""Random tensors for smoke runs: no files, no download."""
from __future__ import annotations

import torch

from ..contracts import IMAGES, LABELS
from .base import TensorDataset


class FakeData(TensorDataset):
    """Random uint8 images with random labels, for smoke tests of any image architecture."""

    provides = frozenset({IMAGES, LABELS})

    def __init__(self, n: int = 512, image_size: int = 28, channels: int = 1, num_classes: int = 10, seed: int = 0) -> None:
        for label, value in (("n", n), ("image_size", image_size), ("channels", channels), ("num_classes", num_classes)):
            if value <= 0:
                raise ValueError(f"{label} must be positive, got {value}")
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(0, 256, (n, channels, image_size, image_size), generator=g, dtype=torch.uint8)
        y = torch.randint(num_classes, (n,), generator=g)
        super().__init__(x, y, num_classes, self.provides)
