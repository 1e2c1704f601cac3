"""Picking the device a run or a loaded model uses."""
from __future__ import annotations

import torch

from ..errors import ConfigError


def pick_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, else the CPU; an unusable choice is a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was requested but no CUDA GPU is available; use --device cpu")
    return device
