"""The one image preprocessing used in front of the Inception feature network.

Every FID/KID/PRDC/IS figure in ganzoo goes through exactly these steps, in this order, so that
figures from different runs (and the cached reference statistics) are comparable:

1. **Quantize to uint8.** Float images from generators are taken to be in [-1, 1] and quantized
   the way ganzoo's sample grids are written (:func:`ganzoo.pixels.quantize`, one function for
   both): ``floor(255 * (x + 1) / 2 + 0.5)`` on the exact (float64) value, clamped to [0, 255],
   i.e. round half up. uint8 input is used as is. Quantizing generated images
   is part of the Lucic et al. (2018) protocol: real images are stored as 8-bit files, so an
   unquantized generator would be scored on information no dataset contains.
2. **Grayscale → RGB** by tiling the single channel three times (Lucic et al. 2018).
3. **Resize to 299×299** with ``torch.nn.functional.interpolate(mode="bilinear",
   align_corners=False, antialias=False)`` on the 0..255 values (no re-quantization after the
   resize). This is the half-pixel bilinear resize of pytorch-fid and TF2 ``tf.image.resize``.
   TF1's legacy ``ResizeBilinear`` inside the original 2015 graph samples at ``dst * in/out``
   without the half-pixel offset, so absolute FIDs can differ slightly from TF1-era papers; the
   choice is recorded in every :class:`~ganzoo.metrics.protocol.Protocol`.
4. **Scale to the network's input range** ``(x - 128) / 128`` ∈ [-1, 0.9921875], the range the
   Inception-2015-12-05 graph was exported with.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ..pixels import quantize

INCEPTION_SIZE = 299
# Bump whenever any step above changes: it is part of the reference-statistics cache key.
PREPROCESSING_VERSION = "ganzoo-inception-pre-v1"
QUANTIZATION = "float [-1,1] -> uint8 floor(255*(x+1)/2+0.5), clamp [0,255] (PNG-like); uint8 kept"
RESIZE_METHOD = "bilinear 299x299, torch interpolate align_corners=False antialias=False, on 0..255 floats"
COLOR_HANDLING = "grayscale tiled to 3 channels"
INPUT_SCALING = "(x-128)/128"

# Floats far outside [-1, 1] usually mean a [0, 255] or [0, 1] tensor was passed by mistake.
_SUSPICIOUS_FLOAT_MAX = 2.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Quantize images to uint8 exactly like ganzoo writes a PNG (:func:`ganzoo.pixels.quantize`).

    uint8 input is returned unchanged; float input is taken to be in [-1, 1].
    """
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise TypeError(f"images must be uint8 or float in [-1, 1], got dtype {images.dtype}")
    if images.numel() and images.detach().abs().max().item() > _SUSPICIOUS_FLOAT_MAX:
        warnings.warn(
            "float images with values beyond ±2: ganzoo expects float images in [-1, 1] "
            "(pass uint8 for 0..255 data); values are clamped",
            stacklevel=2,
        )
    return quantize(images)


def as_nchw(images: torch.Tensor) -> torch.Tensor:
    """Accept [N, H, W] (grayscale) or [N, C, H, W] with C in {1, 3}; return NCHW."""
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"images must be [N, C, H, W] with C = 1 or 3 (or [N, H, W]), got shape {tuple(images.shape)}"
        )
    return images


def inception_preprocess(images: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """Turn a batch of images into Inception input: float32 [N, 3, 299, 299] in [-1, 0.9921875]."""
    pixels = to_uint8(as_nchw(images))
    if device is not None:
        pixels = pixels.to(device)
    x = pixels.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = F.interpolate(
            x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False, antialias=False
        )
    return (x - 128.0) / 128.0
