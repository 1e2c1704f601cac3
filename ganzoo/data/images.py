"""Image datasets: Fashion-MNIST, MNIST, CIFAR-10, CelebA and a user's own image folder.

Every file format here is parsed by ganzoo itself (IDX, the CIFAR-10 binary batches, image files):
nothing is unpickled, so a hostile file can at worst be rejected.
"""
from __future__ import annotations

import gzip
import os
import struct
import sys
from collections import Counter
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torchvision import datasets
from torchvision.datasets.utils import download_and_extract_archive

from ..architectures.common import pyramid_sizes
from ..contracts import IMAGES, LABELS, Batch, DataSpec, DatasetPlugin
from ..errors import DataUnavailableError
from ..pixels import from_uint8
from .base import TensorDataset

# Debian's dataset-fashion-mnist package installs the IDX files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
SCAN_SAMPLE = 64  # images an ImageFolder reads (headers only) to choose its size and channels
GRAYSCALE_MODES = {"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}  # PIL modes with one colour channel


def default_data_root() -> Path:
    return Path(os.environ.get("GANZOO_DATA", Path.home() / ".cache" / "ganzoo" / "data"))


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) as used by (Fashion-)MNIST, validating its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataUnavailableError(f"cannot read {path}: {exc}; delete it and download again") from exc
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataUnavailableError(f"{path} is not an unsigned-byte IDX file; delete it and download again")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataUnavailableError(f"{path} is truncated ({body.size} of {int(np.prod(dims))} bytes); download it again")
    return body.reshape(dims)


def _find_idx(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem, directory / "raw" / f"{stem}.gz", directory / "raw" / stem):
        if candidate.is_file():
            return candidate
    return None


class _IDXDataset(TensorDataset):
    """(Fashion-)MNIST from IDX files: a --data-dir, the Debian path, or a torchvision download."""

    provides: ClassVar[frozenset[str]] = frozenset({IMAGES, LABELS})
    torchvision_name: ClassVar[str] = ""
    search_dirs: ClassVar[tuple[Path, ...]] = ()
    install_hint: ClassVar[str] = ""

    def __init__(self, data_dir: str | None = None, split: str = "train", download: bool = True) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        prefix = "train" if split == "train" else "t10k"
        directory = self._locate(data_dir, prefix, download)
        images = read_idx(_find_idx(directory, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_find_idx(directory, f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataUnavailableError(f"IDX files in {directory} do not match (images {images.shape}, labels {labels.shape})")
        x = torch.from_numpy(images.copy()).unsqueeze(1)
        super().__init__(x, torch.from_numpy(labels.astype(np.int64)), 10, self.provides)
        self.directory = directory

    def _locate(self, data_dir: str | None, prefix: str, download: bool) -> Path:
        stem = f"{prefix}-images-idx3-ubyte"
        root = default_data_root() / self.torchvision_name
        candidates = [Path(data_dir)] if data_dir else [*self.search_dirs, root]
        for directory in candidates:
            if _find_idx(directory, stem):
                return directory
        if data_dir is None and download:
            try:
                getattr(datasets, self.torchvision_name)(str(root.parent), train=prefix == "train", download=True)
            except Exception as exc:  # offline: torchvision raises URLError/RuntimeError
                raise DataUnavailableError(
                    f"{self.torchvision_name} is not on disk and could not be downloaded ({type(exc).__name__}); "
                    f"{self.install_hint}pass --data-dir DIR with the IDX files"
                ) from exc
            if _find_idx(root, stem):
                return root
        where = data_dir or ", ".join(str(c) for c in candidates)
        raise DataUnavailableError(f"no {stem} file found in {where}; {self.install_hint}pass --data-dir DIR with the IDX files")


class FashionMNIST(_IDXDataset):
    """Fashion-MNIST: 70k 28x28 grayscale clothing images in 10 classes (Xiao et al. 2017)."""

    pretty_name = "Fashion-MNIST"
    hub_dataset = "zalando-datasets/fashion_mnist"
    license = "mit"  # Fashion-MNIST is MIT-licensed
    torchvision_name = "FashionMNIST"
    search_dirs = (DEBIAN_FASHION_MNIST,)
    install_hint = "install it with `apt-get install dataset-fashion-mnist`, or "


class MNIST(_IDXDataset):
    """MNIST: 70k 28x28 grayscale handwritten digits (LeCun et al. 1998)."""

    pretty_name = "MNIST"
    hub_dataset = "ylecun/mnist"
    license = "mit"  # as the Hub's copy of MNIST declares
    torchvision_name = "MNIST"


class CIFAR10(TensorDataset):
    """CIFAR-10: 60k 32x32 colour images in 10 classes (Krizhevsky 2009), from the binary batches."""

    provides = frozenset({IMAGES, LABELS})
    pretty_name = "CIFAR-10"
    hub_dataset = "uoft-cs/cifar10"
    license = "unknown"  # CIFAR-10 was published without a licence
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"

    def __init__(self, data_dir: str | None = None, split: str = "train", download: bool = True) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        root = Path(data_dir) if data_dir else default_data_root() / "cifar10"
        folder = root / "cifar-10-batches-bin"
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
        if not all((folder / n).is_file() for n in names):
            if not download or data_dir is not None:
                raise DataUnavailableError(f"CIFAR-10 binary batches not found in {folder}; download {self.url} and extract it there")
            try:
                download_and_extract_archive(self.url, str(root), md5=self.md5)
            except Exception as exc:
                raise DataUnavailableError(
                    f"CIFAR-10 is not on disk and could not be downloaded ({type(exc).__name__}); "
                    f"fetch {self.url} on a connected machine and pass --data-dir"
                ) from exc
        records = []
        for name in names:
            raw = np.fromfile(folder / name, dtype=np.uint8)
            if raw.size % 3073:
                raise DataUnavailableError(f"{folder / name} is truncated; download CIFAR-10 again")
            records.append(raw.reshape(-1, 3073))
        table = np.concatenate(records)
        x = torch.from_numpy(table[:, 1:].reshape(-1, 3, 32, 32).copy())
        super().__init__(x, torch.from_numpy(table[:, 0].astype(np.int64)), 10, self.provides)


def _load_image(path: Path, image_size: int, channels: int) -> Tensor:
    """Open an image, centre-crop it square, resize it, and return uint8 CHW."""

    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side)).resize((image_size, image_size), Image.BICUBIC)
            arr = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise DataUnavailableError(f"cannot read image {path}: {exc}; remove or replace it") from exc
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return torch.from_numpy(arr.copy())


def _scan(files: list[Path], n: int = SCAN_SAMPLE) -> tuple[list[str], list[int]]:
    """PIL modes and short sides of up to ``n`` files spread over the list (headers only)."""
    picks = files if len(files) <= n else [files[i * len(files) // n] for i in range(n)]
    modes, sides = [], []
    for path in picks:
        try:
            with Image.open(path) as img:
                modes.append(img.mode)
                sides.append(min(img.size))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise DataUnavailableError(f"cannot read image {path}: {exc}; remove or replace it") from exc
    return modes, sides


def infer_shape(files: list[Path], num_classes: int, image_size: int | None, channels: int | None) -> dict[str, int]:
    """The ``image_size`` and ``channels`` not given, read from a sample of the files, and said once on
    stderr: 1 channel when every sampled image is grayscale, else 3; the most common short side,
    snapped to the nearest size the DCGAN pyramid supports (the smaller on a tie)."""
    modes, sides = _scan(files)
    inferred: dict[str, int] = {}
    if channels is None:
        inferred["channels"] = 1 if all(m in GRAYSCALE_MODES for m in modes) else 3
    if image_size is None:
        side = Counter(sides).most_common(1)[0][0]
        inferred["image_size"] = min(pyramid_sizes(), key=lambda size: (abs(size - side), size))
    _say_choice(inferred, len(files), num_classes, len(modes))
    return inferred


def _say_choice(inferred: dict[str, int], n_images: int, num_classes: int, scanned: int) -> None:
    words = {"channels": lambda c: f"{c} channel{'s' * (c > 1)}", "image_size": lambda px: f"{px} px"}
    chosen = ", ".join(words[key](value) for key, value in inferred.items())
    print(f"imagefolder: {n_images} images in {num_classes} class{'es' * (num_classes > 1)}; chose {chosen} from a scan "
          f"of {scanned} (pass --data-arg image_size=.. channels=.. to override)", file=sys.stderr)


class _FileImages(DatasetPlugin):
    """Images read from files on demand; labels from a parallel list."""

    def __init__(self, files: list[Path], labels: list[int], num_classes: int, image_size: int, channels: int) -> None:
        if image_size <= 0 or channels not in (1, 3):
            raise ValueError(f"image_size must be positive and channels 1 or 3 (got {image_size}, {channels})")
        self.files, self.labels = files, torch.tensor(labels, dtype=torch.long)
        provides = frozenset({IMAGES, LABELS}) if num_classes > 1 else frozenset({IMAGES})
        self._spec = DataSpec((channels, image_size, image_size), num_classes, provides)

    def spec(self) -> DataSpec:
        return self._spec

    def __len__(self) -> int:
        return len(self.files)

    def get_batch(self, indices: Tensor) -> Batch:
        c, size, _ = self._spec.shape
        x = torch.stack([_load_image(self.files[i], size, c) for i in indices.tolist()])
        y = self.labels[indices] if LABELS in self._spec.provides else None
        return Batch(from_uint8(x), y)


class ImageFolder(_FileImages):
    """A user's own images: a folder of images, or of one sub-folder per class.

    ``image_size`` and ``channels`` left out are read from a sample of the images (see
    :func:`infer_shape`), so 28 px grayscale digits train as such rather than as 64 px RGB upscales.
    """

    provides = frozenset({IMAGES})

    def __init__(self, data_dir: str | None = None, image_size: int | None = None, channels: int | None = None) -> None:
        if not data_dir:
            raise ValueError("imagefolder needs --data-dir DIR pointing at a folder of images")
        root = Path(data_dir)
        if not root.is_dir():
            raise DataUnavailableError(f"{root} is not a directory; pass --data-dir with a folder of images")
        classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        files: list[Path] = []
        labels: list[int] = []
        for label, folder in enumerate([root / c for c in classes] or [root]):
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                    files.append(path)
                    labels.append(label)
        if not files:
            raise DataUnavailableError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found under {root}")
        # What was read from the files: build_dataset records it with the run's arguments.
        self.inferred_args: dict[str, int] = {}
        if image_size is None or channels is None:
            self.inferred_args = infer_shape(files, max(len(classes), 1), image_size, channels)
        shape = {"image_size": image_size, "channels": channels, **self.inferred_args}
        super().__init__(files, labels, max(len(classes), 1), shape["image_size"], shape["channels"])


class CelebA(_FileImages):
    """CelebA: 200k aligned celebrity faces (Liu et al. 2015), centre-cropped and resized."""

    provides = frozenset({IMAGES})
    pretty_name = "CelebA"
    license = "other"  # CelebA's agreement: non-commercial research and educational use only
    license_link = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"

    def __init__(self, data_dir: str | None = None, split: str = "train", image_size: int = 64, download: bool = True) -> None:
        splits = {"train": 0, "valid": 1, "test": 2, "all": None}
        if split not in splits:
            raise ValueError(f"split must be one of {', '.join(splits)}, got {split!r}")
        root = Path(data_dir) if data_dir else default_data_root()
        folder = root / "celeba"
        if not (folder / "img_align_celeba").is_dir() or not (folder / "list_eval_partition.txt").is_file():
            if not download or data_dir is not None:
                raise DataUnavailableError(f"CelebA not found in {folder} (img_align_celeba/ and list_eval_partition.txt)")
            try:
                datasets.CelebA(str(root), split="all", download=True)
            except Exception as exc:  # torchvision's own words name the fix (e.g. "install gdown")
                reason = " ".join(str(exc).split())[:300] or type(exc).__name__
                raise DataUnavailableError(
                    f"CelebA is not on disk and could not be downloaded ({reason}); "
                    f"put img_align_celeba/ and list_eval_partition.txt under {folder}"
                ) from exc
        wanted = splits[split]
        files = []
        for line in (folder / "list_eval_partition.txt").read_text().split("\n"):
            parts = line.split()
            if len(parts) == 2 and (wanted is None or int(parts[1]) == wanted):
                files.append(folder / "img_align_celeba" / parts[0])
        super().__init__(files, [0] * len(files), 1, image_size, 3)
