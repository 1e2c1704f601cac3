"""ganzoo: a plugin-based GAN model zoo.

    import ganzoo
    G = ganzoo.load("ganzoo/dcgan-fashion-mnist")     # a pretrained generator in one line
    images = G.sample(16, seed=0)

Importing ganzoo is cheap: torch and the plugins load on first use.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute", imported on first access
_LAZY = {
    "load": "ganzoo.api:load",
    "load_config": "ganzoo.api:load_config",
    "push": "ganzoo.hub:push",
    "create": "ganzoo.api:create",
    "list_architectures": "ganzoo.api:list_architectures",
    "list_losses": "ganzoo.api:list_losses",
    "list_datasets": "ganzoo.api:list_datasets",
    "list_tricks": "ganzoo.api:list_tricks",
    "list_pretrained": "ganzoo.zoo:list_pretrained",
    "register_architecture": "ganzoo.api:register_architecture",
    "register_loss": "ganzoo.api:register_loss",
    "register_dataset": "ganzoo.api:register_dataset",
    "register_trick": "ganzoo.api:register_trick",
    "train": "ganzoo.api:train",
    "traverse": "ganzoo.traversal:traverse",
    "Trainer": "ganzoo.engine.trainer:Trainer",
    "TrainConfig": "ganzoo.engine.config:TrainConfig",
    "PluginSpec": "ganzoo.build:PluginSpec",
    "PretrainedGenerator": "ganzoo.pretrained:PretrainedGenerator",
    "GANModel": "ganzoo.contracts:GANModel",
    "Generator": "ganzoo.contracts:Generator",
    "Discriminator": "ganzoo.contracts:Discriminator",
    "Loss": "ganzoo.contracts:Loss",
    "Trick": "ganzoo.contracts:Trick",
    "DatasetPlugin": "ganzoo.contracts:DatasetPlugin",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
