"""Run checkpoints: weights and trainer state as safetensors + JSON, written atomically.

Layout of a checkpoint folder (the run around it is described in ganzoo/layout.py)::

    RUN/checkpoints/step-00000200/
        model.safetensors                 model.*, ema.*, loss.*, tricks.N.* tensors (see below)
        trainer.safetensors               optimizer tensors and RNG states
        trainer.json                      step, data position, the rest of the trainer state,
                                          and the sha256 of both tensor files
    RUN/checkpoints/latest                name of the newest complete checkpoint

A checkpoint folder is written under a temporary name and renamed when complete, and ``latest`` is
replaced atomically afterwards, so a crash at any moment leaves the previous checkpoint usable.

The keys of model.safetensors are ``<section>.<key of that module's state_dict()>``, with the
sections ``model`` (the whole architecture), ``ema`` (the averaged generator: ``ema.average.*``),
``loss`` (stateful losses such as BEGAN's k_t) and ``tricks.<i>``. :func:`pack` and
:func:`sections` are the only places that spell them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from torch import Tensor, nn

from ..errors import CheckpointError
from ..layout import CHECKPOINTS
from ..safeio import read_json, read_safetensors, sha256_file, write_atomic, write_json, write_safetensors

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
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing:
        raise CheckpointError(f"{where}: tensor {missing[0]!r} is missing ({len(missing)} missing in all); the file does not match this model")
    if unexpected:
        raise CheckpointError(f"{where}: unexpected tensor {unexpected[0]!r} ({len(unexpected)} in all); the file does not match this model")
    for key, value in tensors.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise CheckpointError(f"{where}: tensor {key!r} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}")
    module.load_state_dict(dict(tensors), strict=True)


# -- writing and reading checkpoint folders --------------------------------------------------------
def save(run_dir: Path, step: int, weights: dict[str, Tensor], trainer_state: dict[str, Any], keep: int) -> Path:
    ckpt_root = run_dir / CHECKPOINTS
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / step_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=ckpt_root))
    try:
        _write_folder(tmp, step, weights, trainer_state)
        _move_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_atomic(ckpt_root / "latest", lambda p: p.write_text(final.name + "\n"))
    _prune(ckpt_root, keep, protect=final)
    return final


def _write_folder(folder: Path, step: int, weights: dict[str, Tensor], trainer_state: dict[str, Any]) -> None:
    trainer_tensors: dict[str, Tensor] = {}
    skeleton = flatten_state(trainer_state, "trainer", trainer_tensors)
    write_safetensors(folder / "model.safetensors", weights)
    write_safetensors(folder / "trainer.safetensors", trainer_tensors)
    write_json(folder / "trainer.json", {
        "format": FORMAT,
        "step": step,
        "state": skeleton,
        "sha256": {n: sha256_file(folder / n) for n in ("model.safetensors", "trainer.safetensors")},
    })


def _move_into_place(tmp: Path, final: Path) -> None:
    if not final.exists():
        os.replace(tmp, final)
        return
    # The same step saved again (e.g. after a resume): swap the old folder out first.
    old = final.parent / f".{final.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _prune(ckpt_root: Path, keep: int, protect: Path) -> None:
    if keep <= 0:
        return
    done = sorted(p for p in ckpt_root.glob("step-*") if p.is_dir())
    for old in done[:-keep]:
        if old != protect:
            shutil.rmtree(old, ignore_errors=True)


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None if it has none."""
    pointer = run_dir / CHECKPOINTS / "latest"
    if not pointer.is_file():
        return None
    target = run_dir / CHECKPOINTS / pointer.read_text().strip()
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
