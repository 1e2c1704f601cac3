"""A local folder (a training run or an export) turned into a :class:`PretrainedGenerator`.

The model is rebuilt from config.json through the plugin registry (a missing plugin names the
package to install), then its weights are read from safetensors only, checked against the sha256
recorded beside them, and loaded strictly (a missing, unexpected or mis-shaped tensor is named).
Finding the folder for a zoo name or a Hub repo id is ganzoo/hub.py's job.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

from . import registry
from .build import PluginSpec, build_model
from .contracts import GANModel
from .engine import checkpoint
from .errors import CheckpointError, GanzooError, UnknownPluginError
from .layout import CONFIG, discriminator_entry, is_run, needs_raw_model, weights_section
from .pretrained import PretrainedGenerator
from .safeio import read_json, read_safetensors, sha256_file


def require_plugin(kind: registry.Registry, section: dict[str, Any]) -> None:
    """Turn an unknown plugin into 'install the package that provides it'."""
    name = section.get("name")
    if name in kind:
        return
    dist = section.get("distribution")
    version = section.get("version")
    hint = f"pip install '{dist}=={version}'" if dist and dist != "ganzoo" else "upgrade ganzoo"
    raise UnknownPluginError(f"this model needs {kind.kind} {name!r} from {dist or 'an unknown package'}, which is not installed; {hint}")


def rebuild_model(config: dict[str, Any]) -> GANModel:
    """The architecture (with its tricks attached) described by a config.json, untrained."""
    try:
        arch = config["architecture"]
        tricks = config.get("tricks") or []
    except (KeyError, TypeError):
        raise CheckpointError("config.json has no 'architecture' section; it was not written by ganzoo") from None
    require_plugin(registry.architectures, arch)
    for trick in tricks:
        require_plugin(registry.tricks, trick)
    model, _, _, _ = build_model(PluginSpec.from_json(arch), [PluginSpec.from_json(t) for t in tricks], None)
    return model


def has_encoder(config: dict[str, Any]) -> bool:
    """Whether the config's architecture provides an encoder (BiGAN, AAE); False when unknown."""
    name = (config.get("architecture") or {}).get("name")
    if name not in registry.architectures:
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


def load_run(run_dir: str | Path, *, ema: bool = True, discriminator: bool = False) -> PretrainedGenerator:
    """The generator of a run's newest checkpoint: its EMA average by default, else the raw one."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / CONFIG, "run config")
    ckpt = checkpoint.latest(run_dir)
    if ckpt is None:
        raise CheckpointError(f"{run_dir} has no checkpoint yet; train it first")
    _, weights, _ = checkpoint.load(ckpt)
    parts = checkpoint.sections(weights)
    model = rebuild_model(config)
    checkpoint.load_strict(model, parts.get(checkpoint.MODEL, {}), f"{ckpt}:model")
    averaged = checkpoint.ema_generator(parts)
    use_ema = ema and bool(averaged)
    if use_ema:
        checkpoint.load_strict(model.generator, averaged, f"{ckpt}:ema")
    keep = discriminator or "encoder" in model.provides  # encode()/reconstruct() need the encoder
    G = PretrainedGenerator(model.generator, config, model if keep else None)
    G.origin = f"training run ({run_dir}; {ckpt.name}, {'EMA' if use_ema else 'raw'} weights)"
    return G


def load_export(folder: str | Path, *, ema: bool = True, discriminator: bool = False) -> PretrainedGenerator:
    """An exported model: the published generator, or with ``ema=False`` the raw one that ships in
    discriminator.safetensors (with the whole model), which is also read for encoders."""
    folder = Path(folder)
    config = read_json(folder / CONFIG, "model config")
    weights = weights_section(config, folder)
    raw_generator_wanted = not ema and weights.get("which") == "ema"
    model = rebuild_model(config)
    encoder = has_encoder(config)
    if needs_raw_model(weights, ema=ema, discriminator=discriminator, encoder=encoder):
        why = " (its raw generator weights ship in that file)" if raw_generator_wanted and not discriminator else ""
        entry = discriminator_entry(weights, folder, why)
        checkpoint.load_strict(model, read_verified(folder / entry["file"], entry.get("sha256")), entry["file"])
    if not raw_generator_wanted:
        tensors = read_verified(folder / weights["file"], weights.get("sha256"))
        checkpoint.load_strict(model.generator, tensors, weights["file"])
    keep = discriminator or (encoder and isinstance(weights.get("discriminator"), dict))
    G = PretrainedGenerator(model.generator, config, model if keep else None)
    G.origin = f"local folder ({folder})"
    return G
