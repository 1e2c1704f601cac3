"""The evaluation protocol recorded next to every figure.

FID and friends move by whole points with the feature network, the resize, the quantization and
the sample counts (Lucic et al. 2018; Parmar et al. 2022, "On Aliased Resizing and Surprising
Subtleties in GAN Evaluation"), so a figure without these is not comparable to anything.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

from .. import __version__
from .preprocessing import COLOR_HANDLING, INPUT_SCALING, PREPROCESSING_VERSION, QUANTIZATION, RESIZE_METHOD


def ganzoo_version() -> str:
    """Installed distribution version, else the package attribute, else 'unknown'."""
    try:
        return metadata.version("ganzoo")
    except metadata.PackageNotFoundError:
        pass
    return __version__ or "unknown"


@dataclass
class Protocol:
    """How a set of figures was produced."""

    feature_network: str
    weights_sha256: str
    n_real: int
    n_generated: int
    real_split: str
    seed: int
    real_dataset: str | None = None
    resize: str = RESIZE_METHOD
    quantization: str = QUANTIZATION
    color: str = COLOR_HANDLING
    input_scaling: str = INPUT_SCALING
    preprocessing_version: str = PREPROCESSING_VERSION
    feature_precision: str = "fp32"  # the feature network's pass: fp32 is the standard figure
    generator_precision: str = "fp32"  # how the generated images were computed (autocast dtype)
    ganzoo_version: str = field(default_factory=ganzoo_version)
    extra: dict[str, Any] = field(default_factory=dict)  # metric settings: KID subsets, PRDC k, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
