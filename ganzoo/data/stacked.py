"""Stacked Fashion-MNIST: three Fashion-MNIST images as the R, G and B channels of one image.

The mode-collapse benchmark of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018), which
stack MNIST digits; here Fashion-MNIST, so the zoo's own classifier can count the modes. A sample
is three images drawn at random (seeded) from one split; its label is 100a + 10b + c for the
classes a, b, c of its channels, so there are 1,000 modes. Triples are drawn once per dataset and
the channels are gathered per batch, so the stack costs no more memory than the base images.
"""
from __future__ import annotations

from typing import ClassVar, cast

import torch
from torch import Tensor

from ..contracts import IMAGES, LABELS, Batch, DataSpec, DatasetPlugin
from ..pixels import from_uint8
from .images import FashionMNIST

CHANNELS = 3
MODES = 10**CHANNELS


class StackedFashionMNIST(DatasetPlugin):
    """Stacked Fashion-MNIST: 3 random Fashion-MNIST images as RGB, 1,000 modes (VEEGAN/PacGAN-style mode counting)."""

    provides: ClassVar[frozenset[str]] = frozenset({IMAGES, LABELS})
    paper: ClassVar[str] = "Srivastava et al. 2017 (VEEGAN); Lin et al. 2018 (PacGAN): stacked MNIST"
    pretty_name = "Stacked Fashion-MNIST"
    license = "mit"  # built from Fashion-MNIST, which is MIT-licensed

    def __init__(self, data_dir: str | None = None, split: str = "train", n: int | None = None, seed: int = 0,
                 download: bool = True) -> None:
        base = FashionMNIST(data_dir=data_dir, split=split, download=download)
        images, labels = base.tensors()
        count = len(images) if n is None else n
        if count <= 0:
            raise ValueError(f"n must be positive, got {n}")
        g = torch.Generator().manual_seed(seed)
        self._images = images[:, 0]  # [N, 28, 28] uint8
        self._triples = torch.randint(len(images), (count, CHANNELS), generator=g)
        # FashionMNIST always carries labels; cast only tells the type checker so.
        self._labels = cast(Tensor, labels)[self._triples] @ torch.tensor([100, 10, 1])
        self._spec = DataSpec((CHANNELS, *self._images.shape[1:]), MODES, self.provides)

    def spec(self) -> DataSpec:
        return self._spec

    def __len__(self) -> int:
        return len(self._triples)

    def get_batch(self, indices: Tensor) -> Batch:
        x = self._images[self._triples[indices]]  # [B, 3, 28, 28] uint8
        return Batch(from_uint8(x), self._labels[indices])
