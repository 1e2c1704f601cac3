"""Export a training run as the folder that is published: config.json, weights, card, sample grid.

The folder's layout is described in ganzoo/layout.py. The export is written into a temporary
folder beside OUT and swapped in whole when complete (safeio.replace_folder), so a failure or a
kill at any moment leaves the previous export in OUT intact and loadable; files in OUT that are
not part of an export (a ``.git`` of a Hub clone, the user's own) are carried into the new folder.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import torch

from . import __version__
from .card_figures import Subject, write_figures
from .cards import check_license_id, render_card_from
from .contracts import GANModel
from .engine import checkpoint
from .errors import CheckpointError, ConfigError, quote
from .layout import (
    CARD,
    CHECKPOINTS,
    CONFIG,
    DISCRIMINATOR,
    EXPORT_FILES,
    SAMPLES,
    WEIGHTS,
    default_model_id,
    discriminator_entry,
    is_export,
    is_run,
    new_weights_section,
    run_metadata,
    weights_section,
)
from .loading import read_verified, rebuild_model, run_config
from .pretrained import PretrainedGenerator
from .safeio import make_temp_dir, read_json, recover_folder, replace_folder, sha256_file, write_atomic, write_json, write_safetensors

SAMPLE_SEED = 0
TEMP_INFIX = ".export-tmp-"  # .<OUT name>.export-tmp-XXXX: an export being built beside OUT
MODEL_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}")  # as Hub repo ids


def check_model_id(model_id: str) -> str:
    """A model id is NAME or ORG/NAME as the Hub spells repo ids (it goes into the card's snippet)."""
    if not MODEL_ID.fullmatch(model_id) or "--" in model_id or ".." in model_id or model_id.endswith((".", "-")):
        raise ConfigError(f"--model-id {quote(model_id)} is not a valid model id; use NAME or ORG/NAME made of letters, digits, '-', '_' and '.'")
    return model_id


MAX_NOTES = 20_000  # characters: a few paragraphs, not a second card


def check_notes(text: str) -> str:
    """Card notes as given, refused when they are not text a card can hold."""
    if not isinstance(text, str) or "\x00" in text:
        raise ConfigError("card notes must be plain text (Markdown)")
    if len(text) > MAX_NOTES:
        raise ConfigError(f"card notes are {len(text):,} characters; keep them under {MAX_NOTES:,}")
    return text.strip()


def annotate_export(folder: str | Path, notes: str, latent: str | None = None) -> Path:
    """Set the Notes (and, given, the latent's description) of an existing export, in config.json
    and its card, leaving its weights alone."""
    folder = Path(folder)
    if not is_export(folder):
        raise ConfigError(f"{folder} is not an export (no config.json with a weights section)")
    config = read_json(folder / CONFIG, "model config")
    config["notes"] = check_notes(notes)
    if latent is not None:
        config["latent"] = latent
    card = render_card_from(config, config["weights"].get("model_id") or default_model_id(config),
                            has_samples=(folder / SAMPLES).is_file())
    write_atomic(folder / CARD, lambda p: p.write_text(card, encoding="utf-8"))
    write_json(folder / CONFIG, config)  # last, as an export writes it: the card is rendered from it again
    return folder


def _check_out_dir(run_dir: Path, out_dir: Path, force: bool) -> None:
    if out_dir.resolve() == run_dir.resolve() or (out_dir / CHECKPOINTS).exists():
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
    license: str | None = None,
    figures: bool = True,
    notes: str | None = None,
) -> Path:
    """Write the publishable folder for a run's newest intact checkpoint; returns ``out_dir``.

    ``ema=False`` exports the raw generator instead of its EMA average (a run trained without EMA
    always exports its raw generator, and says so in config.json). An architecture with an encoder
    (BiGAN, AAE) always ships discriminator.safetensors, the file its encoder lives in, so
    ``G.encode`` works after ``ganzoo.load``. ``figures`` draws the card's other pictures
    (ganzoo/card_figures.py). ``notes`` (Markdown) is kept in config.json and shown under Notes in
    the card, e.g. how the model compares with published figures. Refuses to write into a
    non-empty folder that is not a previous export unless ``force``.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    out_dir = out_dir.resolve() if out_dir.is_symlink() else out_dir  # replace the folder, not the link
    if model_id is not None:
        check_model_id(model_id)
    if license is not None:
        check_license_id(license)
    if is_export(run_dir):
        raise ConfigError(f"{run_dir} is already an export; push or load it directly")
    if not is_run(run_dir):
        raise CheckpointError(f"{run_dir} is not a training run (no checkpoints/ inside)")
    recover_folder(out_dir)  # an earlier export killed between the two renames of a swap
    _check_out_dir(run_dir, out_dir, force)
    config = run_config(run_dir)
    found = checkpoint.load_latest(run_dir)
    if found is None:
        raise CheckpointError(f"{run_dir} has no checkpoint yet; train it first")
    ckpt, step, weights, _ = found
    model, raw, which = _rebuild(config, run_dir, ckpt, weights, ema)
    exported = _exported_config(config, run_dir, step, which, model_id or default_model_id(config), license)
    exported["latent"] = model.generator.describe_latent()
    if notes is not None:
        exported["notes"] = check_notes(notes)
    include_discriminator = include_discriminator or "encoder" in model.provides
    subject = Subject(model, exported, run_dir) if figures else None
    _build_beside(out_dir, lambda folder: _write_export(folder, model, raw if include_discriminator else None, exported, samples, subject))
    return out_dir


def _build_beside(out_dir: Path, write: Callable[[Path], None]) -> None:
    """``write`` the export into a temporary folder beside ``out_dir``, then swap it in whole."""
    for stale in out_dir.parent.glob(f".{out_dir.name}{TEMP_INFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an export that was killed
    tmp = make_temp_dir(out_dir.parent, f".{out_dir.name}{TEMP_INFIX}")
    try:
        if out_dir.is_dir():
            _carry_over(out_dir, tmp)
        write(tmp)
        replace_folder(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _rebuild(config: dict[str, Any], run_dir: Path, ckpt: Path, weights: dict[str, torch.Tensor], ema: bool) -> tuple[GANModel, dict[str, torch.Tensor], str]:
    """(model with the checkpoint loaded, its raw state, "ema" or "raw"): rebuilt through the
    registry and loaded strictly, so what is exported is known to load."""
    parts = checkpoint.sections(weights)
    raw = parts.get(checkpoint.MODEL, {})
    averaged = checkpoint.ema_generator(parts)
    which = "ema" if ema and averaged else "raw"
    expect = {"model": (raw, f"{ckpt}:model"), **({"generator": (averaged, f"{ckpt}:ema")} if which == "ema" else {})}
    model = rebuild_model(config, run_dir / CONFIG, expect)
    checkpoint.load_strict(model, raw, f"{ckpt}:model")
    if which == "ema":
        checkpoint.load_strict(model.generator, averaged, f"{ckpt}:ema")
    return model, raw, which


def _exported_config(config: dict[str, Any], run_dir: Path, step: int, which: str, model_id: str, license: str | None) -> dict[str, Any]:
    """The export's config.json without the sha256 of its files (added once they are written)."""
    weights = new_weights_section(config, which=which, step=step, model_id=model_id, license=license)
    return {**config, "weights": weights, **run_metadata(run_dir)}


def _write_export(folder: Path, model: GANModel, raw: dict[str, torch.Tensor] | None, exported: dict[str, Any], samples: bool,
                  subject: Subject | None) -> None:
    weights = exported["weights"]
    meta = {"format": "pt", "ganzoo": __version__}
    write_safetensors(folder / WEIGHTS, model.generator.state_dict(), {**meta, "weights": weights["which"]})
    weights["sha256"] = sha256_file(folder / WEIGHTS)
    if raw is not None:
        write_safetensors(folder / DISCRIMINATOR, raw, {**meta, "weights": "raw-model"})
        weights["discriminator"] = {
            "file": DISCRIMINATOR,
            "sha256": sha256_file(folder / DISCRIMINATOR),
            "contents": "the raw model state (generator, discriminator and any encoder), keys as in model.state_dict()",
        }
    if samples:
        PretrainedGenerator(model.generator, exported).save_sample_grid(folder / SAMPLES, seed=SAMPLE_SEED)
    if subject is not None:
        exported["figures"] = write_figures(folder, subject)
    card = render_card_from(exported, weights["model_id"], has_samples=samples)
    write_atomic(folder / CARD, lambda p: p.write_text(card, encoding="utf-8"))
    write_json(folder / CONFIG, exported)


def _carry_over(old: Path, new: Path) -> None:
    """Hard-link (or copy) into ``new`` what ``old`` holds besides an export's own files, so that
    swapping ``new`` in loses nothing; ``old`` stays whole until the swap."""
    for entry in old.iterdir():
        if entry.name in EXPORT_FILES or (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        target = new / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), target)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a file system without hard links
        shutil.copy2(src, dst)


def verify_export(folder: Path) -> dict[str, Any]:
    """Check an export folder before publishing it: its weights parse and match their sha256."""
    config = read_json(folder / CONFIG, "model config")
    weights = weights_section(config, folder)
    read_verified(folder / weights["file"], weights.get("sha256"))
    if isinstance(weights.get("discriminator"), dict):
        entry = discriminator_entry(weights, folder)
        read_verified(folder / entry["file"], entry.get("sha256"))
    return config
