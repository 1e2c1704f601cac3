"""Nothing saved is ever lost, and every piece of advice leads somewhere (issue 11).

Re-exports swap the whole folder; `--out` never overwrites what is not a run; no checkpoint with a
NaN or an infinity is written; a stop signal to the whole process group saves like one to the main
process; a resume that would go back in steps touches nothing; a diverged run says a command that
works; a broken `latest`, a damaged checkpoint or a lost config.json fall back to what is intact;
stale temporary folders and metrics past the resumed step are cleaned.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import pickle
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import registry
from ganzoo.build import PluginSpec
from ganzoo.engine import checkpoint
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import CheckpointError, ConfigError, NonFiniteLossError
from ganzoo.export import export_run
from ganzoo.losses.classic import NonSaturating
from ganzoo.safeio import OLD_SUFFIX, recover_folder, replace_folder
from conftest import NaNAfterTwo, run_cli

SMALL_DCGAN = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
FAKE = PluginSpec("fake", {"n": 64, "image_size": 28})
TRAIN = ["train", "--arch", "dcgan", "--arch-arg", "g_width=8", "--arch-arg", "d_width=8", "--arch-arg", "latent_dim=16",
         "--loss", "non-saturating", "--dataset", "fake", "--data-arg", "n=64", "--data-arg", "image_size=28",
         "--batch-size", "8", "--quiet", "--precision", "fp32", "--device", "cpu"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "GANZOO_TEST_THREADS": "1"}


def config(**overrides) -> TrainConfig:
    values = dict(arch=SMALL_DCGAN, loss=PluginSpec("non-saturating"), dataset=FAKE, steps=4, batch_size=8, sample_every=100,
                  checkpoint_every=2, log_every=1, seed=5, device="cpu", precision="fp32", keep_checkpoints=0)
    values.update(overrides)
    return TrainConfig(**values)


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A run at step 4 with checkpoints at steps 2 and 4."""
    Trainer(config(), tmp_path / "run", progress=False).fit()
    return tmp_path / "run"


@pytest.fixture
def export(run: Path, tmp_path: Path) -> Path:
    return export_run(run, tmp_path / "export", include_discriminator=True, model_id="org/tiny")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --- 1a: a re-export is atomic as a folder ---------------------------------------------------------------
def test_a_failed_reexport_leaves_the_old_export_intact(run: Path, export: Path) -> None:
    before = hashes(export)
    (run / "eval.json").write_text(json.dumps({"results": 5}))
    with pytest.raises(CheckpointError, match="eval.json"):
        export_run(run, export, model_id="org/tiny")
    assert hashes(export) == before
    assert ganzoo.load(export).sample(2, seed=0).shape == (2, 1, 28, 28)
    assert not [p for p in export.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import ganzoo.export as export
    run, out, victim = sys.argv[1:]
    real = getattr(export, victim)
    def killed(path, *args, **kwargs):
        if victim == "write_safetensors" or str(path).endswith("config.json"):
            os._exit(9)  # as kill -9 would, with no cleanup
        return real(path, *args, **kwargs)
    setattr(export, victim, killed)
    export.export_run(run, out, model_id="org/tiny")
    """
)


@pytest.mark.parametrize("victim", ["write_safetensors", "write_json"])
def test_a_killed_reexport_leaves_the_old_export_loadable(run: Path, export: Path, tmp_path: Path, victim: str) -> None:
    before = hashes(export)
    script = tmp_path / "kill_export.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(run), str(export), victim], capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert hashes(export) == before
    assert ganzoo.load(export).sample(2, seed=0).shape == (2, 1, 28, 28)
    assert [p for p in tmp_path.iterdir() if ".export-tmp-" in p.name], "the kill should have left the temporary folder"
    export_run(run, export, model_id="org/tiny")  # the next export cleans it up
    assert not [p for p in tmp_path.iterdir() if ".export-tmp-" in p.name]


def test_a_reexport_replaces_export_files_and_keeps_the_users(run: Path, export: Path) -> None:
    (export / "notes.txt").write_text("mine")
    (export / ".git").mkdir()
    (export / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    export_run(run, export, model_id="org/tiny", samples=False)
    assert not (export / "discriminator.safetensors").exists() and not (export / "samples.png").exists()
    assert (export / "notes.txt").read_text() == "mine" and (export / ".git" / "HEAD").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert export.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
    assert ganzoo.load(export).sample(1, seed=0).shape == (1, 1, 28, 28)


def test_replace_folder_without_renameat2_and_recovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ganzoo.safeio as safeio

    final, new = tmp_path / "final", tmp_path / "new"
    final.mkdir(), new.mkdir()
    (final / "a").write_text("old")
    (new / "a").write_text("new")
    monkeypatch.setattr(safeio, "_exchange", lambda a, b: False)
    replace_folder(new, final)
    assert (final / "a").read_text() == "new" and not new.exists()
    # a swap killed between its two renames: the old folder is put back
    (tmp_path / f".final{OLD_SUFFIX}").mkdir()
    (tmp_path / f".final{OLD_SUFFIX}" / "a").write_text("older")
    shutil.rmtree(final)
    recover_folder(final)
    assert (final / "a").read_text() == "older"


# --- 1b: --out must be new, empty or a run -----------------------------------------------------------------
def test_train_refuses_an_out_folder_holding_an_export(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = hashes(export)
    code, _, err = run_cli([*TRAIN, "--steps", "2", "--out", str(export)], capsys)
    assert code == 1 and "holds an exported model" in _one_error_line(err)
    assert hashes(export) == before


def test_train_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    code, _, err = run_cli([*TRAIN, "--steps", "2", "--out", str(folder)], capsys)
    assert code == 1 and "'thesis.tex'" in _one_error_line(err)
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]
    empty = tmp_path / "empty"
    empty.mkdir()
    Trainer(config(steps=1), empty, progress=False)  # an empty folder and a new one are fine
    Trainer(config(steps=1), tmp_path / "new", progress=False)


# --- 1c: no checkpoint holds a NaN or an infinity ---------------------------------------------------------
class InfWeightsAtStepTwo(NonSaturating):
    """Test loss: at the end of the second step the generator's first weight becomes infinite, while
    every logged loss of that step is finite."""

    def end_step(self, ctx, stats):
        if ctx.step == 1:
            with torch.no_grad():
                next(ctx.model.generator.parameters()).fill_(float("inf"))
        return {}


def test_non_finite_weights_are_never_checkpointed(tmp_path: Path) -> None:
    registry.losses.register(InfWeightsAtStepTwo, name="inf-weights-at-two")
    try:
        with pytest.raises(NonFiniteLossError) as err:
            Trainer(config(loss=PluginSpec("inf-weights-at-two"), checkpoint_every=1), tmp_path / "run", progress=False).fit()
    finally:
        registry.losses.unregister("inf-weights-at-two")
    message = str(err.value)
    assert "model.generator." in message and "step 2" in message and "no checkpoint was written" in message
    assert "step-00000001" in message and "\n" not in message
    assert [p.name for p in checkpoint.complete(tmp_path / "run")] == ["step-00000001"]
    _, weights, state = checkpoint.load(checkpoint.latest(tmp_path / "run"))
    assert checkpoint.first_non_finite(weights, state) is None


def test_non_finite_optimizer_state_is_found() -> None:
    state = {"opt_g": {"state": {0: {"exp_avg_sq": torch.tensor([1.0, float("nan")])}}}}
    assert checkpoint.first_non_finite({"model.w": torch.zeros(2)}, state) == "trainer/opt_g/state/0/exp_avg_sq"
    assert checkpoint.first_non_finite({"model.w": torch.zeros(2)}, {"rng": torch.zeros(3, dtype=torch.uint8)}) is None


def test_infinite_learning_rates_are_refused_before_anything_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*TRAIN, "--steps", "3", "--checkpoint-every", "1", "--lr-g", "inf", "--out", str(tmp_path / "run")], capsys)
    assert code == 1 and "lr-g must be a finite number" in _one_error_line(err)
    assert not (tmp_path / "run").exists()


# --- 1d and 2c: a stop signal, also to the whole process group, saves and says how to continue ---------------
def _start(run: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "ganzoo.cli", *TRAIN, "--steps", "100000", "--checkpoint-every", "100000", "--log-every", "1",
           "--out", str(run), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)


def _wait_for_steps(run: Path, proc: subprocess.Popen, steps: int = 2) -> None:
    deadline = time.time() + 180
    metrics = run / "metrics.jsonl"
    while time.time() < deadline and proc.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= steps:
            return
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"training did not start: {proc.communicate()[1][-2000:]}")


@pytest.mark.parametrize("workers", [0, 2])
def test_sigterm_to_the_process_group_saves_and_says_how_to_continue(tmp_path: Path, workers: int) -> None:
    run = tmp_path / "run"
    proc = _start(run, "--num-workers", str(workers), "--data-arg", "n=4096")
    _wait_for_steps(run, proc)
    os.killpg(proc.pid, signal.SIGTERM)  # what systemd, Slurm and kill -TERM -PGID do
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "internal error" not in err and "Traceback" not in err
    saved = checkpoint.latest(run)
    step = int(saved.name.split("-")[1])
    assert step >= 2 and f"interrupted at step {step} of 100000" in out and "trained" not in out
    command = re.search(r"continue with: (.*)", out).group(1)
    argv = shlex.split(command)
    assert argv[:2] == ["ganzoo", "train"] and argv[-1] == "--resume" and str(run) in argv
    # the command works: one more step (click takes the last --steps)
    done = subprocess.run([sys.executable, "-m", "ganzoo.cli", *argv[1:], "--steps", str(step + 1)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0 and f"to step {step + 1}" in done.stdout, done.stderr[-2000:]


# --- 1e: a resume that would go back touches nothing ---------------------------------------------------------
def test_resume_to_fewer_steps_is_refused_and_touches_nothing(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = hashes(run)
    with pytest.raises(ConfigError, match=r"already at step 4 .*--steps 2 would go back"):
        Trainer(config(steps=2), run, resume=True, progress=False).fit()
    assert hashes(run) == before
    result = Trainer(config(steps=4), run, resume=True, progress=False).fit()
    assert result.status == "nothing to do" and result.step == 4
    assert hashes(run) == before
    code, out, err = run_cli([*TRAIN, "--steps", "4", "--checkpoint-every", "2", "--log-every", "1", "--seed", "5",
                              "--keep-checkpoints", "0", "--out", str(run), "--resume"], capsys)
    assert code == 0 and "nothing to do" in out and "img/s" not in out, err
    assert hashes(run) == before


# --- 2a: after a non-finite loss, the advice is a command that works --------------------------------------

@pytest.fixture
def nan_loss():
    registry.losses.register(NaNAfterTwo, name="nan-after-two")
    yield PluginSpec("nan-after-two")
    registry.losses.unregister("nan-after-two")


def test_the_advice_after_a_non_finite_loss_is_a_command_that_works(tmp_path: Path, nan_loss: PluginSpec) -> None:
    run = tmp_path / "run"
    with pytest.raises(NonFiniteLossError) as err:
        Trainer(config(loss=nan_loss, steps=10, tricks=[PluginSpec("r1", {"gamma": 1.0})]), run, progress=False).fit()
    advice = re.search(r"--resume --lr-g (\S+) --lr-d (\S+)", str(err.value))
    assert advice and "step-00000002" in str(err.value), str(err.value)
    lr_g, lr_d = float(advice.group(1)), float(advice.group(2))
    trainer = Trainer(config(loss=nan_loss, steps=4, lr_g=lr_g, lr_d=lr_d, tricks=[PluginSpec("r1", {"gamma": "0.5"})]),
                      run, resume=True, progress=False)
    assert trainer.fit().step == 4
    assert trainer.opt_g.param_groups[0]["lr"] == lr_g and trainer.opt_d.param_groups[0]["lr"] == lr_d
    changes = json.loads((run / "config.json").read_text())["resume_changes"]
    assert {"setting": "lr_g", "from": 2 * lr_g, "to": lr_g, "step": 2} in changes
    assert {"setting": "tricks.0.gamma", "from": 1.0, "to": 0.5, "step": 2} in changes
    with pytest.raises(ConfigError, match="batch_size 8 -> 16.*may change only the learning rates"):
        Trainer(config(loss=nan_loss, steps=6, batch_size=16), run, resume=True, progress=False)


def test_before_any_checkpoint_the_advice_is_to_rerun_into_the_same_folder(tmp_path: Path, nan_loss: PluginSpec) -> None:
    run = tmp_path / "run"
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written yet: rerun the command with lower learning rates"):
        Trainer(config(loss=nan_loss, steps=10, checkpoint_every=50), run, progress=False).fit()
    assert Trainer(config(steps=2, checkpoint_every=50, lr_g=1e-4), run, progress=False).fit().step == 2  # the same --out is fine
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # the diverged attempt's lines are gone


# --- 2b: a broken latest, a damaged checkpoint, a lost config.json ----------------------------------------
def test_a_broken_latest_pointer_falls_back_to_the_newest_complete_checkpoint(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    (run / "checkpoints" / "latest").write_text("step-00000099\n")
    with caplog.at_level(logging.WARNING):
        result = Trainer(config(steps=5), run, resume=True, progress=False).fit()
    assert result.step == 5 and "names step-00000099, which is missing" in caplog.text and "using step-00000004" in caplog.text


def test_a_latest_pointer_leading_outside_the_run_is_not_followed(run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    other = tmp_path / "other"
    Trainer(config(steps=2, seed=9), other, progress=False).fit()
    (run / "checkpoints" / "latest").write_text("../../other/checkpoints/step-00000002\n")
    with caplog.at_level(logging.WARNING):
        assert checkpoint.latest(run) == run / "checkpoints" / "step-00000004"
    assert "not a checkpoint folder of this run" in caplog.text
    for ckpt in checkpoint.complete(run):
        shutil.rmtree(ckpt)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        Trainer(config(steps=5), run, resume=True, progress=False).fit()


def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    model = run / "checkpoints" / "step-00000004" / "model.safetensors"
    model.write_bytes(model.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        G = ganzoo.load(run)
        result = Trainer(config(steps=5), run, resume=True, progress=False).fit()
    assert "using step-00000002, the newest intact checkpoint" in caplog.text and "sha256" in caplog.text
    assert G.origin.endswith("step-00000002, EMA weights)") and result.step == 5
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]  # the lines logged after step 2 were dropped, then logged again


def test_when_no_checkpoint_is_intact_the_error_says_so_in_one_line(run: Path) -> None:
    for ckpt in checkpoint.complete(run):
        (ckpt / "trainer.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="no checkpoint of .* is intact") as err:
        Trainer(config(steps=5), run, resume=True, progress=False).fit()
    assert "\n" not in str(err.value) and "--resume-from" not in str(err.value)


def test_a_lost_config_json_is_restored_from_the_checkpoint(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    saved = json.loads((run / "config.json").read_text())
    (run / "config.json").unlink()
    with caplog.at_level(logging.WARNING):
        G = ganzoo.load(run)
        Trainer(config(steps=5), run, resume=True, progress=False).fit()
    assert "resuming with the copy kept in" in caplog.text and G.sample(1, seed=0).shape == (1, 1, 28, 28)
    assert json.loads((run / "config.json").read_text())["architecture"] == saved["architecture"]


def test_resume_from_a_named_checkpoint(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = Trainer(config(steps=3), run, resume_from="step-00000002", progress=False).fit()
    assert result.step == 3
    with pytest.raises(ConfigError, match=r"--resume-from '\.\./x' is not a complete checkpoint folder .*available: step-00000004"):
        Trainer(config(steps=6), run, resume_from="../x", progress=False).fit()
    code, _, err = run_cli([*TRAIN, "--steps", "9", "--seed", "5", "--out", str(run), "--resume-from", "step-00000077"], capsys)
    assert code == 1 and "is not a complete checkpoint folder" in _one_error_line(err)


# --- 4: a full disk during a checkpoint write ---------------------------------------------------------------
def test_a_full_disk_during_a_checkpoint_names_the_path_and_the_intact_checkpoint(run: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    real = checkpoint.write_safetensors

    def full(path, tensors, metadata=None):
        if Path(path).name == "trainer.safetensors":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, tensors, metadata)

    monkeypatch.setattr(checkpoint, "write_safetensors", full)
    code, _, err = run_cli([*TRAIN, "--steps", "6", "--checkpoint-every", "2", "--seed", "5", "--log-every", "1",
                            "--keep-checkpoints", "0", "--out", str(run), "--resume"], capsys)
    line = _one_error_line(err)
    assert code == 1 and "step-00000006" in line and "No space left on device" in line
    assert f"the last checkpoint {run / 'checkpoints' / 'step-00000004'} is intact" in line
    monkeypatch.undo()
    assert checkpoint.load(checkpoint.latest(run))[0] == 4


# --- 5: leftovers -------------------------------------------------------------------------------------------
def test_stale_temporary_folders_are_cleaned_and_metrics_truncated_on_resume(run: Path) -> None:
    root = run / "checkpoints"
    (root / ".step-00000006.abc123").mkdir()
    (root / ".step-00000006.abc123" / "model.safetensors").write_bytes(b"x" * 1000)
    (root / ".latest.xyz.tmp").write_text("step-00000006")
    os.replace(root / "step-00000002", root / f".step-00000002{OLD_SUFFIX}")  # a swap killed halfway
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 5, "d_total": 1.0}\n{"step": 6, "d_tot')  # logged past the checkpoint, then torn
    Trainer(config(steps=5), run, resume=True, progress=False).fit()
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step-00000002", "step-00000004", "step-00000005"]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]
    umask = os.umask(0)
    os.umask(umask)
    assert (root / "step-00000005").stat().st_mode & 0o777 == 0o777 & ~umask


def test_eval_refuses_a_pickle_or_a_torch_save_archive_as_the_inception_network(tmp_path, capsys) -> None:
    pickled = tmp_path / "inception.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    archive = tmp_path / "inception.pt"
    torch.save({"w": torch.zeros(2)}, archive)  # a zip, but not TorchScript
    for path, says in ((pickled, "a Python pickle"), (archive, "not a TorchScript file")):
        code, _, err = run_cli(["eval", "dcgan-fashion-mnist", "--metrics", "fid", "--n-generated", "4", "--n-real", "4",
                                "--inception", str(path)], capsys)
        assert code == 1 and len(err.strip().splitlines()) == 1 and says in err and "internal error" not in err, err
