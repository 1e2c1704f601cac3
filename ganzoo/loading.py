"""A local folder (a training run or an export) turned into a :class:`PretrainedGenerator`.

A model folder's config.json comes from whoever published it, so it is checked before it is used:
its plugin sections must be objects whose names could name a package (PEP 508), so they print
safely and a "pip install" hint cannot become another command; a providing distribution or
version other than the installed one is reported; and the model it describes is first built on
the meta device (no memory) and compared with the shapes of the weights it is about to load, so a
config cannot make ganzoo allocate more than its weights file holds. Only then is the model built,
its weights read from safetensors only, checked against the sha256 recorded beside them, and
loaded strictly (a missing, unexpected or mis-shaped tensor is named). Finding the folder for a
zoo name or a Hub repo id is ganzoo/hub.py's job.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor

from . import registry
from .build import PluginSpec, build_model
from .contracts import GANModel
from .engine import checkpoint
from .errors import CheckpointError, GanzooError, UnknownPluginError, quote
from .layout import CONFIG, discriminator_entry, is_run, needs_raw_model, weights_section
from .pretrained import PretrainedGenerator
from .registry import LOCAL
from .safeio import read_json, read_safetensors, sha256_file

log = logging.getLogger("ganzoo.loading")
PACKAGE_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508 names; plugin names follow it too
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")  # the characters of PEP 440 versions, nothing a shell reads
Expected = Mapping[str, tuple[Mapping[str, Tensor], str]]  # "model"/"generator" -> (tensors to load, where from)


def plugin_sections(config: dict[str, Any], where: Path | str) -> list[tuple[registry.Registry, dict[str, Any]]]:
    """The architecture and trick sections of a config.json, each checked to be an object with a
    valid name, arguments and (when given) distribution and version."""
    arch, tricks = config.get("architecture"), config.get("tricks") or []
    if not isinstance(arch, dict):
        raise CheckpointError(f"{where} has no 'architecture' object (found {quote(arch, 40)}); it was not written by ganzoo or is damaged")
    if not isinstance(tricks, list) or not all(isinstance(t, dict) for t in tricks):
        raise CheckpointError(f"{where}: 'tricks' must be a list of objects; it was not written by ganzoo or is damaged")
    sections = [(registry.architectures, arch)] + [(registry.tricks, t) for t in tricks]
    for kind, section in sections:
        check_section(kind, section, where)
    return sections


def check_section(kind: registry.Registry, section: dict[str, Any], where: Path | str) -> None:
    """A plugin section of a config.json: a valid name, arguments, distribution and version."""
    name, dist, version = section.get("name"), section.get("distribution"), section.get("version")
    if not isinstance(name, str) or not PACKAGE_NAME.fullmatch(name):
        raise CheckpointError(f"{where} names {kind.kind} {quote(name)}, which is not a valid plugin name; the file is damaged or not from ganzoo")
    if not isinstance(section.get("args", {}), dict):
        raise CheckpointError(f"{where}: the arguments of {kind.kind} {name!r} must be an object")
    if dist is not None and dist != LOCAL and not (isinstance(dist, str) and PACKAGE_NAME.fullmatch(dist)):
        raise CheckpointError(f"{where} says {kind.kind} {name!r} comes from {quote(dist)}, which is not a valid package name; do not install anything it suggests")
    if version not in (None, "") and not (isinstance(version, str) and VERSION.fullmatch(version)):
        raise CheckpointError(f"{where} gives {kind.kind} {name!r} the version {quote(version)}, which is not a valid version; the file is damaged")


def require_plugin(kind: registry.Registry, section: dict[str, Any]) -> None:
    """Turn an unknown plugin into 'install the package that provides it' (names are checked by
    :func:`plugin_sections`, so the hint is safe to paste), and say when the installed plugin comes
    from another distribution or version than the one the model was saved with."""
    name, dist, version = section["name"], section.get("distribution"), section.get("version")
    if name not in kind:
        hint = f"pip install '{dist}=={version}'" if dist and dist not in ("ganzoo", LOCAL) and version else (
            f"pip install '{dist}'" if dist and dist not in ("ganzoo", LOCAL) else "upgrade ganzoo")
        raise UnknownPluginError(f"this model needs {kind.kind} {name!r} from {dist or 'an unknown package'}, which is not installed; {hint}")
    entry = kind.entry(name)
    if dist and dist != entry.distribution:
        log.warning(f"warning: the model's {kind.kind} {name!r} was saved from {dist} {version or ''}".rstrip()
                    + f"; here it comes from {entry.distribution} {entry.version}, which may not load it the same way")
    elif version and entry.distribution != LOCAL and version != entry.version:
        log.warning(f"warning: the model's {kind.kind} {name!r} was saved with {dist or entry.distribution} {version}; "
                    f"{entry.version} is installed")


def model_specs(config: dict[str, Any], where: Path | str = CONFIG) -> tuple[PluginSpec, list[PluginSpec]]:
    """The architecture and trick specs of a config.json, checked and known to be installed."""
    sections = plugin_sections(config, where)
    for kind, section in sections:
        require_plugin(kind, section)
    specs = [PluginSpec.from_json(section) for _, section in sections]
    return specs[0], specs[1:]


def rebuild_model(config: dict[str, Any], where: Path | str = CONFIG, expect: Expected | None = None) -> GANModel:
    """The architecture (with its tricks attached) described by a config.json, untrained. With
    ``expect``, the tensors about to be loaded must fit the model built on the meta device first."""
    arch, tricks = model_specs(config, where)
    if expect:
        check_on_meta(arch, tricks, expect, where)
    model, _, _, _ = build_model(arch, tricks, None)
    return model


def check_on_meta(arch: PluginSpec, tricks: list[PluginSpec], expect: Expected, where: Path | str) -> None:
    """Build the model on the meta device (shapes without memory) and refuse tensors that do not fit
    it, before anything the size of the config's claims is allocated."""
    registry.architectures.get(arch.name)  # import plugin modules outside the meta context: their
    for trick in tricks:  # module-level tensors must stay real
        registry.tricks.get(trick.name)
    try:
        with torch.device("meta"):
            model, _, _, _ = build_model(arch, tricks, None)
    except GanzooError:
        raise
    except Exception as exc:  # a plugin that cannot be built from these arguments, whatever it raises
        raise CheckpointError(f"{where} describes a model that cannot be built ({type(exc).__name__}: {str(exc)[:200]})") from exc
    for part, (tensors, label) in expect.items():
        module = model if part == "model" else model.generator
        checkpoint.check_shapes(module.state_dict(), tensors, label)


def has_encoder(config: dict[str, Any]) -> bool:
    """Whether the config's architecture provides an encoder (BiGAN, AAE); False when unknown."""
    arch = config.get("architecture")
    name = arch.get("name") if isinstance(arch, dict) else None
    if not isinstance(name, str) or name not in registry.architectures:
        return False
    try:
        return "encoder" in registry.architectures.get(name).provides
    except GanzooError:
        return False


def read_verified(path: Path, sha256: Any) -> dict[str, Tensor]:
    """Tensors of a safetensors file whose sha256 matches the one recorded in config.json."""
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise CheckpointError(f"config.json records no sha256 for {path.name}; export the model again")
    tensors, _ = read_safetensors(path)  # refuses pickles, zip archives, truncated and foreign files
    actual = sha256_file(path)
    if actual != sha256:
        raise CheckpointError(
            f"{path} does not match the sha256 recorded in config.json ({actual[:12]}... != {sha256[:12]}...); "
            "it was altered or damaged: download or export it again"
        )
    return tensors


def load_folder(folder: str | Path, *, ema: bool = True, discriminator: bool = False) -> PretrainedGenerator:
    """The generator of a training run (its newest checkpoint) or of an exported model folder."""
    folder = Path(folder)
    return load_run(folder, ema=ema, discriminator=discriminator) if is_run(folder) else load_export(folder, ema=ema, discriminator=discriminator)


def run_config(run_dir: Path) -> dict[str, Any]:
    """RUN/config.json or, when it is missing or damaged, the copy its newest checkpoint keeps."""
    try:
        return read_json(run_dir / CONFIG, "run config")
    except CheckpointError as exc:
        copy = checkpoint.saved_run_config(run_dir)
        if copy is None:
            raise CheckpointError(f"{exc}, and no checkpoint of the run keeps a copy; restore it from a backup "
                                  "(an export of this run holds one in its config.json)") from None
        log.warning(f"warning: {exc}; using the copy kept in {copy[1]}")
        return copy[0]


def load_run(run_dir: str | Path, *, ema: bool = True, discriminator: bool = False) -> PretrainedGenerator:
    """The generator of a run's newest intact checkpoint: its EMA average by default, else the raw one."""
    run_dir = Path(run_dir)
    config = run_config(run_dir)
    found = checkpoint.load_latest(run_dir)
    if found is None:
        raise CheckpointError(f"{run_dir} has no checkpoint yet; train it first")
    ckpt, _, weights, _ = found
    parts = checkpoint.sections(weights)
    averaged = checkpoint.ema_generator(parts)
    use_ema = ema and bool(averaged)
    expect = {"model": (parts.get(checkpoint.MODEL, {}), f"{ckpt}:model")}
    if use_ema:
        expect["generator"] = (averaged, f"{ckpt}:ema")
    model = rebuild_model(config, run_dir / CONFIG, expect)
    checkpoint.load_strict(model, parts.get(checkpoint.MODEL, {}), f"{ckpt}:model")
    if use_ema:
        checkpoint.load_strict(model.generator, averaged, f"{ckpt}:ema")
    keep = discriminator or "encoder" in model.provides  # encode()/reconstruct() need the encoder
    G = PretrainedGenerator(model.generator, config, model if keep else None)
    G.origin = f"training run ({run_dir}; {ckpt.name}, {'EMA' if use_ema else 'raw'} weights)"
    G.which = "ema" if use_ema else "raw"
    return G


def load_export(folder: str | Path, *, ema: bool = True, discriminator: bool = False) -> PretrainedGenerator:
    """An exported model: the published generator, or with ``ema=False`` the raw one that ships in
    discriminator.safetensors (with the whole model), which is also read for encoders."""
    folder = Path(folder)
    config = read_json(folder / CONFIG, "model config")
    weights = weights_section(config, folder)
    arch, tricks = model_specs(config, folder / CONFIG)
    raw_generator_wanted = not ema and weights.get("which") == "ema"
    encoder = has_encoder(config)
    expect: dict[str, tuple[dict[str, Tensor], str]] = {}
    if needs_raw_model(weights, ema=ema, discriminator=discriminator, encoder=encoder):
        why = " (its raw generator weights ship in that file)" if raw_generator_wanted and not discriminator else ""
        entry = discriminator_entry(weights, folder, why)
        expect["model"] = (read_verified(folder / entry["file"], entry.get("sha256")), entry["file"])
    if not raw_generator_wanted:
        expect["generator"] = (read_verified(folder / weights["file"], weights.get("sha256")), weights["file"])
    check_on_meta(arch, tricks, expect, folder / CONFIG)
    model, _, _, _ = build_model(arch, tricks, None)
    if "model" in expect:
        checkpoint.load_strict(model, *expect["model"])
    if "generator" in expect:
        checkpoint.load_strict(model.generator, *expect["generator"])
    keep = discriminator or (encoder and isinstance(weights.get("discriminator"), dict))
    G = PretrainedGenerator(model.generator, config, model if keep else None)
    G.origin = f"local folder ({folder})"
    G.which = "raw" if raw_generator_wanted else weights.get("which")
    return G
