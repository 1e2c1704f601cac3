"""Safe, atomic file I/O: safetensors only, never pickle; writes that cannot leave half a file.

Everything ganzoo saves goes through :func:`write_atomic` (write a temporary file in the same
folder, fsync, then ``os.replace``); folders that must change as a whole (a checkpoint, an export)
are built under a temporary name beside their final place and swapped in by
:func:`replace_folder`. Every weights file ganzoo reads goes through :func:`read_safetensors`,
which recognises and refuses pickles and torch.save archives before any byte of them is
interpreted.
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from safetensors import safe_open  # torch-free until a file is opened with framework="pt"

from .errors import CheckpointError

if TYPE_CHECKING:  # torch is not imported here, so reading JSON stays torch-free (``ganzoo list``)
    import torch
    from torch import Tensor

_MAX_HEADER = 100 * 1024 * 1024
_MAX_JSON = 64 * 1024 * 1024  # config.json, trainer.json, eval.json: kilobytes in practice
_UMASK = os.umask(0)
os.umask(_UMASK)
OLD_SUFFIX = ".old"  # a folder swapped out by replace_folder where renameat2 is not available
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` only once it is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; saved files get the usual permissions
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """An empty folder in ``parent`` with the permissions the user's umask gives (mkdtemp makes 0700)."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(tmp, 0o777 & ~_UMASK)
    return tmp


def replace_folder(new: Path, final: Path) -> None:
    """Put the complete folder ``new`` at ``final``; an existing ``final`` is replaced as a whole, so a
    reader (or a crash) sees the old folder or the new one, never a mix of their files."""
    if not final.exists() and not final.is_symlink():
        os.replace(new, final)
        return
    if _exchange(new, final):  # one atomic step; ``new`` now holds the old folder
        shutil.rmtree(new, ignore_errors=True)
        return
    old = final.with_name(f".{final.name}{OLD_SUFFIX}")  # put back by recover_folder after a crash
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def recover_folder(final: Path) -> None:
    """Undo a :func:`replace_folder` killed between its two renames: the old folder goes back in place."""
    old = final.with_name(f".{final.name}{OLD_SUFFIX}")
    if old.is_dir() and not final.exists():
        os.replace(old, final)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux's renameat2(RENAME_EXCHANGE); False where it does not exist."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not glibc/Linux
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # an old kernel or a file system without it
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_json(path: str | Path, data: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n"))


def write_safetensors(path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> None:
    from safetensors.torch import save_file  # imports torch: deferred so reading JSON stays torch-free

    # safetensors refuses shared or strided storage; weights are small enough to copy.
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    write_atomic(path, lambda p: save_file(plain, str(p), metadata=metadata))


def sniff(path: Path) -> str | None:
    """Name the format of a file that is *not* safetensors, or None if it may be."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[:2] == b"PK":
        return "a zip archive (torch.save format)"
    # A valid safetensors header first: its length field can itself start with bytes 80 02..05.
    if len(head) >= 9 and head[8:9] == b"{" and 0 < struct.unpack("<Q", head[:8])[0] <= _MAX_HEADER:
        return None
    if head[:1] == b"\x80" and len(head) > 1 and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    if len(head) < 8:
        return "too short to be safetensors"
    (header_len,) = struct.unpack("<Q", head[:8])
    if header_len == 0 or header_len > _MAX_HEADER or head[8:9] != b"{":
        return "not safetensors (bad header)"
    return None


def read_safetensors(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict[str, Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file; a one-line :class:`CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file {path} {_why_not_a_file(path)}; re-download, re-export or re-save it")
    problem = sniff(path)
    if problem:
        raise CheckpointError(f"{path} is {problem}; ganzoo only loads .safetensors weights, never pickles")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as fh:
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
            metadata = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for truncation/corruption
        raise CheckpointError(f"{path} is corrupt or truncated ({exc}); re-download or re-save it") from exc
    return tensors, metadata


def _why_not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a file: missing, a dangling or looping link, or not a regular file."""
    if path.is_symlink() and not path.exists():
        return "is a symbolic link that leads nowhere (dangling or in a loop)"
    if path.exists():
        return "is not a regular file (a folder, a device or a pipe)"
    return "does not exist"


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path, what: str = "file") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{what} {path} {_why_not_a_file(path)}")
    if path.stat().st_size > _MAX_JSON:
        raise CheckpointError(f"{what} {path} is larger than {_MAX_JSON >> 20} MB, which no ganzoo JSON file is; restore or regenerate it")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{what} {path} is not valid JSON ({exc}); restore or regenerate it") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{what} {path} must hold a JSON object")
    return data
