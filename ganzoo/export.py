"""Export a training run as the folder that is published: config.json, weights, card, sample grid.

An export folder is what ``model_cards/<model-id>/`` holds and what ``ganzoo push`` uploads::

    config.json                 the run's config plus a "weights" section (file, sha256, which
                                generator, format version, model id) and the training summary and
                                evaluation results the card is rendered from
    model.safetensors           the generator alone (its EMA average by default), keys as in
                                generator.state_dict()
    discriminator.safetensors   optional: the whole raw model (discriminator, encoders, raw
                                generator), keys as in model.state_dict(), for fine-tuning
    README.md                   the model card
    samples.png                 an 8x8 grid drawn with a fixed seed

config.json is written last, so a folder with a config.json carrying a "weights" section is a
complete export; every file is written atomically.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor

from . import __version__
from .errors import CheckpointError, ConfigError

FORMAT_VERSION = 1
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
DISCRIMINATOR = "discriminator.safetensors"
CARD = "README.md"
SAMPLES = "samples.png"
EXPORT_FILES = (CONFIG, WEIGHTS, DISCRIMINATOR, CARD, SAMPLES)
SAMPLE_SEED = 0


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
    """True for a training run directory (it has checkpoints/)."""
    return (Path(folder) / "checkpoints").is_dir() and (Path(folder) / CONFIG).is_file()


def default_model_id(config: dict[str, Any]) -> str:
    """``<architecture>-<dataset>``, e.g. ``dcgan-fashion-mnist``."""
    arch = (config.get("architecture") or {}).get("name", "gan")
    data = (config.get("dataset") or {}).get("name", "data")
    return f"{arch}-{data}"


def run_metadata(run_dir: Path) -> dict[str, Any]:
    """What a card reports besides the config: RUN/summary.json and RUN/eval.json, when present."""
    from .safeio import read_json

    out: dict[str, Any] = {}
    if (run_dir / "summary.json").is_file():
        out["summary"] = read_json(run_dir / "summary.json", "run summary")
    if (run_dir / "eval.json").is_file():
        results = read_json(run_dir / "eval.json", "evaluation results").get("results")
        if not isinstance(results, list):
            raise CheckpointError(f"{run_dir / 'eval.json'} must hold {{\"results\": [...]}}; regenerate it with ganzoo eval")
        out["evaluation"] = results
    return out


def _check_out_dir(run_dir: Path, out_dir: Path, force: bool) -> None:
    if out_dir.resolve() == run_dir.resolve() or (out_dir / "checkpoints").exists():
        raise ConfigError(f"{out_dir} is a training run; export into a separate folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_export(out_dir) and not force:
        raise ConfigError(f"{out_dir} is not empty and holds no previous export; choose an empty folder or pass --force")


def _sections(weights: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}


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
    from .cards import render_card_from
    from .engine import checkpoint
    from .engine.trainer import load_strict
    from .pretrained import PretrainedGenerator, rebuild_model
    from .safeio import read_json, sha256_file, write_atomic, write_json, write_safetensors

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
    model = rebuild_model(config)
    raw = _sections(weights, "model.")
    load_strict(model, raw, f"{ckpt}:model")
    averaged = _sections(weights, "ema.average.")
    which = "ema" if ema and averaged else "raw"
    if which == "ema":
        load_strict(model.generator, averaged, f"{ckpt}:ema")
    generator_state = model.generator.state_dict()

    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt", "ganzoo": __version__}
    write_safetensors(out_dir / WEIGHTS, generator_state, {**meta, "weights": which})
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

    generator = PretrainedGenerator(model.generator, exported)
    if samples:
        _write_samples(generator, out_dir / SAMPLES)
    else:
        (out_dir / SAMPLES).unlink(missing_ok=True)
    card = render_card_from(exported, model_id, has_samples=samples)
    write_atomic(out_dir / CARD, lambda p: p.write_text(card, encoding="utf-8"))
    write_json(out_dir / CONFIG, exported)
    return out_dir


def _write_samples(generator: Any, path: Path) -> None:
    """An 8x8 grid with a fixed seed (one class per row for a conditional model)."""
    import torch

    from .engine.grids import save_samples

    n = 64
    labels = None
    if generator.num_classes:
        labels = (torch.arange(n) // 8) % generator.num_classes
    images = generator.sample(n, seed=SAMPLE_SEED, labels=labels)
    if images.dim() == 2:  # points: a scatter plot needs more than 64 of them
        images = generator.sample(1000, seed=SAMPLE_SEED)
    save_samples(images, path, nrow=8)
