"""Run checkpoints: weights and trainer state as safetensors + JSON, written atomically.

Layout of a checkpoint folder (the run around it is described in ganzoo/layout.py)::

    RUN/checkpoints/step-00000200/
        model.safetensors                 model.*, ema.*, loss.*, tricks.N.* tensors (see below)
        trainer.safetensors               optimizer tensors and RNG states
        trainer.json                      step, data position, the rest of the trainer state, the
                                          sha256 of both tensor files, and a copy of the run's
                                          config.json (a lost or damaged one is restored from it)
    RUN/checkpoints/latest                name of the newest complete checkpoint

A checkpoint folder is written under a temporary name and swapped in when complete, and ``latest``
is replaced atomically afterwards, so a crash at any moment leaves the previous checkpoint usable.
Nothing with a NaN or an infinity is ever written (:func:`first_non_finite`). Readers follow
``latest`` only to a ``step-N`` folder of the same run; when it is missing, broken or damaged they
fall back to the newest intact checkpoint and say so (:func:`load_latest`).

The keys of model.safetensors are ``<section>.<key of that module's state_dict()>``, with the
sections ``model`` (the whole architecture), ``ema`` (the averaged generator: ``ema.average.*``),
``loss`` (stateful losses such as BEGAN's k_t) and ``tricks.<i>``. :func:`pack` and
:func:`sections` are the only places that spell them.
"""
from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from ..errors import CheckpointError, ConfigError, quote
from ..layout import CHECKPOINTS
from ..safeio import (
    make_temp_dir,
    read_json,
    read_safetensors,
    recover_folder,
    replace_folder,
    sha256_file,
    write_atomic,
    write_json,
    write_safetensors,
)

log = logging.getLogger("ganzoo.checkpoint")
STEP_NAME = re.compile(r"step-[0-9]{8,}")  # the only names `latest` may point to
FORMAT = 1
MODEL, EMA, LOSS = "model", "ema", "loss"
EMA_GENERATOR = "average."  # inside the ema section: the averaged generator's state_dict


def step_name(step: int) -> str:
    return f"step-{step:08d}"


# -- the key layout of model.safetensors -------------------------------------------------------------
def trick_section(index: int) -> str:
    return f"tricks.{index}"


def pack(modules: Mapping[str, nn.Module]) -> dict[str, Tensor]:
    """One flat dict of tensors from named modules (section name -> module)."""
    return {f"{section}.{k}": v for section, module in modules.items() for k, v in module.state_dict().items()}


def sections(weights: Mapping[str, Tensor]) -> dict[str, dict[str, Tensor]]:
    """The inverse of :func:`pack`: section name -> that module's state_dict."""
    out: dict[str, dict[str, Tensor]] = {}
    for key, value in weights.items():
        section, _, rest = key.partition(".")
        if section == "tricks":
            index, _, rest = rest.partition(".")
            section = trick_section(int(index)) if index.isdigit() else key
        out.setdefault(section, {})[rest] = value
    return out


def ema_generator(parts: Mapping[str, Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """The averaged generator's state_dict from a checkpoint's sections (empty without EMA)."""
    ema = parts.get(EMA, {})
    return {k[len(EMA_GENERATOR):]: v for k, v in ema.items() if k.startswith(EMA_GENERATOR)}


def load_strict(module: nn.Module, tensors: Mapping[str, Tensor], where: str) -> None:
    """load_state_dict that names the first missing, unexpected or mis-shaped tensor."""
    check_shapes(module.state_dict(), tensors, where)
    module.load_state_dict(dict(tensors), strict=True)


def check_shapes(own: Mapping[str, Tensor], tensors: Mapping[str, Tensor], where: str) -> None:
    """Refuse ``tensors`` unless they have exactly the keys and shapes of the state_dict ``own``
    (which may live on the meta device: nothing is allocated to check)."""
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing:
        raise CheckpointError(f"{where}: tensor {missing[0]!r} is missing ({len(missing)} missing in all); the file does not match this model")
    if unexpected:
        raise CheckpointError(f"{where}: unexpected tensor {unexpected[0]!r} ({len(unexpected)} in all); the file does not match this model")
    for key, value in tensors.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise CheckpointError(f"{where}: tensor {key!r} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}")


# -- writing and reading checkpoint folders --------------------------------------------------------
def first_non_finite(weights: Mapping[str, Tensor], trainer_state: Any) -> str | None:
    """The name of the first floating-point tensor holding a NaN or an infinity among what a
    checkpoint would save (weights, then optimizer state), or None when all are finite."""
    tensors = dict(weights)
    flatten_state(trainer_state, "trainer", tensors)
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name
    return None


def save(run_dir: Path, step: int, weights: dict[str, Tensor], trainer_state: dict[str, Any], keep: int,
         run_config: dict[str, Any] | None = None) -> Path:
    ckpt_root = run_dir / CHECKPOINTS
    final = ckpt_root / step_name(step)
    tmp = make_temp_dir(ckpt_root, f".{final.name}.")
    try:
        _write_folder(tmp, step, weights, trainer_state, run_config)
        replace_folder(tmp, final)  # the same step saved again (after a resume) is swapped whole
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_atomic(ckpt_root / "latest", lambda p: p.write_text(final.name + "\n"))
    _prune(ckpt_root, keep, protect=final)
    return final


def _write_folder(folder: Path, step: int, weights: dict[str, Tensor], trainer_state: dict[str, Any],
                  run_config: dict[str, Any] | None) -> None:
    trainer_tensors: dict[str, Tensor] = {}
    skeleton = flatten_state(trainer_state, "trainer", trainer_tensors)
    write_safetensors(folder / "model.safetensors", weights)
    write_safetensors(folder / "trainer.safetensors", trainer_tensors)
    write_json(folder / "trainer.json", {
        "format": FORMAT,
        "step": step,
        "state": skeleton,
        "sha256": {n: sha256_file(folder / n) for n in ("model.safetensors", "trainer.safetensors")},
        "run_config": run_config,
    })


def _prune(ckpt_root: Path, keep: int, protect: Path) -> None:
    if keep <= 0:
        return
    done = sorted(p for p in ckpt_root.glob("step-*") if p.is_dir())
    for old in done[:-keep]:
        if old != protect:
            shutil.rmtree(old, ignore_errors=True)


def clean_stale(run_dir: Path) -> None:
    """Remove what killed checkpoint writes leave in checkpoints/ (``.step-*`` temporary folders,
    temporary pointer files), after putting back a checkpoint a killed swap had moved aside."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return
    for final in [root / p.name[1:].removesuffix(".old") for p in root.glob(".step-*.old")]:
        recover_folder(final)
    for path in root.glob(".*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def complete(run_dir: Path) -> list[Path]:
    """The run's complete checkpoint folders (with their trainer.json), newest first."""
    root = run_dir / CHECKPOINTS
    found = [p for p in root.glob("step-*") if STEP_NAME.fullmatch(p.name) and not p.is_symlink() and (p / "trainer.json").is_file()]
    return sorted(found, reverse=True)


def _pointed(run_dir: Path) -> tuple[Path | None, str | None]:
    """(the checkpoint ``latest`` names, None) or (None, what is wrong with the pointer)."""
    pointer = run_dir / CHECKPOINTS / "latest"
    if not pointer.is_file():
        return None, f"{pointer} is missing"
    try:
        name = pointer.read_text(errors="replace").strip()
    except OSError as exc:
        return None, f"{pointer} cannot be read ({exc.strerror})"
    if not STEP_NAME.fullmatch(name):  # '../../other_run/checkpoints/...' is refused here
        return None, f"{pointer} names {quote(name)}, which is not a checkpoint folder of this run"
    target = pointer.parent / name
    if target.is_symlink() or not (target / "trainer.json").is_file():
        return None, f"{pointer} names {name}, which is missing or incomplete"
    return target, None


def _candidates(run_dir: Path) -> tuple[list[Path], str | None]:
    """Checkpoints to try, best first (the one ``latest`` names, then the others newest first), and
    what is wrong with the pointer when it cannot be followed."""
    named, problem = _pointed(run_dir)
    others = [p for p in complete(run_dir) if p != named]
    return ([named] if named else []) + others, problem


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None if it has none. A missing, broken or
    escaping ``latest`` pointer falls back to the newest complete folder, with a warning."""
    found, problem = _candidates(run_dir)
    if found and problem:
        log.warning(f"warning: {problem}; using {found[0].name}, the newest complete checkpoint")
    return found[0] if found else None


def load_latest(run_dir: Path, device: str = "cpu") -> tuple[Path, int, dict[str, Tensor], dict[str, Any]] | None:
    """(folder, step, weights, trainer state) of the newest checkpoint that verifies; a damaged one
    (truncated, altered) is skipped for the next older, with a warning saying which and why.
    None when the run has no checkpoint; a one-line error when none of them is intact."""
    found, problem = _candidates(run_dir)
    skipped = [problem] if problem and found else []
    for ckpt in found:
        try:
            step, weights, state = load(ckpt, device)
        except CheckpointError as exc:
            skipped.append(str(exc))
            continue
        if skipped:
            log.warning(f"warning: {'; '.join(skipped)}; using {ckpt.name}, the newest intact checkpoint")
        return ckpt, step, weights, state
    if skipped:
        raise CheckpointError(f"no checkpoint of {run_dir} is intact ({skipped[-1]}); start a new run with another --out")
    return None


def named(run_dir: Path, name: str) -> Path:
    """The checkpoint folder ``--resume-from`` names: ``step-N`` or a path to one of this run's."""
    root = run_dir / CHECKPOINTS
    given = Path(name)
    target = given if given.is_dir() else root / given.name
    inside = target.resolve().parent == root.resolve() if target.exists() else False
    if not (STEP_NAME.fullmatch(target.name) and inside and (target / "trainer.json").is_file()):
        available = ", ".join(p.name for p in complete(run_dir)[:5]) or "none"
        raise ConfigError(f"--resume-from {quote(name)} is not a complete checkpoint folder of {run_dir} (available: {available})")
    return target


def saved_run_config(run_dir: Path) -> tuple[dict[str, Any], Path] | None:
    """The copy of config.json kept in the newest checkpoint that has one, with that checkpoint."""
    for ckpt in complete(run_dir):
        try:
            copy = read_json(ckpt / "trainer.json", "checkpoint metadata").get("run_config")
        except CheckpointError:
            continue
        if isinstance(copy, dict):
            return copy, ckpt
    return None


def load(ckpt: Path, device: str = "cpu") -> tuple[int, dict[str, Tensor], dict[str, Any]]:
    """(step, weights, trainer state) of a checkpoint folder, after checking both files' hashes."""
    meta = read_json(ckpt / "trainer.json", "checkpoint metadata")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{ckpt} has checkpoint format {quote(meta.get('format'))}; this ganzoo reads format {FORMAT}")
    hashes, step = meta.get("sha256"), meta.get("step")
    if not isinstance(hashes, dict) or set(hashes) != {"model.safetensors", "trainer.safetensors"} or not isinstance(step, int):
        raise CheckpointError(f"{ckpt / 'trainer.json'} lacks its step or the sha256 of its files; it is damaged")
    for name, expected in hashes.items():
        path = ckpt / name
        if not path.is_file() or sha256_file(path) != expected:
            raise CheckpointError(f"{path} is missing or does not match its recorded sha256; the checkpoint is damaged")
    weights, _ = read_safetensors(ckpt / "model.safetensors", device)
    trainer_tensors, _ = read_safetensors(ckpt / "trainer.safetensors")
    try:
        state = unflatten_state(meta.get("state"), trainer_tensors)
    except (TypeError, ValueError):  # a hand-edited skeleton: lists where pairs belong, and the like
        state = None
    if not isinstance(state, dict):
        raise CheckpointError(f"{ckpt / 'trainer.json'} holds no valid trainer state; the checkpoint is damaged")
    return step, weights, state


# -- nested state (optimizer and trainer state) as JSON skeleton + flat tensors -------------------
def flatten_state(obj: Any, prefix: str, tensors: dict[str, Tensor]) -> Any:
    """Encode nested dicts/lists/tuples with tensors into JSON, moving tensors into ``tensors``.

    Dict keys keep their type (optimizer state is keyed by int), which plain JSON would lose.
    """
    if isinstance(obj, Tensor):
        tensors[prefix] = obj
        return {"$t": prefix}
    if isinstance(obj, dict):
        return {"$d": [[k, flatten_state(v, f"{prefix}/{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save value of type {type(obj).__name__} at {prefix}")


def unflatten_state(obj: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(obj, dict):
        if "$t" in obj:
            try:
                return tensors[obj["$t"]]
            except KeyError:
                raise CheckpointError(f"trainer state is missing tensor {obj['$t']!r}") from None
        if "$d" in obj:
            return {k: unflatten_state(v, tensors) for k, v in obj["$d"]}
        if "$tuple" in obj:
            return tuple(unflatten_state(v, tensors) for v in obj["$tuple"])
        raise CheckpointError("trainer state has an unknown entry; it was not written by ganzoo")
    if isinstance(obj, list):
        return [unflatten_state(v, tensors) for v in obj]
    return obj
