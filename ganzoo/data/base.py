"""The dataset contract and the index-driven batch source shared by every dataset."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from ..contracts import Batch


@dataclass(frozen=True)
class DataSpec:
    """What an architecture needs to know about the data: shape, classes, capabilities."""

    shape: tuple[int, ...]  # (C, H, W) for images, (D,) for points
    num_classes: int
    provides: frozenset[str]

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def architecture_defaults(self) -> dict[str, int]:
        """Values for the architecture arguments the engine fills from the data."""
        values: dict[str, int] = {"num_classes": self.num_classes}
        if self.is_image:
            values.update(channels=self.shape[0], image_size=self.shape[1])
        values["data_dim"] = int(torch.tensor(self.shape).prod())
        return values


class DatasetPlugin:
    """A dataset plugin. Constructor arguments (``data_dir``, ``split``, ...) are its config.

    Subclasses implement ``spec``, ``__len__`` and ``get_batch``; samples come back as float
    tensors scaled to [-1, 1]. Indexing by a whole batch of indices keeps in-memory datasets
    fast and lets the engine shard and resume by index arithmetic alone.
    """

    provides: ClassVar[frozenset[str]] = frozenset()
    paper: ClassVar[str] = ""

    def spec(self) -> DataSpec:  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_batch(self, indices: Tensor) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError


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
            x = x.float().div_(127.5).sub_(1.0)
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
        raise ValueError(f"batch size {batch_size} is larger than the {per_rank} samples per process")
    return list(order[: count * batch_size].view(count, batch_size))
