"""The Python front door: load, list, create, register and train by name."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import torch

from . import hub, registry
from .build import PluginSpec, build_model
from .contracts import GANModel
from .engine.config import TrainConfig
from .engine.device import pick_device
from .engine.trainer import Trainer, TrainResult
from .errors import ConfigError
from .layout import CONFIG, is_run
from .loading import load_folder
from .pretrained import PretrainedGenerator
from .safeio import read_json


def load(
    source: str | os.PathLike[str],
    *,
    revision: str | None = None,
    device: Any = "cpu",
    dtype: Any = None,
    ema: bool = True,
    discriminator: bool = False,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
) -> PretrainedGenerator:
    """A pretrained generator, in eval mode on ``device`` (and ``dtype``), ready to ``sample``.

    ``source``: a Hub repo id (``org/name``, optionally ``@revision``), a zoo model name
    (``dcgan-fashion-mnist``), an exported model folder or a training run; see ganzoo/hub.py for
    the order in which places are tried, online and offline. ``ema=False`` returns the raw
    generator instead of its EMA average; ``discriminator=True`` also loads the discriminator (and
    any encoder) for fine-tuning, as ``G.discriminator`` / ``G.model``. ``local_files_only``
    defaults to ``HF_HUB_OFFLINE``.
    """
    target = pick_device(str(device))  # a torch.device too: "meta" and absent GPUs are refused in one line
    torch_dtype = _dtype(dtype)
    folder, where = hub.locate(source, revision=revision, ema=ema, discriminator=discriminator, cache_dir=cache_dir,
                               local_files_only=local_files_only, endpoint=endpoint, token=token)
    G = load_folder(folder, ema=ema, discriminator=discriminator)
    if not is_run(folder):  # a run's origin already names its checkpoint and weights
        G.origin = where  # where the weights came from, for messages and debugging
    return G.to(target, torch_dtype)


def load_config(source: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
    """The config.json of a model or run (no weights are downloaded); same sources as :func:`load`."""
    folder, _ = hub.locate(source, need_weights=False, **kwargs)
    return read_json(folder / CONFIG, "model config")


def _dtype(dtype: Any) -> torch.dtype | None:
    if dtype is None:
        return dtype
    value = dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype).removeprefix("torch."), None)
    if not isinstance(value, torch.dtype):
        raise ConfigError(f"unknown dtype {dtype!r}; use e.g. float32, float16 or bfloat16")
    if not value.is_floating_point:  # a generator's weights and samples are floating point
        raise ConfigError(f"dtype {dtype!r} is not a floating-point type; use e.g. float32, float16 or bfloat16")
    return value


def _lister(kind: registry.Registry) -> Callable[[str | None], list[str]]:
    def names(pattern: str | None = None) -> list[str]:
        """Registered names, optionally filtered by an fnmatch pattern such as ``"dcgan*"``."""
        return kind.names(pattern)

    return names


list_architectures = _lister(registry.architectures)
list_losses = _lister(registry.losses)
list_datasets = _lister(registry.datasets)
list_tricks = _lister(registry.tricks)

register_architecture = registry.architectures.register
register_loss = registry.losses.register
register_dataset = registry.datasets.register
register_trick = registry.tricks.register


def create(arch: str, *, tricks: list[str] | None = None, **args: Any) -> GANModel:
    """Build an architecture by name with typed arguments, e.g. ``create("dcgan", image_size=32)``."""
    model, _, _, _ = build_model(PluginSpec(arch, args), [PluginSpec(t) for t in tricks or []], None)
    return model


def train(arch: str, loss: str, dataset: str, out: str | Path, *, resume: bool = False, progress: bool = True,
          init_from: str | os.PathLike[str] | None = None, **settings: Any) -> TrainResult:
    """Train a run from Python; ``settings`` are :class:`~ganzoo.engine.config.TrainConfig` fields.
    ``init_from`` (a zoo id, Hub repo id, export with its discriminator, or run) starts the networks
    from that model's raw weights, to fine-tune it (ganzoo/finetune.py)."""

    def spec(value: Any) -> PluginSpec:
        return value if isinstance(value, PluginSpec) else PluginSpec(value)

    tricks = [spec(t) for t in settings.pop("tricks", [])]
    config = TrainConfig(arch=spec(arch), loss=spec(loss), dataset=spec(dataset), tricks=tricks, **settings)
    return Trainer(config, out, resume=resume, progress=progress, init_from=init_from).fit()
