"""Export a training run as the folder that is published: config.json, weights, card, sample grid.

The folder's layout is described in ganzoo/layout.py. config.json is written last, so a folder
whose config.json carries a "weights" section is a complete export; every file is written
atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from . import __version__
from .cards import render_card_from
from .engine import checkpoint
from .engine.grids import save_samples
from .errors import CheckpointError, ConfigError
from .layout import (
    CARD,
    CONFIG,
    DISCRIMINATOR,
    FORMAT_VERSION,
    SAMPLES,
    WEIGHTS,
    default_model_id,
    discriminator_entry,
    is_export,
    is_run,
    run_metadata,
    weights_section,
)
from .loading import read_verified, rebuild_model
from .pretrained import PretrainedGenerator
from .safeio import read_json, sha256_file, write_atomic, write_json, write_safetensors

SAMPLE_SEED = 0


def _check_out_dir(run_dir: Path, out_dir: Path, force: bool) -> None:
    if out_dir.resolve() == run_dir.resolve() or (out_dir / "checkpoints").exists():
        raise ConfigError(f"{out_dir} is a training run; export into a separate folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_export(out_dir) and not force:
        raise ConfigError(f"{out_dir} is not empty and holds no previous export; choose an empty folder or pass --force")


def export_run(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    ema: bool = True,
    include_discriminator: bool = False,
    model_id: str | None = None,
    samples: bool = True,
    force: bool = False,
) -> Path:
    """Write the publishable folder for a run's newest checkpoint; returns ``out_dir``.

    ``ema=False`` exports the raw generator instead of its EMA average (a run trained without EMA
    always exports its raw generator, and says so in config.json). Refuses to write into a
    non-empty folder that is not a previous export unless ``force``.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if is_export(run_dir):
        raise ConfigError(f"{run_dir} is already an export; push or load it directly")
    if not is_run(run_dir):
        raise CheckpointError(f"{run_dir} is not a training run (no config.json and checkpoints/ inside)")
    _check_out_dir(run_dir, out_dir, force)

    config = read_json(run_dir / CONFIG, "run config")
    ckpt = checkpoint.latest(run_dir)
    if ckpt is None:
        raise CheckpointError(f"{run_dir} has no checkpoint yet; train it first")
    step, weights, _ = checkpoint.load(ckpt)

    # Rebuild through the registry and load strictly, so what is exported is known to load.
    parts = checkpoint.sections(weights)
    model = rebuild_model(config)
    raw = parts.get(checkpoint.MODEL, {})
    checkpoint.load_strict(model, raw, f"{ckpt}:model")
    averaged = checkpoint.ema_generator(parts)
    which = "ema" if ema and averaged else "raw"
    if which == "ema":
        checkpoint.load_strict(model.generator, averaged, f"{ckpt}:ema")

    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt", "ganzoo": __version__}
    write_safetensors(out_dir / WEIGHTS, model.generator.state_dict(), {**meta, "weights": which})
    disc_entry = None
    if include_discriminator:
        write_safetensors(out_dir / DISCRIMINATOR, raw, {**meta, "weights": "raw-model"})
        disc_entry = {
            "file": DISCRIMINATOR,
            "sha256": sha256_file(out_dir / DISCRIMINATOR),
            "contents": "the raw model state (generator, discriminator and any encoder), keys as in model.state_dict()",
        }
    else:
        (out_dir / DISCRIMINATOR).unlink(missing_ok=True)  # a stale one from an earlier export

    model_id = model_id or default_model_id(config)
    ema_decay = (config.get("training") or {}).get("ema")
    exported = {
        **config,
        "weights": {
            "format_version": FORMAT_VERSION,
            "file": WEIGHTS,
            "sha256": sha256_file(out_dir / WEIGHTS),
            "which": which,
            "ema_decay": ema_decay if which == "ema" else None,
            "step": step,
            "model_id": model_id,
            "exported_with": __version__,
            "discriminator": disc_entry,
        },
        **run_metadata(run_dir),
    }

    if samples:
        _write_samples(PretrainedGenerator(model.generator, exported), out_dir / SAMPLES)
    else:
        (out_dir / SAMPLES).unlink(missing_ok=True)
    card = render_card_from(exported, model_id, has_samples=samples)
    write_atomic(out_dir / CARD, lambda p: p.write_text(card, encoding="utf-8"))
    write_json(out_dir / CONFIG, exported)
    return out_dir


def verify_export(folder: Path) -> dict[str, Any]:
    """Check an export folder before publishing it: its weights parse and match their sha256."""
    config = read_json(folder / CONFIG, "model config")
    weights = weights_section(config, folder)
    read_verified(folder / weights["file"], weights.get("sha256"))
    if isinstance(weights.get("discriminator"), dict):
        entry = discriminator_entry(weights, folder)
        read_verified(folder / entry["file"], entry.get("sha256"))
    return config


def _write_samples(generator: PretrainedGenerator, path: Path) -> None:
    """An 8x8 grid with a fixed seed (one class per row for a conditional model)."""
    n = 64
    labels = None
    if generator.num_classes:
        labels = (torch.arange(n) // 8) % generator.num_classes
    images = generator.sample(n, seed=SAMPLE_SEED, labels=labels)
    if images.dim() == 2:  # points: a scatter plot needs more than 64 of them
        images = generator.sample(1000, seed=SAMPLE_SEED)
    save_samples(images, path, nrow=8)
