"""The Python front door: list, create, register and train by name."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from . import registry
from .build import PluginSpec, build_model
from .contracts import GANModel


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


def train(arch: str, loss: str, dataset: str, out: str | Path, *, resume: bool = False, progress: bool = True, **settings: Any):
    """Train a run from Python; ``settings`` are :class:`~ganzoo.engine.config.TrainConfig` fields."""
    from .engine.config import TrainConfig
    from .engine.trainer import Trainer

    def spec(value: Any) -> PluginSpec:
        return value if isinstance(value, PluginSpec) else PluginSpec(value)

    tricks = [spec(t) for t in settings.pop("tricks", [])]
    config = TrainConfig(arch=spec(arch), loss=spec(loss), dataset=spec(dataset), tricks=tricks, **settings)
    return Trainer(config, out, resume=resume, progress=progress).fit()
