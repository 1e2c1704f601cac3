"""The one rule that turns float images in [-1, 1] into 8-bit pixels.

Sample grids (``ganzoo.engine.grids``), PIL images (``PretrainedGenerator.to_pil``) and the metrics'
quantization (``ganzoo.metrics.preprocessing``) all call :func:`quantize`, so a saved PNG holds
exactly the pixels the metrics score.

Rule: ``v = 255 * (x + 1) / 2``, then round half up (``floor(v + 0.5)``), clamped to [0, 255].
``v`` is computed in float64: every float32, bfloat16 or float16 value is exact there, and so are
``x + 1`` and the products, so halves round up on the exact value rather than on whatever float32
round-off leaves of it. Float images of uint8 data (:func:`from_uint8`, what datasets feed the
engine) come back as ``u``.
"""
from __future__ import annotations

import torch
from torch import Tensor


def from_uint8(pixels: Tensor) -> Tensor:
    """8-bit pixels to float images in [-1, 1] (``u / 127.5 - 1``), the inverse :func:`quantize` keeps exact."""
    return pixels.float().div_(127.5).sub_(1.0)


def quantize(images: Tensor) -> Tensor:
    """Float images in [-1, 1] to uint8 (the rule above); out-of-range values are clamped."""
    images = images.detach()
    if images.device.type == "mps":  # MPS has no float64; the rule needs it to be exact
        images = images.cpu()
    v = (images.to(torch.float64) + 1.0) * 127.5
    return torch.floor(v + 0.5).clamp_(0.0, 255.0).to(torch.uint8)
