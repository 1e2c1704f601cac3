"""The conformance checks themselves: plain functions that raise ``AssertionError`` (or call
``pytest.skip``), so the zoo's own tests (tests/test_pairs.py) and a plugin's tests share one copy.

What is checked for a distribution's plugins (``select``):

- every plugin loads, and ``ganzoo list`` shows it from that distribution with a summary, without
  importing torch;
- every architecture and every loss has at least one partner the registry allows;
- every allowed architecture x loss pair trains one CPU step on tiny fake data with finite losses,
  the generator step changes the generator, samples have the data's shape, the generator rebuilt
  from the run (config.json + safetensors) samples exactly the same, and its model card renders;
- every trick does the same with a pair that accepts it;
- every dataset serves batches that match its ``spec()`` (shape, [-1, 1], labels) and trains one
  step with an architecture that accepts it; one that needs files it cannot find is skipped.
"""
from __future__ import annotations

import copy
import inspect
import itertools
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from .. import registry
from ..build import PluginSpec, build_dataset, check_compatible
from ..cards import render_card
from ..contracts import IMAGES, LABELS, POINTS, DataSpec
from ..engine.config import TrainConfig
from ..engine.trainer import Trainer
from ..errors import ConfigError, DataUnavailableError, IncompatibleError
from ..loading import load_run

# Tiny labelled 32 px grayscale images: every image architecture trains on these.
FAKE = {"n": 32, "image_size": 32, "channels": 1, "num_classes": 10}
FAKE_SPEC = DataSpec((1, 32, 32), 10, frozenset({IMAGES, LABELS}))
POINTS_DATA = PluginSpec("toy-ring", {"n": 64})
POINTS_SPEC = DataSpec((2,), 8, frozenset({POINTS, LABELS}))
PREFERRED_PAIRS = [("dcgan", "non-saturating"), ("mlp", "non-saturating")]
SETTINGS = dict(batch_size=4, n_critic=1, log_every=1, seed=3, device="cpu")


@dataclass(frozen=True)
class Selection:
    """The plugins one distribution provides (``None``: every installed one), and their pairs."""

    distribution: str | None
    architectures: list[str]
    losses: list[str]
    tricks: list[str]
    datasets: list[str]
    pairs: list[tuple[str, str]]  # allowed pairs with the architecture or the loss selected
    all_pairs: list[tuple[str, str]]  # every allowed pair: partners for tricks and datasets


def _provided(reg: registry.Registry, distribution: str | None) -> list[str]:
    return [e.name for e in reg.entries() if distribution is None or e.distribution == distribution]


def training_data(arch: str) -> tuple[PluginSpec, DataSpec]:
    """Fake images for every architecture; 2D points for one that only takes points."""
    if POINTS in registry.architectures.get(arch).requires:
        return POINTS_DATA, POINTS_SPEC
    return PluginSpec("fake", dict(FAKE)), FAKE_SPEC


def _allowed(arch: str, loss: str) -> bool:
    try:
        spec, data_spec = training_data(arch)
        check_compatible(arch, loss, [], data_spec, spec.name)
    except IncompatibleError:
        return False
    except Exception:  # a plugin that fails to load is reported by check_plugins_load
        return False
    return True


def select(distribution: str | None = None) -> Selection:
    """Everything ``distribution`` registers (entry points or, for ``"<local>"``, registrations)."""
    archs, losses = _provided(registry.architectures, distribution), _provided(registry.losses, distribution)
    every = [p for p in itertools.product(registry.architectures.names(), registry.losses.names()) if _allowed(*p)]
    mine = [(a, l) for a, l in every if a in archs or l in losses]
    return Selection(distribution, archs, losses, _provided(registry.tricks, distribution),
                     _provided(registry.datasets, distribution), mine, every)


def check_distribution_known(selection: Selection) -> None:
    """A distribution that registers nothing is a typo or an install that lacks its entry points."""
    if selection.distribution is None:
        return
    found = selection.architectures + selection.losses + selection.tricks + selection.datasets
    assert found, (f"no ganzoo plugins are registered by distribution {selection.distribution!r}; is it installed "
                   "(pip install -e .) and are its entry points under ganzoo.architectures/losses/datasets/tricks?")


def check_plugins_load(selection: Selection) -> None:
    """Every selected plugin imports and subclasses its contract."""
    failed = []
    for reg in registry.REGISTRIES.values():
        for name in _provided(reg, selection.distribution):
            entry = reg.check(name)
            if entry.error:
                failed.append(f"{reg.kind} {name}: {entry.error}")
    assert not failed, failed


def check_every_plugin_has_a_partner(selection: Selection) -> None:
    """An architecture no loss accepts (or the reverse) cannot be trained by anyone."""
    lonely = [f"architecture {a}" for a in selection.architectures if all(p[0] != a for p in selection.pairs)]
    lonely += [f"loss {l}" for l in selection.losses if all(p[1] != l for p in selection.pairs)]
    assert not lonely, f"no allowed architecture x loss pair for: {', '.join(lonely)}"


def _listing() -> tuple[list[dict[str, Any]], bool]:
    """``ganzoo list --json`` in a fresh interpreter, and whether it imported torch."""
    code = (
        "import json, sys\n"
        "from ganzoo.cli import main\n"
        "try:\n    main(['list', '--json'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps('torch' in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows_text, _, torch_line = done.stdout.rstrip().rpartition("\n")
    return json.loads(rows_text), json.loads(torch_line)


def check_listed_without_torch(selection: Selection) -> None:
    """``ganzoo list`` shows each selected plugin, from its distribution, with a one-line summary,
    reading metadata and source only (no torch, no plugin import)."""
    if selection.distribution == registry.LOCAL:
        pytest.skip("plugins registered in this process are not visible to `ganzoo list` in another one")
    rows, imported_torch = _listing()
    assert not imported_torch, "`ganzoo list` imported torch: a plugin module was imported to list it"
    shown = {(r["kind"], r["name"]): r for r in rows}
    problems = []
    for plural, reg in registry.REGISTRIES.items():
        for entry in reg.entries():
            if selection.distribution is not None and entry.distribution != selection.distribution:
                continue
            if entry.distribution == registry.LOCAL:
                continue
            row = shown.get((plural, entry.name))
            if row is None:
                problems.append(f"{plural} {entry.name}: not listed")
            elif row["status"] != "ok":
                problems.append(f"{plural} {entry.name}: {row['status']}")
            elif not row["summary"]:
                problems.append(f"{plural} {entry.name}: no summary (the first paragraph of the class docstring)")
            elif row["provider"] != f"{entry.distribution} {entry.version}":
                problems.append(f"{plural} {entry.name}: listed as from {row['provider']}")
    assert not problems, problems


def _train(config: TrainConfig, run_dir: Path) -> tuple[Trainer, dict[str, torch.Tensor]]:
    """Train ``config.steps`` steps; returns the trainer and the generator's initial weights."""
    trainer = Trainer(config, run_dir, progress=False)
    before = {k: v.clone() for k, v in trainer.model.generator.state_dict().items()}
    result = trainer.fit()
    assert result.step == config.steps
    losses = result.last_losses
    assert losses and all(math.isfinite(v) for v in losses.values()), f"non-finite or missing losses: {losses}"
    return trainer, before


def _check_round_trip_and_card(trainer: Trainer, run_dir: Path, names: list[str]) -> None:
    """Samples have the data's shape; the rebuilt raw generator samples the same; the card renders."""
    g = trainer.model.generator.eval()
    z = g.sample_latent(3, generator=torch.Generator().manual_seed(0))
    y = g.sample_labels(3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = g(z, y)
    shape = trainer.data.spec().shape
    assert tuple(out.shape) == (3, *shape), f"samples {tuple(out.shape)}, data {shape}"
    assert torch.isfinite(out).all()
    loaded = load_run(run_dir, ema=False)
    trained = g.state_dict()
    rebuilt = loaded.generator.state_dict()
    assert rebuilt.keys() == trained.keys(), sorted(set(rebuilt) ^ set(trained))
    differ = [k for k in trained if not torch.equal(rebuilt[k], trained[k])]
    assert not differ, f"tensors changed by save -> load: {differ}"
    # Same weights, same layout, same samples: training may keep conv weights channels_last
    # (--precision auto), and other conv kernels round differently in the last bit.
    reference = copy.deepcopy(g).to(memory_format=torch.contiguous_format)
    with torch.no_grad():
        expected, again = reference(z, y), loaded.generator(z, y)
    torch.testing.assert_close(again, expected, rtol=0, atol=0)  # the rebuilt generator samples the same
    card = render_card(run_dir)
    missing = [n for n in names if n not in card]
    assert card.startswith("---\n") and not missing, f"model card lacks {missing}"


def check_pair(arch: str, loss: str, tmp_path: Path) -> None:
    """One training step, shapes, exact save/load round trip and card for an architecture x loss pair."""
    data, _ = training_data(arch)
    config = TrainConfig(arch=PluginSpec(arch), loss=PluginSpec(loss), dataset=data, steps=1, sample_every=1,
                         checkpoint_every=1, **SETTINGS)
    trainer, before = _train(config, tmp_path / "run")
    changed = any(not torch.equal(before[k], v) for k, v in trainer.model.generator.state_dict().items())
    assert changed, "the generator step did not change any generator weight"
    _check_round_trip_and_card(trainer, tmp_path / "run", [arch, loss])


def trick_pair(trick: str, pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A pair that can use the trick: dcgan first, then any allowed pair."""
    for arch, loss in PREFERRED_PAIRS + pairs:
        try:
            check_compatible(arch, loss, [trick], FAKE_SPEC, "fake")
        except (IncompatibleError, ConfigError):
            continue
        except Exception:  # a partner plugin that fails to load: try the next pair
            continue
        return arch, loss
    return None


def check_trick(trick: str, pairs: list[tuple[str, str]], tmp_path: Path) -> None:
    """Two training steps with the trick attached, then the same round trip and card."""
    pair = trick_pair(trick, pairs)
    assert pair is not None, f"no architecture x loss pair accepts trick {trick!r}"
    arch, loss = pair
    config = TrainConfig(arch=PluginSpec(arch), loss=PluginSpec(loss), dataset=PluginSpec("fake", dict(FAKE)),
                         tricks=[PluginSpec(trick)], steps=2, sample_every=2, checkpoint_every=2, **SETTINGS)
    trainer, _ = _train(config, tmp_path / "run")
    _check_round_trip_and_card(trainer, tmp_path / "run", [arch, loss, trick])


def _offline(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The dataset's arguments with downloads off, when it has a ``download`` argument."""
    params = inspect.signature(registry.datasets.get(name)).parameters
    return {"download": False, **args} if "download" in params else dict(args)


def _dataset_pair(spec: DataSpec, name: str, pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    for arch, loss in PREFERRED_PAIRS + pairs:
        try:
            check_compatible(arch, loss, [], spec, name)
        except Exception:  # incompatible, or a partner that fails to load: try the next pair
            continue
        return arch, loss
    return None


def check_dataset(name: str, args: dict[str, Any], pairs: list[tuple[str, str]], tmp_path: Path) -> None:
    """Batches match ``spec()``; one training step on it with an architecture that accepts it."""
    args = _offline(name, args)
    try:
        data, _ = build_dataset(PluginSpec(name, args))
    except (DataUnavailableError, ConfigError) as exc:
        pytest.skip(f"dataset {name!r} cannot be built here ({exc}); give it arguments (dataset_args) to check it")
    spec = data.spec()
    n = min(4, len(data))
    assert n >= 2, f"dataset {name!r} has {len(data)} samples"
    batch = data.get_batch(torch.arange(n))
    x = batch.x
    assert tuple(x.shape) == (n, *spec.shape), f"get_batch gave {tuple(x.shape)}, spec() says {spec.shape}"
    assert x.is_floating_point() and bool(torch.isfinite(x).all()), "samples must be finite floats"
    if spec.is_image:  # points keep their own coordinates (the toys span [-4, 4])
        assert -1 <= float(x.min()) and float(x.max()) <= 1, "image samples must be in [-1, 1]"
    if LABELS in spec.provides:
        assert batch.y is not None and batch.y.shape == (n,), "a dataset that provides labels returns one per sample"
        assert 0 <= int(batch.y.min()) and int(batch.y.max()) < spec.num_classes
    pair = _dataset_pair(spec, name, pairs)
    assert pair is not None, f"no architecture x loss pair accepts dataset {name!r} ({sorted(spec.provides)})"
    arch, loss = pair
    config = TrainConfig(arch=PluginSpec(arch), loss=PluginSpec(loss), dataset=PluginSpec(name, args), steps=1,
                         sample_every=1, checkpoint_every=1, **SETTINGS)
    trainer, _ = _train(config, tmp_path / "run")
    _check_round_trip_and_card(trainer, tmp_path / "run", [arch, loss, name])
