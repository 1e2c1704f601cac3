"""The training engine: resume is step-exact, checkpoints are atomic, NaN stops cleanly, bad input is
one line, and torchrun runs two processes in lockstep."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from conftest import NaNAfterTwo
from ganzoo import registry
from ganzoo.build import PluginSpec
from ganzoo.cards import render_card_from
from ganzoo.contracts import Loss
from ganzoo.engine import checkpoint
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import CheckpointError, ConfigError, IncompatibleError, NonFiniteLossError
from ganzoo.losses.classic import NonSaturating

SMALL_DCGAN = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
FAKE = PluginSpec("fake", {"n": 64, "image_size": 28})


def config(**overrides) -> TrainConfig:
    values = dict(arch=SMALL_DCGAN, loss=PluginSpec("non-saturating"), dataset=FAKE, steps=6, batch_size=8,
                  sample_every=3, checkpoint_every=3, log_every=1, seed=5)
    values.update(overrides)
    return TrainConfig(**values)


def weights(run: Path) -> dict[str, torch.Tensor]:
    _, w, _ = checkpoint.load(checkpoint.latest(run))
    return w


def test_resume_matches_uninterrupted_run_step_for_step(tmp_path) -> None:
    Trainer(config(steps=6), tmp_path / "straight", progress=False).fit()
    Trainer(config(steps=3), tmp_path / "resumed", progress=False).fit()
    result = Trainer(config(steps=6), tmp_path / "resumed", resume=True, progress=False).fit()
    assert result.step == 6
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # epoch 8 batches per epoch -> the resumed run also crossed no epoch boundary differently
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]


def test_lr_decay_until_lowers_both_rates_in_a_line_to_zero_and_a_resume_follows_the_same_line(tmp_path) -> None:
    straight = Trainer(config(steps=6, lr_decay_until=6), tmp_path / "straight", progress=False)
    straight.fit()
    base_g, base_d = straight.hp.lr_g, straight.hp.lr_d
    # The last of 6 steps (step index 5) ran at 1/6 of each rate: the next would have been 0.
    assert straight.opt_g.param_groups[0]["lr"] == pytest.approx(base_g / 6)
    assert straight.opt_d.param_groups[0]["lr"] == pytest.approx(base_d / 6)
    half = Trainer(config(steps=3, lr_decay_until=6), tmp_path / "resumed", progress=False)
    half.fit()
    assert half.opt_g.param_groups[0]["lr"] == pytest.approx(base_g * 4 / 6)  # step index 2
    Trainer(config(steps=6, lr_decay_until=6), tmp_path / "resumed", resume=True, progress=False).fit()
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert all(torch.equal(a[key], b[key]) for key in a)
    Trainer(config(steps=6), tmp_path / "constant", progress=False).fit()
    assert not torch.equal(a["model.generator.net.0.weight"], weights(tmp_path / "constant")["model.generator.net.0.weight"])
    saved = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert saved["training"]["lr_decay_until"] == 6
    assert "falling in a line to 0 at step 6 |" in render_card_from({**saved, "weights": {}}, "org/decayed")
    # Past the step where the rates reach 0 is refused, for a new run and for a resume alike.
    with pytest.raises(ConfigError, match="--steps 7 runs past --lr-decay-until 6"):
        Trainer(config(steps=7, lr_decay_until=6), tmp_path / "past", progress=False)
    with pytest.raises(ConfigError, match="--steps 8 runs past --lr-decay-until 6"):
        Trainer(config(steps=8), tmp_path / "resumed", resume=True, progress=False)
    longer = Trainer(config(steps=8, lr_decay_until=12), tmp_path / "resumed", resume=True, progress=False)
    assert {"setting": "lr_decay_until", "from": 6, "to": 12} == {k: v for k, v in longer.changes[-1].items() if k != "step"}


def _adam_steps(optimizer: torch.optim.Optimizer) -> set[int]:
    return {int(state["step"]) for state in optimizer.state.values()}


def test_g_steps_updates_the_generator_that_many_times_per_step_and_resumes_exactly(tmp_path) -> None:
    trainer = Trainer(config(steps=3, g_steps=2, device="cpu"), tmp_path / "two", progress=False)
    trainer.fit()
    assert _adam_steps(trainer.opt_g) == {6} and _adam_steps(trainer.opt_d) == {3}
    assert "| steps (2 generator updates each) | 3 |" in render_card_from(
        {**json.loads((tmp_path / "two" / "config.json").read_text()), "weights": {}}, "org/two")
    one = Trainer(config(steps=3, device="cpu"), tmp_path / "one", progress=False)
    one.fit()
    assert _adam_steps(one.opt_g) == {3}
    # The second update draws its own noise: a run with g_steps 2 is not the run with 1.
    assert not torch.equal(weights(tmp_path / "two")["model.generator.net.0.weight"], weights(tmp_path / "one")["model.generator.net.0.weight"])
    Trainer(config(steps=6, g_steps=2, device="cpu"), tmp_path / "two-straight", progress=False).fit()
    Trainer(config(steps=6, g_steps=2, device="cpu"), tmp_path / "two", resume=True, progress=False).fit()
    a, b = weights(tmp_path / "two-straight"), weights(tmp_path / "two")
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_a_resume_may_change_g_steps_and_records_it(tmp_path) -> None:
    Trainer(config(steps=3, device="cpu"), tmp_path / "run", progress=False).fit()
    trainer = Trainer(config(steps=4, g_steps=3, device="cpu"), tmp_path / "run", resume=True, progress=False)
    trainer.fit()
    assert _adam_steps(trainer.opt_g) == {6}  # 3 steps of one update, then one of three
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert {"setting": "g_steps", "from": 1, "to": 3, "step": 3}.items() <= saved["resume_changes"][0].items()


def test_outputs_of_a_run(tmp_path) -> None:
    result = Trainer(config(steps=3), tmp_path / "run", progress=False).fit()
    run = tmp_path / "run"
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["architecture"]["name"] == "dcgan" and cfg["architecture"]["distribution"] == "ganzoo"
    assert cfg["architecture"]["args"]["image_size"] == 28  # filled from the dataset
    assert cfg["resolved"]["betas"] == [0.5, 0.999]  # the DCGAN paper's defaults
    assert (run / "samples" / "step-00000003.png").is_file()
    assert result.checkpoint == run / "checkpoints" / "step-00000003"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["step"] == 3 and summary["wall_time_s"] > 0



def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path) -> None:
    registry.losses.register(NaNAfterTwo, name="nan-after-two")
    try:
        cfg = config(loss=PluginSpec("nan-after-two"), steps=10, checkpoint_every=2)
        with pytest.raises(NonFiniteLossError) as err:
            Trainer(cfg, tmp_path / "run", progress=False).fit()
    finally:
        registry.losses.unregister("nan-after-two")
    assert "d_adv" in str(err.value) and "step 3" in str(err.value) and "step-00000002" in str(err.value)
    assert checkpoint.latest(tmp_path / "run").name == "step-00000002"
    step, w, _ = checkpoint.load(checkpoint.latest(tmp_path / "run"))
    assert step == 2 and all(torch.isfinite(t).all() for t in w.values() if t.is_floating_point())


def test_crash_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch) -> None:
    Trainer(config(steps=3), tmp_path / "run", progress=False).fit()
    real_write = checkpoint.write_safetensors

    def crash_on_trainer_state(path, tensors, metadata=None):
        if Path(path).name == "trainer.safetensors":
            raise OSError("disk full (simulated)")
        return real_write(path, tensors, metadata)

    monkeypatch.setattr(checkpoint, "write_safetensors", crash_on_trainer_state)
    with pytest.raises(OSError):
        Trainer(config(steps=6), tmp_path / "run", resume=True, progress=False).fit()
    monkeypatch.undo()
    ckpts = tmp_path / "run" / "checkpoints"
    assert checkpoint.latest(tmp_path / "run").name == "step-00000003"
    assert not [p for p in ckpts.iterdir() if p.name.startswith(".")], "temporary files left behind"
    checkpoint.load(checkpoint.latest(tmp_path / "run"))  # still loads and verifies


def test_corrupt_checkpoint_is_refused_on_resume(tmp_path) -> None:
    Trainer(config(steps=3), tmp_path / "run", progress=False).fit()
    model_file = checkpoint.latest(tmp_path / "run") / "model.safetensors"
    data = bytearray(model_file.read_bytes())
    data[-10] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        Trainer(config(steps=6), tmp_path / "run", resume=True, progress=False).fit()


def test_resume_with_other_settings_is_refused(tmp_path) -> None:
    Trainer(config(steps=3), tmp_path / "run", progress=False).fit()
    with pytest.raises(ConfigError, match="loss non-saturating -> minimax"):
        Trainer(config(steps=6, loss=PluginSpec("minimax")), tmp_path / "run", resume=True, progress=False)
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(config(steps=6), tmp_path / "run", progress=False).fit()


class NeedsLabels(NonSaturating):
    """Test loss that needs a conditional architecture."""

    requires = frozenset({"conditional"})


def test_incompatible_pair_is_refused_before_the_first_step(tmp_path) -> None:
    registry.losses.register(NeedsLabels, name="needs-labels")
    try:
        with pytest.raises(IncompatibleError) as err:
            Trainer(config(loss=PluginSpec("needs-labels")), tmp_path / "run", progress=False)
    finally:
        registry.losses.unregister("needs-labels")
    assert "needs-labels" in str(err.value) and "dcgan" in str(err.value) and "conditional" in str(err.value)
    assert not (tmp_path / "run").exists()
    with pytest.raises(IncompatibleError, match="dcgan.*toy-ring"):
        Trainer(config(dataset=PluginSpec("toy-ring")), tmp_path / "run2", progress=False)


# --- through the command line ---------------------------------------------------------------------
def ganzoo(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ganzoo.cli", *args], capture_output=True, text=True, env=env, timeout=300, **kwargs)


TRAIN = ["train", "--arch", "dcgan", "--arch-arg", "g_width=8", "--arch-arg", "d_width=8", "--loss", "non-saturating",
         "--dataset", "fake", "--data-arg", "n=64", "--batch-size", "8", "--quiet"]


@pytest.mark.parametrize(
    "extra,expected",
    [
        (["--steps", "0"], "steps must be positive"),
        (["--arch-arg", "g_width=abc"], "g_width must be an integer"),
        (["--arch-arg", "nope=1"], "has no argument 'nope'"),
        (["--arch-arg", "image_size=30"], "image sizes"),
        (["--ema", "2"], "ema must be in (0, 1)"),
        (["--betas", "0.5"], "--betas expects two numbers"),
        (["--trick", "no-such-trick"], "unknown trick"),
        (["--data-dir", "/nonexistent/dir"], "is not a directory"),
        (["--device", "cuda:7"] if not torch.cuda.is_available() else ["--device", "tpu"], "device"),
    ],
)
def test_cli_bad_values_are_one_line_errors(tmp_path, extra, expected) -> None:
    proc = ganzoo(*TRAIN, "--out", str(tmp_path / "run"), *extra)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_fashion_mnist_missing_files_say_what_to_do(tmp_path) -> None:
    cmd = ["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fashion-mnist", "--quiet"]
    proc = ganzoo(*cmd, "--data-dir", str(tmp_path), "--out", str(tmp_path / "r"))
    assert proc.returncode == 1 and "--data-dir" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def _wait_for_checkpoint(run: Path, proc: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            ckpt = checkpoint.latest(run)
        except CheckpointError:
            ckpt = None
        if ckpt is not None:
            return int(ckpt.name.split("-")[1])
        if proc.poll() is not None:
            raise AssertionError(f"training exited early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.2)
    raise AssertionError("no checkpoint appeared")


def test_kill_then_resume_continues(tmp_path) -> None:
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganzoo.cli", *TRAIN, "--steps", "100000", "--checkpoint-every", "2", "--log-every", "1", "--out", str(run)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        killed_at = _wait_for_checkpoint(run, proc)
    finally:
        proc.kill()
        proc.wait()
    saved = checkpoint.latest(run)
    saved_step = int(saved.name.split("-")[1])
    assert saved_step >= killed_at >= 2
    target = saved_step + 3
    done = ganzoo(*TRAIN, "--steps", str(target), "--checkpoint-every", "2", "--log-every", "1", "--out", str(run), "--resume")
    assert done.returncode == 0, done.stderr
    assert f"to step {target}" in done.stdout
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps[-3:] == [saved_step + 1, saved_step + 2, saved_step + 3]


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path) -> None:
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganzoo.cli", *TRAIN, "--steps", "100000", "--checkpoint-every", "1000", "--log-every", "1", "--out", str(run)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 120
    while not (run / "metrics.jsonl").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    ckpt = checkpoint.latest(run)
    assert ckpt is not None and int(ckpt.name.split("-")[1]) >= 1


RANK_SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys
    import torch
    from ganzoo.build import PluginSpec
    from ganzoo.engine.config import TrainConfig
    from ganzoo.engine.trainer import Trainer

    torch.set_num_threads(1)
    cfg = TrainConfig(arch=PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16}),
                      loss=PluginSpec("non-saturating"), dataset=PluginSpec("fake", {"n": 64, "image_size": 28}),
                      steps=3, batch_size=8, checkpoint_every=3, sample_every=3, log_every=1, device="cpu")
    trainer = Trainer(cfg, sys.argv[1], progress=False)
    rank = trainer.dist.rank
    trainer.fit()
    digest = hashlib.sha256()
    for p in list(trainer.model.parameters()):
        digest.update(p.detach().numpy().tobytes())
    with open(os.path.join(sys.argv[1], f"rank{rank}.sha"), "w") as fh:
        fh.write(digest.hexdigest())
    """
)


def _free_port() -> int:
    """A loopback port nobody listens on (torchrun's port 0 does not pick one for the store)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_torchrun_two_cpu_processes_stay_in_lockstep(tmp_path) -> None:
    script = tmp_path / "train_rank.py"
    script.write_text(RANK_SCRIPT)
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), str(script), str(run)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    hashes = {(run / f"rank{r}.sha").read_text() for r in (0, 1)}
    assert len(hashes) == 1, "ranks diverged: gradients were not averaged"
    assert checkpoint.latest(run).name == "step-00000003"
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3  # only rank 0 logs
    assert json.loads((run / "summary.json").read_text())["world_size"] == 2
