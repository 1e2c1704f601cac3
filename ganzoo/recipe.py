"""A published model's config.json as the recipe of a new run: ``ganzoo train --from SOURCE``.

An export's config.json records everything its run was trained with: the plugins with their
arguments and the engine settings. ``read_recipe`` turns it back into a :class:`TrainConfig`
that trains to the step the published weights come from, and ``override`` lays the options the
user gave explicitly on top of it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import registry
from .build import PluginSpec
from .engine.config import TrainConfig
from .errors import CheckpointError, GanzooError
from .hub import locate
from .layout import CONFIG, is_run
from .loading import check_section, plugin_sections, require_plugin, run_config
from .safeio import read_json

# Architecture arguments the engine fills from the data (contracts.DataSpec.architecture_defaults):
# a recipe trained on other data must not pin them to the published model's shape.
DATA_FILLED = ("image_size", "channels", "num_classes", "data_dim")


@dataclass
class Recipe:
    config: TrainConfig
    where: str  # where its config.json was found
    # What differs from the published run, said to the user: (the setting it concerns, the note).
    notes: list[tuple[str, str]] = field(default_factory=list)


def read_recipe(source: str | os.PathLike[str]) -> Recipe:
    """The recipe of a zoo id, Hub repo id, export folder or run: only its config.json is read."""
    folder, where = locate(source, need_weights=False)
    data = run_config(folder) if is_run(folder) else read_json(folder / CONFIG, "model config")
    return _from_json(data, folder / CONFIG, where)


def _from_json(data: dict[str, Any], path: Path, where: str) -> Recipe:
    _check_plugins(data, path)
    try:
        config = TrainConfig.from_json(data)
        config.validate()
    except GanzooError as exc:
        raise CheckpointError(f"{path} does not hold a valid training recipe ({exc})") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CheckpointError(f"{path} is not a ganzoo training config; pass a zoo id, an export or a run") from None
    notes = []
    weights = data.get("weights") if isinstance(data.get("weights"), dict) else {}
    step = weights.get("step")
    if isinstance(step, int) and step > 0 and step != config.steps:
        notes.append(("steps", f"--steps {step}: the step the published weights come from (its run was set to {config.steps})"))
        config.steps = step
        if config.time_budget_s is not None:
            notes.append(("time_budget_s", f"no --time-budget: the published run stopped at step {step} by its budget of "
                          f"{config.time_budget_s:g} s"))
            config.time_budget_s = None
    for change in data.get("resume_changes") or []:
        if isinstance(change, dict):
            notes.append((str(change.get("setting")), f"the published run changed {change.get('setting')} from {change.get('from')} "
                          f"to {change.get('to')} at step {change.get('step')} on a resume; this run keeps the first value throughout"))
    return Recipe(config, where, notes)


def _check_plugins(data: dict[str, Any], path: Path) -> None:
    """Every plugin the recipe names: a valid section, and installed (else which package to install)."""
    sections = plugin_sections(data, path)
    for kind, key in ((registry.losses, "loss"), (registry.datasets, "dataset")):
        section = data.get(key)
        if not isinstance(section, dict):
            raise CheckpointError(f"{path} has no {key!r} object; it is not a ganzoo training config")
        check_section(kind, section, path)
        sections.append((kind, section))
    for kind, section in sections:
        require_plugin(kind, section)


def _merged(recipe: PluginSpec, name: str | None, args: dict[str, Any]) -> PluginSpec:
    """The recipe's plugin with the given arguments on top, or another plugin with only those."""
    if name is not None and name != recipe.name:
        return PluginSpec(name, dict(args))
    return PluginSpec(recipe.name, {**recipe.args, **args})


def override(recipe: TrainConfig, *, arch: str | None = None, arch_args: dict[str, Any] | None = None,
             loss: str | None = None, loss_args: dict[str, Any] | None = None, dataset: str | None = None,
             data_args: dict[str, Any] | None = None, tricks: list[PluginSpec] | None = None,
             settings: dict[str, Any] | None = None) -> TrainConfig:
    """``recipe`` with what the user gave explicitly: another plugin replaces the recipe's (with only
    its given arguments), the same plugin keeps the recipe's arguments under the given ones, given
    tricks replace the recipe's list, and each given engine setting replaces the recipe's."""
    arch_args, data_args = dict(arch_args or {}), dict(data_args or {})
    data = _merged(recipe.dataset, dataset, data_args)
    model = _merged(recipe.arch, arch, arch_args)
    if data.name != recipe.dataset.name or set(data_args) - {"data_dir"}:  # other data: its shape fills these again
        model = PluginSpec(model.name, {k: v for k, v in model.args.items() if k not in DATA_FILLED or k in arch_args})
    return replace(
        recipe,
        arch=model,
        loss=_merged(recipe.loss, loss, dict(loss_args or {})),
        dataset=data,
        tricks=list(tricks) if tricks else [PluginSpec(t.name, dict(t.args)) for t in recipe.tricks],
        **(settings or {}),
    )
