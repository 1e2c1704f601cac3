"""On-disk cache of reference (real-data) features and their Gaussian statistics.

Featurizing 10,000 test images takes about half an hour on a CPU, and the result only depends on
the dataset, split, sample count, preprocessing and network weights, so it is computed once and
stored as ``.npz`` (plain arrays, loaded with ``allow_pickle=False``). The full key is stored in the
file and checked on load, so a file renamed by hand is not silently reused.

Location: ``cache_dir`` argument, else ``$GANZOO_CACHE/fid-stats``, else
``$XDG_CACHE_HOME/ganzoo/fid-stats``, else ``~/.cache/ganzoo/fid-stats`` (:mod:`ganzoo.cache`).
Raw features (not only μ, Σ) are kept because KID and precision/recall need them.
Two processes asking for the same missing features (two ``ganzoo eval`` side by side) do not both
spend that half hour: the second waits on a lock file beside the cache and then reads the result.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..cache import cache_root
from ..locks import exclusive
from .fid import GaussianStats, gaussian_stats

_FORMAT = "ganzoo-reference-v1"


class ReferenceCacheError(ValueError):
    """A cache file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class ReferenceKey:
    """Everything the reference features depend on."""

    dataset: str
    split: str
    n: int
    preprocessing_version: str
    weights_sha256: str
    precision: str = "fp32"  # of the feature pass; bf16 features are cached apart from fp32 ones

    def text(self) -> str:
        # fp32 keys read as they did before the precision was part of the key, so old caches stay valid.
        parts = {k: v for k, v in asdict(self).items() if k != "precision" or v != "fp32"}
        return "|".join(f"{k}={v}" for k, v in parts.items()) + f"|format={_FORMAT}"

    def filename(self) -> str:
        def safe(part: str) -> str:
            return re.sub(r"[^A-Za-z0-9._-]+", "_", part)

        return (
            f"{safe(self.dataset)}_{safe(self.split)}_n{self.n}_{safe(self.preprocessing_version)}"
            f"_{self.weights_sha256[:12]}{'' if self.precision == 'fp32' else '_' + safe(self.precision)}.npz"
        )


@dataclass(frozen=True)
class ReferenceFeatures:
    features: np.ndarray  # float32 [n, D]
    stats: GaussianStats


def default_cache_dir() -> Path:
    return cache_root() / "fid-stats"


def save_reference(path: Path, key: ReferenceKey, features: np.ndarray | torch.Tensor) -> ReferenceFeatures:
    """Write features, μ, Σ and the key atomically (temp file + rename: no half-written cache)."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    features = np.ascontiguousarray(features, dtype=np.float32)
    stats = gaussian_stats(features)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as handle:
        np.savez(handle, key=np.array(key.text()), features=features, mu=stats.mu, sigma=stats.sigma)
        tmp_name = handle.name
    os.replace(tmp_name, path)
    return ReferenceFeatures(features, stats)


def load_reference(path: Path, key: ReferenceKey) -> ReferenceFeatures:
    """Read a cache file; any problem becomes a one-line :class:`ReferenceCacheError`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = str(data["key"])
            features = data["features"]
            mu, sigma = data["mu"], data["sigma"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ReferenceCacheError(f"unreadable reference cache {path}: {detail}") from None
    if stored_key != key.text():
        raise ReferenceCacheError(f"reference cache {path} was written for a different key: {stored_key}")
    d = features.shape[1] if features.ndim == 2 else -1
    if features.shape != (key.n, d) or mu.shape != (d,) or sigma.shape != (d, d):
        raise ReferenceCacheError(f"reference cache {path} has inconsistent array shapes")
    return ReferenceFeatures(features, GaussianStats(mu=mu, sigma=sigma, n=key.n))


@contextmanager
def _computing(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s lock file; say so when another process holds it first."""

    def waiting() -> None:
        print(f"another process is computing {path.name}; waiting for it", file=sys.stderr, flush=True)

    with exclusive(path.with_name(path.name + ".lock"), on_wait=waiting):
        yield


def cached_reference(
    key: ReferenceKey,
    compute: Callable[[], np.ndarray | torch.Tensor],
    cache_dir: str | os.PathLike[str] | None = None,
) -> ReferenceFeatures:
    """Load the reference features for ``key``, or compute and store them.

    A corrupt or mismatched file is reported in one warning line and recomputed over. Computing
    happens under a lock, so a second process asking for the same key waits and then loads.
    """
    path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = path / key.filename()
    with _computing(path):
        if path.exists():
            try:
                return load_reference(path, key)
            except ReferenceCacheError as exc:
                warnings.warn(f"{exc}; recomputing", stacklevel=2)
        features = compute()
        if len(features) != key.n:
            raise ValueError(f"reference computation returned {len(features)} features, expected {key.n}")
        return save_reference(path, key, features)
