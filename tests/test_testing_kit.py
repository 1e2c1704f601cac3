"""The conformance kit (ganzoo.testing) as a plugin author uses it: the pytest plugin selected by
distribution, its cost when unused, and that its checks catch a broken plugin."""
from __future__ import annotations

import importlib.metadata as metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import Tensor

from ganzoo import registry
from ganzoo.contracts import DOut
from ganzoo.errors import NonFiniteLossError
from ganzoo.losses.classic import NonSaturating
from ganzoo.testing import checks


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest in a fresh interpreter on an empty folder: only the kit's generated tests can run."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "--rootdir", str(tmp_path), *args, str(tmp_path)]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_pytest_plugin_is_an_entry_point_named_like_its_module() -> None:
    found = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11") if ep.value.startswith("ganzoo")}
    assert found == {"ganzoo.testing": "ganzoo.testing"}  # so `-p ganzoo.testing` is that same plugin


def test_loading_the_plugin_imports_no_torch() -> None:
    code = "import sys, ganzoo.testing; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_ganzoo_dist_option_runs_the_checks_for_that_distribution(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "--ganzoo-dist", "ganzoo-began", "-rA", "-k", "registers or load or listed or began-began")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for test in ("test_distribution_registers_plugins", "test_plugins_load", "test_listed_without_importing_torch",
                 "test_pair_trains_and_round_trips[began-began]"):
        assert f"PASSED ganzoo-conformance[ganzoo-began]::TestConformance::{test}" in done.stdout, done.stdout[-3000:]


def test_ini_option_and_explicit_plugin_work_without_autoload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nganzoo_dist = ganzoo-began\n")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    done = _pytest(tmp_path, "-p", "ganzoo.testing", "-k", "registers")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


def test_unknown_distribution_fails_and_says_why(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "--ganzoo-dist", "ganzoo-no-such-package", "-k", "registers")
    assert done.returncode == 1
    assert "no ganzoo plugins are registered by distribution 'ganzoo-no-such-package'" in done.stdout


def test_without_a_distribution_the_plugin_adds_nothing(tmp_path: Path) -> None:
    done = _pytest(tmp_path)
    assert done.returncode == 5 and "no tests ran" in done.stdout  # pytest's "nothing collected"


class NaNLoss(NonSaturating):
    """A broken loss: the generator's objective is NaN."""

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        return super().g_loss(real, fake) * float("nan")


class GoodLoss(NonSaturating):
    """A loss registered from a script (distribution "<local>"): non-saturating under another name."""


@pytest.fixture
def local_losses():
    registry.losses.register(NaNLoss, name="kit-nan")
    registry.losses.register(GoodLoss, name="kit-good")
    try:
        yield
    finally:
        registry.losses.unregister("kit-nan")
        registry.losses.unregister("kit-good")


def test_kit_selects_local_registrations_and_catches_a_broken_loss(local_losses, tmp_path: Path) -> None:
    chosen = checks.select(registry.LOCAL)
    assert chosen.losses == ["kit-good", "kit-nan"] and chosen.architectures == []
    assert ("dcgan", "kit-good") in chosen.pairs and ("dcgan", "non-saturating") not in chosen.pairs
    checks.check_every_plugin_has_a_partner(chosen)
    checks.check_pair("dcgan", "kit-good", tmp_path / "good")
    with pytest.raises(NonFiniteLossError):
        checks.check_pair("dcgan", "kit-nan", tmp_path / "nan")


def test_round_trip_check_catches_a_generator_that_does_not_survive_save_and_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a plugin with state outside its state_dict would look like: the rebuilt model differs.
    real_load_run = checks.load_run

    def perturbed(run_dir, **kwargs):
        loaded = real_load_run(run_dir, **kwargs)
        with torch.no_grad():
            next(loaded.generator.parameters()).add_(1e-3)
        return loaded

    monkeypatch.setattr(checks, "load_run", perturbed)
    with pytest.raises(AssertionError, match="tensors changed by save -> load"):
        checks.check_pair("mlp", "hinge", tmp_path)
