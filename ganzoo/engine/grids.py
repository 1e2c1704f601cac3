"""Sample grids as PNG: image samples tiled, 2D points drawn as a scatter plot."""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

from ..pixels import quantize
from ..safeio import write_atomic


# The metrics quantize with this very function, so a grid shows exactly the pixels they score.
to_uint8 = quantize


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> Tensor:
    """Tile NCHW images in [-1, 1] into one uint8 HWC array, ``nrow`` images per row.

    Quantized first, then tiled by ``torchvision.utils.make_grid`` (black padding; grayscale
    shown as RGB), so the padding never goes through the float rule.
    """
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    pixels = quantize(images.cpu())
    grid = make_grid(pixels, nrow=nrow, padding=padding)
    if len(pixels) == 1:  # make_grid returns a lone image as it is; give it the frame every grid has
        grid = F.pad(grid, [padding] * 4)
    return grid.permute(1, 2, 0).contiguous()


def class_layout(num_classes: int, side: int = 8) -> tuple[Tensor, int]:
    """Labels for a conditional model's sample grid, and its images per row.

    Up to ``side`` classes: a ``side`` x ``side`` grid with one class per row (cycling). More
    classes than rows: one column per class, ``side`` rows, so every class is shown (a 10-class
    model gets 8 rows x 10 columns, not classes 0-7 only).
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if num_classes <= side:
        return (torch.arange(side * side) // side) % num_classes, side
    return torch.arange(side * num_classes) % num_classes, num_classes


def points_plot(points: Tensor, size: int = 384, centers: Tensor | None = None) -> Tensor:
    """Rasterise 2D points (and optional mode centres) into a uint8 HWC scatter plot."""
    pts = points.detach().float().cpu()
    ref = pts if centers is None else torch.cat([pts, centers.float()])
    span = float(ref.abs().max().clamp(min=1.0)) * 1.15
    canvas = torch.full((size, size, 3), 255, dtype=torch.uint8)

    def plot(p: Tensor, colour: tuple[int, int, int], radius: int) -> None:
        ij = ((p / span + 1) / 2 * (size - 1)).round().long()
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                x = (ij[:, 0] + dx).clamp(0, size - 1)
                y = (size - 1 - ij[:, 1] + dy).clamp(0, size - 1)
                canvas[y, x] = torch.tensor(colour, dtype=torch.uint8)

    plot(pts, (30, 90, 200), 1)
    if centers is not None:
        plot(centers.float(), (220, 40, 40), 2)
    return canvas


def save_png(array_hwc: Tensor, path: str | Path) -> Path:
    path = Path(path)
    image = Image.fromarray(array_hwc.numpy())
    write_atomic(path, lambda p: image.save(p, format="PNG"))
    return path


def sample_picture(samples: Tensor, nrow: int | None = None) -> Tensor:
    """Samples as one uint8 HWC picture: a grid for images, a scatter plot for 2D points."""
    if samples.dim() == 4:
        return image_grid(samples, nrow)
    if samples.dim() == 2 and samples.shape[1] == 2:
        return points_plot(samples)
    raise ValueError(f"cannot draw samples of shape {tuple(samples.shape)}")


def save_samples(samples: Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """:func:`sample_picture` written as a PNG."""
    return save_png(sample_picture(samples, nrow), path)
