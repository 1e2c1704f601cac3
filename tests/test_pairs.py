"""Generated from the registry: every architecture x loss pair the registry allows gets the same checks.

A plugin added by anyone (an entry point in ganzoo or in another package) is covered here
without writing a test for it: one CPU training step with finite losses, the right output shapes,
and a save -> load round trip that reproduces the generator exactly.
"""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from ganzoo import registry
from ganzoo.build import PluginSpec, check_compatible
from ganzoo.contracts import DataSpec
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import IncompatibleError
from ganzoo.loading import load_run

FAKE = {"n": 32, "image_size": 32, "channels": 1, "num_classes": 10}
FAKE_SPEC = DataSpec((1, 32, 32), 10, frozenset({"images", "labels"}))


def _dataset_for(arch: str) -> PluginSpec:
    """Images (the fake dataset) for every architecture; 2D points for one that only takes points."""
    requires = registry.architectures.get(arch).requires
    if "points" in requires:
        return PluginSpec("toy-ring", {"n": 64})
    return PluginSpec("fake", dict(FAKE))


def _allowed_pairs() -> list[tuple[str, str]]:
    pairs = []
    for arch, loss in itertools.product(registry.architectures.names(), registry.losses.names()):
        try:
            spec = _dataset_for(arch)
            data_spec = FAKE_SPEC if spec.name == "fake" else DataSpec((2,), 8, frozenset({"points", "labels"}))
            check_compatible(arch, loss, [], data_spec, spec.name)
        except IncompatibleError:
            continue
        except Exception:  # a plugin that fails to load is reported by test_every_plugin_loads
            continue
        pairs.append((arch, loss))
    return pairs


PAIRS = _allowed_pairs()


def test_every_plugin_loads() -> None:
    failed = []
    for reg in registry.REGISTRIES.values():
        for name in reg.names():
            entry = reg.check(name)
            if entry.error:
                failed.append(f"{reg.kind} {name}: {entry.error}")
    assert not failed, failed


def test_every_architecture_has_a_pair() -> None:
    covered = {arch for arch, _ in PAIRS}
    assert covered == set(registry.architectures.names())


@pytest.mark.parametrize("arch,loss", PAIRS, ids=[f"{a}-{l}" for a, l in PAIRS])
def test_pair_trains_and_round_trips(arch: str, loss: str, tmp_path) -> None:
    config = TrainConfig(
        arch=PluginSpec(arch), loss=PluginSpec(loss), dataset=_dataset_for(arch), steps=1, batch_size=4,
        n_critic=1, sample_every=1, checkpoint_every=1, log_every=1, seed=3,
    )
    trainer = Trainer(config, tmp_path / "run", progress=False)
    before = {k: v.clone() for k, v in trainer.model.generator.state_dict().items()}
    result = trainer.fit()

    assert result.step == 1
    assert result.last_losses and all(math.isfinite(v) for v in result.last_losses.values()), result.last_losses
    changed = any(not torch.equal(before[k], v) for k, v in trainer.model.generator.state_dict().items())
    assert changed, "the generator step did not change any generator weight"

    g = trainer.model.generator.eval()
    z = g.sample_latent(3, generator=torch.Generator().manual_seed(0))
    y = g.sample_labels(3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = g(z, y)
    shape = trainer.data.spec().shape
    assert tuple(out.shape) == (3, *shape)
    assert torch.isfinite(out).all()

    # Save -> load: the raw generator rebuilt from config.json + safetensors gives identical samples.
    loaded = load_run(tmp_path / "run", ema=False)
    with torch.no_grad():
        again = loaded.generator(z, y)
    torch.testing.assert_close(again, out, rtol=0, atol=0)


def _trick_pair(trick: str) -> tuple[str, str] | None:
    """A default pair that can use the trick: dcgan first, then any allowed pair."""
    preferred = [("dcgan", "non-saturating")] + PAIRS
    for arch, loss in preferred:
        try:
            check_compatible(arch, loss, [trick], FAKE_SPEC, "fake")
        except IncompatibleError:
            continue
        return arch, loss
    return None


@pytest.mark.parametrize("trick", registry.tricks.names())
def test_trick_trains_and_round_trips(trick: str, tmp_path) -> None:
    pair = _trick_pair(trick)
    assert pair is not None, f"no architecture x loss pair accepts trick {trick!r}"
    arch, loss = pair
    config = TrainConfig(
        arch=PluginSpec(arch), loss=PluginSpec(loss), dataset=PluginSpec("fake", dict(FAKE)),
        tricks=[PluginSpec(trick)], steps=2, batch_size=4, sample_every=2, checkpoint_every=2, log_every=1,
    )
    trainer = Trainer(config, tmp_path / "run", progress=False)
    result = trainer.fit()
    assert all(math.isfinite(v) for v in result.last_losses.values()), result.last_losses
    loaded = load_run(tmp_path / "run", ema=False)
    z = loaded.latents(2, seed=0)
    with torch.no_grad():
        expected = trainer.model.generator.eval()(z, loaded._labels(2, None, 0))
    torch.testing.assert_close(loaded.sample(2, seed=0), expected.float(), rtol=0, atol=0)
