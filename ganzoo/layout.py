"""What ganzoo writes on disk, and how to tell a run from an export. Torch-free.

A training run (``ganzoo train --out RUN``)::

    RUN/config.json          what was trained: plugins with their arguments and distributions,
                             resolved hyper-parameters, the engine's settings
    RUN/summary.json         how training went (steps, wall time, hardware); see ganzoo.records
    RUN/eval.json            figures recorded by ``ganzoo eval --save``
    RUN/metrics.jsonl        the logged losses, one JSON object per line
    RUN/checkpoints/         complete checkpoints and the ``latest`` pointer (engine/checkpoint.py)
    RUN/samples/             fixed-noise sample grids

An export (``ganzoo export RUN OUT``, what ``model_cards/<model-id>/`` holds and ``ganzoo push``
uploads)::

    config.json                 the run's config plus a ``weights`` section (file, sha256, which
                                generator, format version, model id), the training summary and
                                the evaluation results the card is rendered from
    model.safetensors           the generator alone (its EMA average by default)
    discriminator.safetensors   optional: the whole raw model, for fine-tuning and encoders
    README.md                   the model card
    samples.png                 an 8x8 grid drawn with a fixed seed
    figures/*.png               the card's other pictures, as the model's capabilities call for
                                (class grid, code sweeps, reconstructions, stages, progression,
                                critic loss next to FID), listed under ``figures`` in config.json

An export is built in a temporary folder beside OUT and swapped in whole (safeio.replace_folder),
so a folder whose config.json carries a ``weights`` section is a complete export, and re-exporting
over one never leaves a mix of old and new files.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .errors import CheckpointError, ConfigError, quote
from .safeio import read_json

FORMAT_VERSION = 1  # of an export's weights section
CONFIG = "config.json"
SUMMARY = "summary.json"
EVAL = "eval.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
SAMPLES_DIR = "samples"
WEIGHTS = "model.safetensors"
DISCRIMINATOR = "discriminator.safetensors"
CARD = "README.md"
SAMPLES = "samples.png"
FIGURES = "figures"  # the card's other pictures (ganzoo/card_figures.py), one PNG each
TENSORBOARD = "tensorboard"
EXPORT_FILES = (CONFIG, WEIGHTS, DISCRIMINATOR, CARD, SAMPLES, FIGURES)
RUN_ENTRIES = frozenset({CONFIG, SUMMARY, EVAL, METRICS, CHECKPOINTS, SAMPLES_DIR, TENSORBOARD})


def is_export(folder: str | Path) -> bool:
    """True for a folder holding a complete ganzoo export (config.json with a weights section)."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("weights"), dict)


def is_run(folder: str | Path) -> bool:
    """True for a training run directory: it has checkpoints/ (its config.json may be lost, as every
    checkpoint keeps a copy)."""
    return (Path(folder) / CHECKPOINTS).is_dir()


def check_run_folder(folder: Path) -> None:
    """Refuse to train into a folder that holds an export or anything else that is not a run: the
    folder of ``--out`` must be new, empty, a run, or hold only what a run writes."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} exists and is not a folder; choose a new folder")
    if not folder.is_dir():
        _check_writable(folder)
        return
    if is_export(folder):
        raise ConfigError(f"--out {folder} holds an exported model, which training would overwrite; choose a new folder")
    if not is_run(folder):
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in RUN_ENTRIES and not _own_temp_file(p.name))
        if foreign:
            raise ConfigError(f"--out {folder} is not a training run and holds {quote(foreign[0])} ({len(foreign)} "
                              "entries no run writes); choose an empty or new folder")
    _check_writable(folder)


def _own_temp_file(name: str) -> bool:
    """A temporary file safeio.write_atomic left when it was killed: ``.<name>.<random>.tmp``."""
    return name.startswith(".") and name.endswith(".tmp")


def _check_writable(folder: Path) -> None:
    """A one-line error now rather than an OSError at the first write, for a read-only place."""
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write to --out {folder}: {existing} is read-only or not writable by you; choose another folder")


def default_model_id(config: dict[str, Any]) -> str:
    """``<architecture>-<dataset>``, e.g. ``dcgan-fashion-mnist``."""
    arch, data = config.get("architecture"), config.get("dataset")
    arch_name = arch.get("name", "gan") if isinstance(arch, dict) else "gan"
    data_name = data.get("name", "data") if isinstance(data, dict) else "data"
    return f"{arch_name}-{data_name}"


def run_metadata(run_dir: Path) -> dict[str, Any]:
    """What a card reports besides the config: RUN/summary.json and RUN/eval.json, when present."""
    out: dict[str, Any] = {}
    if (run_dir / SUMMARY).is_file():
        out["summary"] = read_json(run_dir / SUMMARY, "run summary")
    if (run_dir / EVAL).is_file():
        results = read_json(run_dir / EVAL, "evaluation results").get("results")
        if not isinstance(results, list):
            raise CheckpointError(f"{run_dir / EVAL} must hold {{\"results\": [...]}}; regenerate it with ganzoo eval")
        out["evaluation"] = results
    return out


def folder_info(folder: Path) -> dict[str, Any]:
    """The config of a run (with its summary and evaluation) or of an export, which carries both."""
    if is_export(folder):
        return read_json(folder / CONFIG, "model config")
    if is_run(folder):
        return {**read_json(folder / CONFIG, "run config"), **run_metadata(folder)}
    raise CheckpointError(f"{folder} is neither a training run (checkpoints/) nor an exported model folder")


# -- the weights section of an export's config.json ----------------------------------------------
def new_weights_section(config: dict[str, Any], *, which: str, step: Any, model_id: str,
                        license: str | None = None, sha256: str | None = None) -> dict[str, Any]:
    """The ``weights`` section of a new export of ``config``'s model (export and save_pretrained)."""
    ema_decay = (config.get("training") or {}).get("ema")
    return {
        "format_version": FORMAT_VERSION,
        "file": WEIGHTS,
        "sha256": sha256,
        "which": which,
        "ema_decay": ema_decay if which == "ema" else None,
        "step": step,
        "model_id": model_id,
        "exported_with": __version__,
        "discriminator": None,
        **({"license": license} if license else {}),  # else the card takes the dataset plugin's
    }


def safe_name(name: Any, folder: Path) -> str:
    """A weights file name from config.json: a plain *.safetensors name inside ``folder``."""
    if not isinstance(name, str) or not name.endswith(".safetensors") or "/" in name or "\\" in name or name.startswith("."):
        raise CheckpointError(f"{folder / CONFIG} names weights file {name!r}; it must be a plain *.safetensors file name in the same folder")
    return name


def weights_section(config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The validated ``weights`` section of an export's config.json."""
    weights = config.get("weights")
    if not isinstance(weights, dict):
        raise CheckpointError(f"{folder / CONFIG} has no 'weights' section; it is not an exported ganzoo model (use `ganzoo export RUN_DIR OUT_DIR`)")
    version = weights.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{folder / CONFIG} has no valid weights format_version; export the model again")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{folder} uses export format {version}, newer than this ganzoo reads ({FORMAT_VERSION}); pip install -U ganzoo")
    safe_name(weights.get("file"), folder)
    return weights


def discriminator_entry(weights: dict[str, Any], folder: Path, why: str = "") -> dict[str, Any]:
    """The validated entry of discriminator.safetensors (the whole raw model) in a weights section."""
    entry = weights.get("discriminator")
    if not isinstance(entry, dict):
        raise CheckpointError(f"{folder} has no discriminator weights{why}; export the run with --include-discriminator to publish them")
    safe_name(entry.get("file"), folder)
    return entry


def needs_raw_model(weights: dict[str, Any], *, ema: bool, discriminator: bool, encoder: bool) -> bool:
    """Whether a load must read discriminator.safetensors: for the discriminator itself, for an
    encoder (BiGAN, AAE) whose export ships one, or for the raw generator of an EMA export."""
    shipped = isinstance(weights.get("discriminator"), dict)
    return discriminator or (encoder and shipped) or (not ema and weights.get("which") == "ema")
