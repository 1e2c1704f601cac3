"""The Fashion-MNIST classifier ganzoo ships for its class-based metrics.

A small CNN (three conv stages with batch norm, global average pooling) trained by
``benchmarks/classifier/train_classifier.py``; its weights are package data in safetensors, and
the file's sha256 is pinned here, so a figure computed with it names exactly which network judged
the samples (the protocol records the hash). Input: [N, 1, 28, 28] images in [-1, 1] as ganzoo
generators and datasets produce them (uint8 images are scaled the same way); output: 10 logits
in Fashion-MNIST's class order.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import CheckpointError
from ..pixels import from_uint8
from ..safeio import read_safetensors, sha256_file

WEIGHTS_FILE = Path(__file__).parent / "weights" / "fashion-mnist-classifier.safetensors"
# Pinned so a corrupt or swapped file is refused rather than silently scoring with other weights;
# train_classifier.py prints the new value when the network is retrained.
WEIGHTS_SHA256 = "1927e6844b7b91220703949ad2e32f44bf3638ed698bc6903463124443ce4de4"
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_SHAPE: tuple[int, int, int] = (1, 28, 28)


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class FashionMNISTClassifier(nn.Module):
    """Conv-BN-ReLU stages at 28, 14 and 7 px, global average pooling, one linear layer."""

    def __init__(self, width: int = 32, num_classes: int = 10) -> None:
        super().__init__()
        if width <= 0 or num_classes <= 1:
            raise ValueError(f"width must be positive and num_classes above 1 (got {width}, {num_classes})")
        self.width, self.num_classes = width, num_classes
        w = width
        self.features = nn.Sequential(
            *_block(1, w), nn.MaxPool2d(2),
            *_block(w, 2 * w), *_block(2 * w, 2 * w), nn.MaxPool2d(2),
            *_block(2 * w, 4 * w), *_block(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(4 * w, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.uint8:
            x = from_uint8(x)
        if tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"the Fashion-MNIST classifier takes [N, 1, 28, 28] images, got {tuple(x.shape)}")
        return self.head(self.features(x.float()))


def load_classifier(
    path: str | Path = WEIGHTS_FILE, expected_sha256: str | None = WEIGHTS_SHA256, device: torch.device | str = "cpu"
) -> FashionMNISTClassifier:
    """The classifier in eval mode, from ``path`` after checking its sha256 (None skips the check)."""
    path = Path(path)
    if expected_sha256 is not None and path.is_file():
        found = sha256_file(path)
        if found != expected_sha256:
            raise CheckpointError(
                f"{path} has sha256 {found[:12]}..., not the shipped classifier's {expected_sha256[:12]}...; "
                "reinstall ganzoo (pip install --force-reinstall ganzoo) or retrain it with benchmarks/classifier/train_classifier.py"
            )
    tensors, metadata = read_safetensors(path)
    try:
        model = FashionMNISTClassifier(width=int(metadata.get("width", 32)), num_classes=int(metadata.get("num_classes", 10)))
        model.load_state_dict(tensors, strict=True)
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path} does not hold FashionMNISTClassifier weights ({str(exc).splitlines()[0]}); retrain or reinstall it") from exc
    return model.to(device).eval()

