"""Run checkpoints: weights and trainer state as safetensors + JSON, written atomically.

Layout of a run directory::

    RUN/config.json                       what was trained (plugins, args, hyper-parameters)
    RUN/checkpoints/step-00000200/        one complete checkpoint
        model.safetensors                 model.*, ema.*, loss.*, tricks.N.* tensors
        trainer.safetensors               optimizer tensors and RNG states
        trainer.json                      step, data position, the rest of the trainer state,
                                          and the sha256 of both tensor files
    RUN/checkpoints/latest                name of the newest complete checkpoint
    RUN/samples/step-00000200.png         fixed-noise sample grids

A checkpoint folder is written under a temporary name and renamed when complete, and ``latest`` is
replaced atomically afterwards, so a crash at any moment leaves the previous checkpoint usable.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from torch import Tensor

from ..errors import CheckpointError
from ..safeio import (
    flatten_state,
    read_json,
    read_safetensors,
    sha256_file,
    unflatten_state,
    write_atomic,
    write_json,
    write_safetensors,
)

FORMAT = 1


def step_name(step: int) -> str:
    return f"step-{step:08d}"


def save(run_dir: Path, step: int, weights: dict[str, Tensor], trainer_state: dict[str, Any], keep: int) -> Path:
    ckpt_root = run_dir / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / step_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=ckpt_root))
    try:
        trainer_tensors: dict[str, Tensor] = {}
        skeleton = flatten_state(trainer_state, "trainer", trainer_tensors)
        write_safetensors(tmp / "model.safetensors", weights)
        write_safetensors(tmp / "trainer.safetensors", trainer_tensors)
        write_json(
            tmp / "trainer.json",
            {
                "format": FORMAT,
                "step": step,
                "state": skeleton,
                "sha256": {n: sha256_file(tmp / n) for n in ("model.safetensors", "trainer.safetensors")},
            },
        )
        if final.exists():  # the same step saved again (e.g. after a resume): swap it out
            old = ckpt_root / f".{final.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_atomic(ckpt_root / "latest", lambda p: p.write_text(final.name + "\n"))
    _prune(ckpt_root, keep, protect=final)
    return final


def _prune(ckpt_root: Path, keep: int, protect: Path) -> None:
    if keep <= 0:
        return
    done = sorted(p for p in ckpt_root.glob("step-*") if p.is_dir())
    for old in done[:-keep]:
        if old != protect:
            shutil.rmtree(old, ignore_errors=True)


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None if it has none."""
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    target = run_dir / "checkpoints" / pointer.read_text().strip()
    if not (target / "trainer.json").is_file():
        raise CheckpointError(f"{pointer} names {target.name}, which is missing or incomplete; pass --resume-from an older checkpoint folder")
    return target


def load(ckpt: Path, device: str = "cpu") -> tuple[int, dict[str, Tensor], dict[str, Any]]:
    """(step, weights, trainer state) of a checkpoint folder, after checking both files' hashes."""
    meta = read_json(ckpt / "trainer.json", "checkpoint metadata")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{ckpt} has checkpoint format {meta.get('format')!r}; this ganzoo reads format {FORMAT}")
    for name, expected in (meta.get("sha256") or {}).items():
        path = ckpt / name
        if not path.is_file() or sha256_file(path) != expected:
            raise CheckpointError(f"{path} is missing or does not match its recorded sha256; resume from an older checkpoint")
    weights, _ = read_safetensors(ckpt / "model.safetensors", device)
    trainer_tensors, _ = read_safetensors(ckpt / "trainer.safetensors")
    return int(meta["step"]), weights, unflatten_state(meta["state"], trainer_tensors)
