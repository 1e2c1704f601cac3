"""Sample grids as PNG: image samples tiled, 2D points drawn as a scatter plot."""
from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from ..safeio import write_atomic


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] float images to uint8, exactly as a PNG stores them (metrics use the same rule)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> Tensor:
    """Tile NCHW images in [-1, 1] into one uint8 HWC array."""
    n, c, h, w = images.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / nrow))
    pixels = to_uint8(images.cpu())
    if c == 1:
        pixels = pixels.expand(n, 3, h, w)
    grid = torch.zeros(3, rows * (h + padding) + padding, nrow * (w + padding) + padding, dtype=torch.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = pixels[i]
    return grid.permute(1, 2, 0).contiguous()


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


def save_samples(samples: Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """A grid for images, a scatter plot for points."""
    if samples.dim() == 4:
        return save_png(image_grid(samples, nrow), path)
    if samples.dim() == 2 and samples.shape[1] == 2:
        return save_png(points_plot(samples), path)
    raise ValueError(f"cannot draw samples of shape {tuple(samples.shape)}")
