"""The BEGAN plugin package (plugins/ganzoo-began): a third party's plugin, seen only through entry points.

The package is installed like any pip-installed plugin (the Makefile does it; if it is missing, the
fixture installs it). The CLI checks run in subprocesses, as a user would run them, so they see the
installed entry-point metadata exactly as a fresh interpreter does.
"""
from __future__ import annotations

import fcntl
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from ganzoo import registry
from ganzoo.contracts import DInput, DOut, StepContext

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "plugins" / "ganzoo-began"
TRAIN = ["train", "--arch", "began", "--loss", "began", "--dataset", "fake", "--data-arg", "image_size=32",
         "--batch-size", "8", "--quiet", "--log-every", "1"]
GAMMA, LAMBDA_K = 0.5, 0.001  # the loss's defaults, i.e. the paper's


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "GANZOO_DEBUG": ""}


def _visible_in_fresh_interpreter() -> bool:
    probe = "import ganzoo_began, importlib.metadata as m; m.distribution('ganzoo-began')"
    return subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def began_installed() -> None:
    """Install the plugin (editable, from its folder) unless the Makefile already did; xdist-safe."""
    lock_path = Path(tempfile.gettempdir()) / "ganzoo-began-install.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _visible_in_fresh_interpreter():
            done = subprocess.run(
                [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(PLUGIN_DIR)],
                env=_env(), capture_output=True, text=True,
            )
            assert done.returncode == 0, done.stderr[-2000:]
    # This interpreter started before the install: make the package importable and rediscover.
    if importlib.util.find_spec("ganzoo_began") is None:
        sys.path.insert(0, str(PLUGIN_DIR))
        importlib.invalidate_caches()
    for reg in registry.REGISTRIES.values():
        reg.refresh()


def ganzoo(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from ganzoo.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], env=_env(), capture_output=True, text=True, timeout=300)


def _expected_k(k: float, rows: list[dict]) -> float:
    """The paper's update, written out independently of the plugin's code."""
    for row in rows:
        k = min(max(k + LAMBDA_K * (GAMMA * row["l_real"] - row["l_fake"]), 0.0), 1.0)
    return k


def _checkpoint_k(run: Path) -> tuple[str, float]:
    from safetensors.torch import load_file

    latest = (run / "checkpoints" / "latest").read_text().strip()
    weights = load_file(run / "checkpoints" / latest / "model.safetensors")
    loss_keys = sorted(k for k in weights if k.startswith("loss."))
    assert loss_keys == ["loss.k"], loss_keys
    return latest, float(weights["loss.k"])


# --- (2) discovery ------------------------------------------------------------------------------
def test_list_shows_began_from_its_own_distribution() -> None:
    done = ganzoo("list")
    assert done.returncode == 0, done.stderr
    section, found = None, {}
    for line in done.stdout.splitlines():
        if line and not line.startswith(" "):
            section = line.strip()
        elif line.split() and line.split()[0] == "began":
            found[section] = line
    assert set(found) >= {"architectures", "losses"}, done.stdout
    for section in ("architectures", "losses"):
        assert "ganzoo-began 0.1.0" in found[section], found[section]
        assert "Berthelot et al. 2017" in found[section], found[section]
    # Nothing in ganzoo's own metadata mentions it: the entry points come from the plugin package.
    entry = registry.architectures.entry("began")
    assert (entry.distribution, entry.version) == ("ganzoo-began", "0.1.0")
    assert registry.losses.entry("began").distribution == "ganzoo-began"


# --- (3) training, k_t in the checkpoint, resume -----------------------------------------------
def test_train_saves_k_and_resume_continues_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = ganzoo(*TRAIN, "--steps", "4", "--out", str(run))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    latest, k4 = _checkpoint_k(run)
    assert latest == "step-00000004"
    # k_0 = 0 and gamma L(x) > L(G(z)) at the start (noise is reconstructed worse than G's smooth
    # output), so four end_step calls must have moved k; without them it would still be 0.
    assert k4 > 1e-4, k4
    assert k4 == pytest.approx(_expected_k(0.0, rows), abs=2e-6)
    assert rows[-1]["k"] == pytest.approx(k4, abs=1e-6)
    assert rows[-1]["convergence"] == pytest.approx(
        rows[-1]["l_real"] + abs(GAMMA * rows[-1]["l_real"] - rows[-1]["l_fake"]), abs=2e-6)

    done = ganzoo(*TRAIN, "--steps", "6", "--out", str(run), "--resume")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    latest, k6 = _checkpoint_k(run)
    assert latest == "step-00000006"
    # The buffer carried over: steps 5-6 continue from k_4 (a reset would start again from 0).
    assert k6 == pytest.approx(_expected_k(k4, rows[4:]), abs=2e-6)
    assert abs(k6 - _expected_k(0.0, rows[4:])) > 5e-5


# --- (4) refused pairing ------------------------------------------------------------------------
def test_began_loss_with_dcgan_is_refused_before_training(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = ganzoo("train", "--arch", "dcgan", "--loss", "began", "--dataset", "fake", "--data-arg", "image_size=32",
                  "--steps", "4", "--batch-size", "8", "--out", str(run), "--quiet")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "'began'" in lines[0] and "'dcgan'" in lines[0] and "autoencoder_discriminator" in lines[0], lines[0]
    assert not (run / "checkpoints").exists()


# --- (5) the k_t rule and the loss terms on hand-made scores -------------------------------------
def test_k_update_rule_and_clip() -> None:
    from ganzoo_began.loss import k_update

    def k(k0: float, real: float, fake: float, gamma: float = 0.5, lam: float = 0.1) -> float:
        return float(k_update(torch.tensor(k0), torch.tensor(real), torch.tensor(fake), gamma, lam))

    assert k(0.2, 0.4, 0.1) == pytest.approx(0.2 + 0.1 * (0.2 - 0.1))  # G too easy to reconstruct: k up
    assert k(0.5, 0.2, 0.3) == pytest.approx(0.5 + 0.1 * (0.1 - 0.3))  # G too hard: k down
    assert k(0.2, 0.4, 0.1, gamma=0.7) == pytest.approx(0.2 + 0.1 * (0.28 - 0.1))  # gamma scales L(x) only
    assert k(0.0, 0.1, 0.5) == 0.0  # clipped below
    assert k(0.99, 1.0, 0.0) == 1.0  # clipped above (0.99 + 0.05)


def test_loss_terms_end_step_and_state() -> None:
    from ganzoo_began.loss import BEGANLoss

    loss = BEGANLoss(gamma=0.5, lambda_k=0.1)
    real, fake = DOut(torch.tensor([0.3, 0.5])), DOut(torch.tensor([0.1, 0.1]))  # L(x)=0.4, L(G(z))=0.1
    assert float(loss.d_loss(real, fake)) == pytest.approx(0.4)  # k_0 = 0
    stats = loss.end_step(StepContext(None, None, real, fake, 0), {})  # type: ignore[arg-type]
    assert stats["k"] == pytest.approx(0.01) and float(loss.k) == pytest.approx(0.01)
    assert stats["convergence"] == pytest.approx(0.4 + abs(0.2 - 0.1))
    assert float(loss.d_loss(real, fake)) == pytest.approx(0.4 - 0.01 * 0.1)  # L(x) - k L(G(z))
    assert float(loss.g_loss(None, fake)) == pytest.approx(0.1)
    assert float(loss.g_loss(real, fake)) == pytest.approx(0.1)  # no real-side term (documented)

    restored = BEGANLoss(gamma=0.5, lambda_k=0.1)
    restored.load_state_dict(loss.state_dict(), strict=True)  # what a resume does
    assert float(restored.k) == pytest.approx(0.01)


def test_bad_loss_arguments_are_config_errors() -> None:
    from ganzoo.build import PluginSpec, build_loss
    from ganzoo.errors import ConfigError

    with pytest.raises(ConfigError, match="gamma"):
        build_loss(PluginSpec("began", {"gamma": "1.5"}))
    with pytest.raises(ConfigError, match="lambda_k"):
        build_loss(PluginSpec("began", {"lambda_k": "-1"}))


# --- the networks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [28, 32, 64])
def test_autoencoder_discriminator_scores_l1_reconstruction(size: int) -> None:
    from ganzoo_began.architecture import BEGAN

    model = BEGAN(channels=1, image_size=size, latent_dim=8, embedding=6, hidden=4)
    z = model.generator.sample_latent(3, generator=torch.Generator().manual_seed(0))
    assert z.shape == (3, 8) and z.min() >= -1 and z.max() <= 1 and z.min() < 0  # U[-1, 1]
    x = model.generator(z)
    assert x.shape == (3, 1, size, size)
    inp = DInput(x)
    h = model.discriminator.features(inp)
    assert h.shape == (3, 6)  # the embedding
    out = model.discriminator(inp)
    recon = model.discriminator.decoder(h)
    torch.testing.assert_close(out.score, (recon - x).abs().mean(dim=(1, 2, 3)))
    torch.testing.assert_close(out.features, h)
    assert "autoencoder_discriminator" in BEGAN.provides


def test_unsupported_image_size_is_a_config_error() -> None:
    from ganzoo.build import PluginSpec, build_model
    from ganzoo.errors import ConfigError

    with pytest.raises(ConfigError, match="image_size"):
        build_model(PluginSpec("began", {"image_size": "48", "channels": "1"}), [], None)


def test_lucic_began_has_the_networks_the_study_trained_began_with() -> None:
    """compare_gan's BEGAN: the study's shared generator, and a small autoencoder critic (their comment: 1.3M weights)."""
    from ganzoo.architectures.common import FlattenMaps
    from ganzoo.architectures.lucic import LucicGAN
    from ganzoo_began.lucic import LucicBEGAN

    def shapes(module: torch.nn.Module) -> dict[str, torch.Size]:
        return {k: v.shape for k, v in module.state_dict().items()}

    model = LucicBEGAN(channels=3, image_size=32)
    assert shapes(model.generator) == shapes(LucicGAN(channels=3, image_size=32).generator)
    critic = model.discriminator
    assert sum(p.numel() for p in critic.parameters()) == 1_325_379  # CIFAR-sized, where their count is "1.3M"
    convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in critic.encoder if isinstance(m, torch.nn.Conv2d)]
    assert convs == [(3, 64, (4, 4), (2, 2)), (64, 128, (4, 4), (2, 2))]
    second = [i for i, m in enumerate(critic.encoder) if isinstance(m, torch.nn.Conv2d)][1]
    assert isinstance(critic.encoder[second + 1], FlattenMaps)  # their code has no activation after it; nor has ours
    batch_norms = torch.nn.modules.batchnorm._BatchNorm
    assert not any(isinstance(m, batch_norms) for m in critic.modules())  # off by default, as in the study's BEGAN
    assert sum(isinstance(m, batch_norms) for m in LucicBEGAN(d_batch_norm=True).discriminator.modules()) == 3
    assert "autoencoder_discriminator" in LucicBEGAN.provides


def test_lucic_began_energy_is_the_l1_on_unit_range_images() -> None:
    """Half the L1 on ganzoo's [-1, 1] images is the study's L1 on [0, 1], so gamma keeps its meaning."""
    from ganzoo_began.lucic import LucicBEGAN

    model = LucicBEGAN(channels=1, image_size=28)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    out = model.discriminator(DInput(x))
    recon = out.extras["reconstruction"]
    assert recon.shape == x.shape and out.features.shape == (5, 64) and out.score.shape == (5,)
    torch.testing.assert_close(out.score, ((recon + 1) / 2 - (x + 1) / 2).abs().mean(dim=(1, 2, 3)))


def test_lucic_began_refuses_an_image_it_cannot_halve_twice() -> None:
    from ganzoo.build import PluginSpec, build_model
    from ganzoo.errors import ConfigError

    with pytest.raises(ConfigError, match="multiple of 4"):
        build_model(PluginSpec("lucic-began", {"image_size": "14", "channels": "1"}), [], None)  # G takes 14 px, D cannot


def test_lucic_preset_trains_began_at_the_studys_defaults(tmp_path: Path) -> None:
    out = tmp_path / "b"
    done = ganzoo("bench", "--preset", "lucic", "--arch", "lucic-began", "--loss", "began", "--seeds", "1", "--steps", "10",
                  "--arch-arg", "hidden=32", "--arch-arg", "width=8", "--metrics", "class-histogram", "--n-generated", "50",
                  "--n-real", "50", "--device", "cpu", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    run = out / "cells" / "lucic-began__began__fashion-mnist__s0" / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["architecture"]["args"]["d_batch_norm"] is False and config["resolved"]["n_critic"] == 5
    assert config["loss"]["args"] == {"gamma": 0.75, "lambda_k": 0.001}
    assert (config["resolved"]["lr_g"], config["resolved"]["lr_d"], config["resolved"]["betas"]) == (1e-4, 1e-4, [0.5, 0.999])
    (result,) = json.loads((out / "results.json").read_text())["results"]
    assert result["final"]["step"] == 2  # 10 discriminator steps at 5 per generator step
