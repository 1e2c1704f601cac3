"""Starting a new run from a published model's weights: ``ganzoo train --init-from SOURCE``.

Fine-tuning needs both players: the generator alone gives the discriminator nothing to start from,
and a fresh discriminator against a trained generator wrecks it in the first steps. So the source
must ship its discriminator: an export made with ``--include-discriminator`` (its
discriminator.safetensors holds the whole raw model: raw generator, discriminator, any encoder)
or a training run (its newest checkpoint). Both players start from their raw weights, the ones the
optimizer was moving (an EMA average is a smoothed copy, not a point on the training trajectory);
optimizer, loss and trick state start fresh, and the step count starts at 0.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from .build import PluginSpec
from .contracts import DataSpec, GANModel
from .engine import checkpoint
from .errors import CheckpointError, ConfigError
from .hub import locate
from .layout import CONFIG, discriminator_entry, is_run, weights_section
from .loading import model_specs, read_verified, run_config
from .safeio import read_json


@dataclass
class InitWeights:
    tensors: dict[str, Tensor]  # the whole raw model, keys as in model.state_dict()
    config: dict[str, Any]  # the source's config.json
    record: dict[str, Any]  # what the new run's config.json records under "init_from"


def read_init_weights(source: str | os.PathLike[str]) -> InitWeights:
    """The raw generator and discriminator of a run or an export (zoo id, Hub repo id or folder);
    an export without its discriminator is refused, saying how to make one that has it."""
    folder, where = locate(source, ema=False, discriminator=True)
    record: dict[str, Any] = {"source": os.fspath(source), "where": where, "generator": "raw", "discriminator": "raw"}
    if is_run(folder):
        found = checkpoint.load_latest(folder)
        if found is None:
            raise CheckpointError(f"--init-from {folder} has no checkpoint yet; train it first")
        ckpt, step, weights, _ = found
        tensors = checkpoint.sections(weights).get(checkpoint.MODEL, {})
        return InitWeights(tensors, run_config(folder), {**record, "step": step, "checkpoint": ckpt.name})
    config = read_json(folder / CONFIG, "model config")
    weights = weights_section(config, folder)
    entry = discriminator_entry(weights, folder, f", which --init-from {os.fspath(source)} needs to continue training")
    tensors = read_verified(folder / entry["file"], entry.get("sha256"))
    return InitWeights(tensors, config, {**record, "model_id": weights.get("model_id"), "step": weights.get("step"),
                                         "sha256": entry.get("sha256")})


def initialize(model: GANModel, init: InitWeights, arch: PluginSpec, tricks: list[PluginSpec], data: DataSpec) -> None:
    """Load ``init`` into the new run's ``model``, after checking that the run builds the same
    networks on data of the same shape (each mismatch named, with what to change)."""
    source = init.record["source"]
    theirs, their_tricks = model_specs(init.config, f"config.json of {source}")
    if theirs.name != arch.name or [t.name for t in their_tricks] != [t.name for t in tricks]:
        mine = " + ".join([arch.name, *(t.name for t in tricks)])
        raise ConfigError(f"--init-from {source} is a {' + '.join([theirs.name, *(t.name for t in their_tricks)])} model, "
                          f"this run builds {mine}; drop --arch/--trick to train the source's networks")
    shape = init.config.get("data_shape")
    if isinstance(shape, list) and tuple(shape) != tuple(data.shape):
        hint = (f"; pass --data-arg image_size={shape[1]} --data-arg channels={shape[0]} if the dataset resizes"
                if len(shape) == 3 else "")
        raise ConfigError(f"--init-from {source} generates data of shape {tuple(shape)} but this dataset's samples are "
                          f"{tuple(data.shape)}{hint}")
    try:
        checkpoint.load_strict(model, init.tensors, f"--init-from {source}")
    except CheckpointError as exc:
        raise ConfigError(f"{exc}; drop the --arch-arg/--trick options that change the networks") from None


__all__ = ["InitWeights", "initialize", "read_init_weights"]
