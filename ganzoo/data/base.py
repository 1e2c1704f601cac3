"""The in-memory dataset and the index-driven batch source shared by every dataset.

The dataset contract itself (``DataSpec``, ``DatasetPlugin``) lives in :mod:`ganzoo.contracts`.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..contracts import Batch, DataSpec, DatasetPlugin
from ..errors import ConfigError
from ..pixels import from_uint8


class TensorDataset(DatasetPlugin):
    """A dataset held in memory as tensors: uint8 images or float points, optional labels."""

    def __init__(self, x: Tensor, y: Tensor | None, num_classes: int, provides: frozenset[str]) -> None:
        self._x, self._y = x, y
        self._spec = DataSpec(tuple(x.shape[1:]), num_classes, provides)

    def spec(self) -> DataSpec:
        return self._spec

    def __len__(self) -> int:
        return self._x.shape[0]

    def get_batch(self, indices: Tensor) -> Batch:
        x = self._x[indices]
        if x.dtype == torch.uint8:  # images are kept as bytes: 4x less memory, exact quantization
            x = from_uint8(x)
        return Batch(x, None if self._y is None else self._y[indices])

    def tensors(self) -> tuple[Tensor, Tensor | None]:
        """The raw tensors (uint8 images for image datasets), e.g. as the real set of a metric."""
        return self._x, self._y


def batch_indices(
    n: int, batch_size: int, *, seed: int, epoch: int, rank: int = 0, world_size: int = 1
) -> list[Tensor]:
    """The batches of one epoch: a seeded permutation, sharded across ranks, last partial dropped.

    Deterministic in (seed, epoch), so a resumed run can skip straight to where it stopped.
    """
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g)
    per_rank = n // world_size
    order = order[rank * per_rank : (rank + 1) * per_rank]
    count = per_rank // batch_size
    if count == 0:
        raise ConfigError(f"--batch-size {batch_size} is larger than the {per_rank} samples per process; lower --batch-size")
    return list(order[: count * batch_size].view(count, batch_size))
