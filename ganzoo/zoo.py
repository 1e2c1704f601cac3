"""The zoo's pretrained models, listed without torch: ``ganzoo zoo`` and ``ganzoo.list_pretrained``.

A zoo model is an export (see ganzoo/layout.py) named by its id, e.g. ``dcgan-fashion-mnist``. Two
places are scanned, neither over the network:

- the checkout's ``model_cards/<id>/`` (``GANZOO_MODEL_CARDS`` names another folder), which is
  what ``ganzoo.load("<id>")`` reads first;
- the Hugging Face cache (``models--ganzoo--<id>``), for zoo models fetched from the Hub before.

Each entry says what the model is (architecture, loss, dataset, resolution), how good (FID with the
numbers of images it was computed on), how big (generator parameters and weights file), whether it
ships its discriminator (needed to fine-tune it with ``ganzoo train --init-from``), which plugin
packages it needs, and where ``ganzoo.load("<id>")`` would read it from.
"""
from __future__ import annotations

import fnmatch
import json
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import constants
from safetensors import safe_open  # torch-free with framework="numpy"

from . import registry
from .errors import ConfigError
from .layout import CONFIG, is_export
from .registry import LOCAL

ZOO_ORG = "ganzoo"
# PEP 508 names (as ganzoo.loading.PACKAGE_NAME, which imports torch): a config.json from the HF cache
# is someone else's file, and only a name of this shape is printed as a package to install.
_PACKAGE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_PLUGIN_KINDS = (("architecture", registry.architectures), ("loss", registry.losses), ("dataset", registry.datasets))


def model_cards_dir() -> Path:
    """Where the zoo's shipped models live: ``$GANZOO_MODEL_CARDS`` or ``<checkout>/model_cards``."""
    env = os.environ.get("GANZOO_MODEL_CARDS")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1] / "model_cards"


def zoo_models() -> list[str]:
    """Ids of the models shipped in ``model_cards/``."""
    root = model_cards_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if is_export(p))


@dataclass(frozen=True)
class ZooModel:
    """One pretrained model as ``ganzoo zoo`` lists it."""

    id: str
    architecture: str
    loss: str
    tricks: tuple[str, ...]
    dataset: str
    resolution: str  # "1x28x28" (channels x height x width), or "2" for points
    fid: float | None
    fid_generated: int | None  # images the FID was computed on
    fid_real: int | None
    parameters: int | None  # of the published generator; None when its weights are not local
    size_bytes: int | None  # of model.safetensors
    weights: str  # "ema" or "raw"
    step: int | None
    discriminator: bool  # ships discriminator.safetensors: fine-tunable with --init-from
    packages: tuple[str, ...]  # plugin packages besides ganzoo that the model needs
    missing: tuple[str, ...]  # ... of which these are not installed
    source: str  # where ganzoo.load("<id>") would read it from
    folder: str

    @property
    def fid_text(self) -> str:
        if self.fid is None:
            return "-"
        n = f" ({self.fid_generated:,} vs {self.fid_real:,})" if self.fid_generated and self.fid_real else ""
        return f"{self.fid:.2f}{n}"

    @property
    def size_text(self) -> str:
        params = f"{self.parameters / 1e6:.2f}M params" if self.parameters is not None else "?"
        size = f", {self.size_bytes / 2**20:.1f} MiB" if self.size_bytes is not None else ""
        return params + size

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tricks": list(self.tricks), "packages": list(self.packages), "missing": list(self.missing)}


def _name(section: Any) -> str:
    name = section.get("name") if isinstance(section, dict) else None
    return name if isinstance(name, str) and _PACKAGE.fullmatch(name) else "?"


def _packages(config: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(plugin packages other than ganzoo, those of them whose plugin is not installed)."""
    sections = [(kind, config.get(key)) for key, kind in _PLUGIN_KINDS]
    sections += [(registry.tricks, t) for t in config.get("tricks") or [] if isinstance(t, dict)]
    needed, missing = set(), set()
    for kind, section in sections:
        dist = section.get("distribution") if isinstance(section, dict) else None
        if not isinstance(dist, str) or dist in ("ganzoo", LOCAL) or not _PACKAGE.fullmatch(dist):
            continue
        needed.add(dist)
        if _name(section) not in kind:  # entry-point discovery only: no plugin module is imported
            missing.add(dist)
    return tuple(sorted(needed)), tuple(sorted(missing))


def _fid(config: dict[str, Any]) -> tuple[float | None, int | None, int | None]:
    for result in config.get("evaluation") or []:
        if isinstance(result, dict) and result.get("metric") == "fid" and isinstance(result.get("value"), (int, float)):
            protocol = result.get("protocol") if isinstance(result.get("protocol"), dict) else {}
            n_gen, n_real = protocol.get("n_generated"), protocol.get("n_real")
            return (float(result["value"]), n_gen if isinstance(n_gen, int) else None, n_real if isinstance(n_real, int) else None)
    return None, None, None


def _parameters(path: Path) -> int | None:
    """Tensor elements in a safetensors file, read from its header (no tensor is loaded)."""
    try:
        with safe_open(str(path), framework="numpy") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    except Exception:  # a missing, truncated or foreign file: the listing shows "?", loading says why
        return None


def _resolution(config: dict[str, Any]) -> str:
    shape = config.get("data_shape")
    if isinstance(shape, list) and shape and all(isinstance(d, int) for d in shape):
        return "x".join(map(str, shape))
    return "?"


def describe(folder: Path, model_id: str, source: str) -> ZooModel | None:
    """The listing entry of the export in ``folder``; None when it is not a readable export."""
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError):
        return None
    weights = config.get("weights") if isinstance(config, dict) else None
    if not isinstance(weights, dict):
        return None
    file = weights.get("file") if isinstance(weights.get("file"), str) else "model.safetensors"
    path = folder / Path(file).name
    fid, n_gen, n_real = _fid(config)
    packages, missing = _packages(config)
    step = weights.get("step")
    return ZooModel(
        id=model_id,
        architecture=_name(config.get("architecture")),
        loss=_name(config.get("loss")),
        tricks=tuple(_name(t) for t in config.get("tricks") or []),
        dataset=_name(config.get("dataset")),
        resolution=_resolution(config),
        fid=fid, fid_generated=n_gen, fid_real=n_real,
        parameters=_parameters(path) if path.is_file() else None,
        size_bytes=path.stat().st_size if path.is_file() else None,
        weights="raw" if weights.get("which") == "raw" else "ema",
        step=step if isinstance(step, int) else None,
        discriminator=isinstance(weights.get("discriminator"), dict),
        packages=packages, missing=missing, source=source, folder=str(folder),
    )


def shipped(root: Path | None = None) -> list[ZooModel]:
    """The models in ``root`` (default: the checkout's model_cards/), sorted by id."""
    root = model_cards_dir() if root is None else Path(root)
    if not root.is_dir():
        return []
    found = (describe(p, p.name, f"checkout model_cards/{p.name}") for p in sorted(root.iterdir()) if p.is_dir())
    return [m for m in found if m is not None]


def _snapshot(repo: Path) -> Path | None:
    """The cached snapshot of a repo's main branch, else its newest snapshot holding config.json."""
    ref = repo / "refs" / "main"
    if ref.is_file():
        commit = ref.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{40}", commit) and (repo / "snapshots" / commit / CONFIG).is_file():
            return repo / "snapshots" / commit
    snapshots = [p for p in (repo / "snapshots").glob("*") if (p / CONFIG).is_file()]
    return max(snapshots, key=lambda p: (p / CONFIG).stat().st_mtime, default=None)


def cached(cache_dir: str | Path | None = None) -> list[ZooModel]:
    """The zoo's models (``ganzoo/<id>``) in the HF cache, sorted by id. A load of ``<id>`` that is
    not shipped asks the Hub first unless offline mode is on; offline it reads the cache."""
    root = Path(cache_dir or constants.HF_HUB_CACHE)
    prefix = f"models--{ZOO_ORG}--"
    out = []
    for repo in sorted(root.glob(prefix + "*")) if root.is_dir() else []:
        model_id, snapshot = repo.name[len(prefix):], _snapshot(repo)
        if snapshot is None or not _PACKAGE.fullmatch(model_id):
            continue
        offline_ready = constants.is_offline_mode() and (snapshot / "model.safetensors").is_file()
        entry = describe(snapshot, model_id, "HF cache" if offline_ready else f"Hub {ZOO_ORG}/{model_id}")
        if entry is not None:
            out.append(entry)
    return out


def list_models(pattern: str | None = None, *, cache_dir: str | Path | None = None) -> list[ZooModel]:
    """Every zoo model shipped or cached (a shipped copy wins: ``load`` reads it first), filtered by
    an fnmatch ``pattern`` on the id such as ``"*fashion*"``."""
    models = {m.id: m for m in cached(cache_dir)}
    models.update({m.id: m for m in shipped()})
    return [models[i] for i in sorted(models) if pattern is None or fnmatch.fnmatchcase(i, pattern)]


def list_pretrained(pattern: str | None = None) -> list[str]:
    """Ids of the pretrained models ``ganzoo.load`` finds without the network, optionally filtered by
    an fnmatch pattern, e.g. ``list_pretrained("dcgan*")``; ``ganzoo zoo`` shows the details."""
    return [m.id for m in list_models(pattern)]


# -- the README's zoo table -----------------------------------------------------------------------------
TABLE_START = "<!-- zoo-table:start (generated from model_cards/ by benchmarks/zoo/sync.py; do not edit) -->"
TABLE_END = "<!-- zoo-table:end -->"


def markdown_table(models: list[ZooModel]) -> str:
    """The zoo as a Markdown table (the README's, between TABLE_START and TABLE_END)."""
    rows = ["| model | architecture | loss | dataset | resolution | FID (generated vs real) | generator | fine-tunable |",
            "|---|---|---|---|---|---|---|---|"]
    for m in models:
        loss = " + ".join([m.loss, *m.tricks])
        plugin = f" (`{'`, `'.join(m.packages)}`)" if m.packages else ""
        rows.append(f"| `{m.id}` | `{m.architecture}`{plugin} | `{loss}` | `{m.dataset}` | {m.resolution} | {m.fid_text} "
                    f"| {m.size_text} | {'yes' if m.discriminator else 'no (generator only)'} |")
    return "\n".join(rows)


def replace_block(text: str, block: str, start: str = TABLE_START, end: str = TABLE_END) -> str:
    """``text`` with what lies between the ``start`` and ``end`` marker lines replaced by ``block``."""
    head, found, rest = text.partition(start)
    middle, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ConfigError(f"the markers {start!r} and {end!r} are not both in the text")
    return f"{head}{start}\n{block}\n{end}{tail}"
