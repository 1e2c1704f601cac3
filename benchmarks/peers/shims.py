"""Small, documented shims that let the older peers run on this torch/torchvision.

Nothing here edits a peer's installed files: each shim either puts a stand-in module into
``sys.modules`` before the peer is imported, or adjusts a peer *object* the benchmark built.
``run_one.py`` applies them only when the real thing is missing (and never with ``--no-shims``,
which the driver uses once per peer to record why the shim is needed), and reports which ran.
"""
from __future__ import annotations

import collections.abc
import importlib.machinery
import importlib.util
import math
import sys
import types
from typing import Any


def _module(name: str, doc: str) -> types.ModuleType:
    """An empty module with a spec (importlib.util.find_spec, which torch._dynamo calls on a list
    of third-party names, tensorflow among them, rejects a module in sys.modules without one)."""
    module = types.ModuleType(name, doc)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    return module


def stub_torch_six() -> str | None:
    """torch._six was removed in torch 2.0; torch-mimicry's ImageNet helpers import it at import
    time (``from torch._six import PY3``, ``torch._six.string_classes``). The stub holds the few
    names that module had."""
    import torch

    try:
        import torch._six  # noqa: F401
        return None
    except ImportError:
        pass
    six = _module("torch._six", "benchmark stand-in for torch._six (removed in torch 2.0)")
    six.PY3 = True
    six.PY37 = True
    six.string_classes = (str, bytes)
    six.int_classes = int
    six.inf = math.inf
    six.nan = math.nan
    six.container_abcs = collections.abc
    sys.modules["torch._six"] = six
    torch._six = six
    return "torch._six stub (PY3, string_classes, int_classes, inf, nan, container_abcs)"


def stub_tensorflow() -> str | None:
    """torch-mimicry's metrics package (FID/IS/KID with the TF Inception graph) imports tensorflow
    at import time, and ``import torch_mimicry`` imports the metrics package. Training never calls
    it, so an empty module stands in; any use of it fails loudly with AttributeError."""
    if importlib.util.find_spec("tensorflow") is not None:
        return None
    # TensorBoard (torch.utils.tensorboard, which mimicry's logger imports) uses tensorflow when it
    # can import it and its own stand-in otherwise: let it settle on its stand-in before the stub exists.
    if importlib.util.find_spec("tensorboard") is not None:
        import torch.utils.tensorboard  # noqa: F401
    sys.modules["tensorflow"] = _module("tensorflow", "benchmark stand-in: torch-mimicry's metrics import it; training does not use it")
    return "empty tensorflow module (only torch_mimicry.metrics imports it; training never calls it)"


def skip_torchgan_image_logging(trainer: Any) -> str | None:
    """torchgan 0.1.0's end-of-epoch ImageVisualize calls ``torchvision.utils.make_grid(...,
    range=(-1, 1))``; torchvision removed ``range`` (now ``value_range``), so the run raises
    TypeError at the end of its first epoch. The shim drops that visualizer from the trainer's
    logger (the image grid is written after the timed window anyway)."""
    hooks = trainer.logger.logger_end_epoch
    kept = [h for h in hooks if type(h).__name__ != "ImageVisualize"]
    if len(kept) == len(hooks):
        return None
    hooks[:] = kept
    return "torchgan ImageVisualize dropped from trainer.logger.logger_end_epoch (make_grid(range=) was removed from torchvision)"
