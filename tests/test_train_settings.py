"""Engine settings are declared once, on TrainConfig's fields: `ganzoo train`'s options, validation and
the settings a resume may change are all derived from those declarations."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import click
import pytest

from ganzoo.args import convert
from ganzoo.bench import BenchSpec
from ganzoo.build import PluginSpec
from ganzoo.cli import train_cmd
from ganzoo.engine.config import ENGINE_FIELDS, HINTS, TrainConfig, default, differences, literal_choices, option_name, setting_of
from ganzoo.errors import ConfigError
from conftest import run_cli

# Every engine option `ganzoo train --help` listed before the options were generated.
HISTORICAL_OPTIONS = (
    "--steps", "--batch-size", "--seed", "--optimizer", "--lr-g", "--lr-d", "--betas", "--n-critic", "--ema",
    "--ema-start", "--precision", "--channels-last", "--compile", "--device", "--sample-every", "--checkpoint-every",
    "--keep-checkpoints", "--log-every", "--num-workers", "--tensorboard",
)
BASE = TrainConfig(arch=PluginSpec("dcgan"), loss=PluginSpec("non-saturating"), dataset=PluginSpec("fake"))


def _outside(bounds) -> float:
    """A number the bounds refuse."""
    candidates = [b + d for b in (bounds.low, bounds.high) if b is not None for d in (-1.0, 0.0, 1.0)]
    return next(v for v in candidates if not bounds.holds(v))


def test_every_engine_field_is_a_train_option_with_its_default_and_help() -> None:
    command = train_cmd.command
    ctx = click.Context(command, info_name="train")
    options = {p.name: p for p in command.params}
    for f in ENGINE_FIELDS:
        option = options[f.name]
        assert option_name(f) in option.opts and option.default == f.default, f.name
        decl, help_text = option.get_help_record(ctx)
        assert setting_of(f).help in help_text, f.name
        if f.default not in (None, False):
            assert f"[default: {f.default}]" in help_text, f.name
    names = {o for p in command.params for o in p.opts}
    assert set(HISTORICAL_OPTIONS) | {"--time-budget"} <= names
    assert {o.name for o in command.params if getattr(o, "is_flag", False)} >= {"channels_last", "compile", "tensorboard"}


def test_train_help_lists_generated_options_and_needs_no_torch() -> None:
    code = ("import sys\nfrom ganzoo.cli import main\nfor argv in (['--help'], ['train', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert text.endswith("NO-TORCH")
    for name in HISTORICAL_OPTIONS:
        assert name in text
    assert "--precision [auto|fp32|bf16|fp16]" in text and "--optimizer [adam|rmsprop|sgd]" in text
    assert "--betas B1,B2" in text and "--time-budget FLOAT" in text and "[default: 0.999]" in text


def test_command_line_values_are_parsed_by_the_field_types() -> None:
    argv = ["--arch", "a", "--loss", "b", "--out", "o", "--betas", "0.5,0.9", "--time-budget", "30", "--compile",
            "--precision", "bf16", "--ema", "none", "--steps", "7"]
    params = train_cmd.command.make_context("train", argv).params
    assert params["betas"] == (0.5, 0.9) and params["time_budget_s"] == 30.0 and params["compile"] is True
    assert params["precision"] == "bf16" and params["ema"] is None and params["steps"] == 7
    for spelling in ("off", "0", "OFF"):  # what --ema has always accepted for "no EMA"
        assert train_cmd.command.make_context("train", ["--arch", "a", "--loss", "b", "--out", "o", "--ema", spelling]).params["ema"] is None
    untouched = train_cmd.command.make_context("train", ["--arch", "a", "--loss", "b", "--out", "o"]).params
    assert {f.name: untouched[f.name] for f in ENGINE_FIELDS} == {f.name: f.default for f in ENGINE_FIELDS}


@pytest.mark.parametrize(
    "extra,expected",
    [
        (["--steps", "abc"], "--steps must be an integer, got 'abc'"),
        (["--precision", "fp8"], "--precision must be one of auto, fp32, bf16, fp16"),
        (["--optimizer", "adamw"], "--optimizer must be one of adam, rmsprop, sgd"),
        (["--betas", "0.5,0.9,0.1"], "--betas expects two numbers"),
        (["--betas", "0.5,1.5"], "betas must be in [0, 1)"),
        (["--ema", "fast"], "--ema must be a number"),
        (["--time-budget", "0"], "time-budget must be positive"),
        (["--keep-checkpoints", "-1"], "keep-checkpoints must be >= 0"),
        (["--lr-d", "-0.1"], "lr-d must be positive"),
    ],
)
def test_bad_engine_values_are_one_line_errors(tmp_path, capsys, extra, expected) -> None:
    code, _, err = run_cli(["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fake", "--quiet",
                            "--out", str(tmp_path / "run"), *extra], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def test_validation_follows_the_declared_bounds_and_choices() -> None:
    BASE.validate()
    checked = 0
    for f in ENGINE_FIELDS:
        bounds, choices = setting_of(f).bounds, literal_choices(HINTS[f.name])
        label = option_name(f).lstrip("-")
        if bounds is not None:
            bad = _outside(bounds)
            value = (bad, bad) if f.name == "betas" else (int(bad) if HINTS[f.name] in (int, int | None) else bad)
            with pytest.raises(ConfigError, match=rf"^{label} must be "):
                replace(BASE, **{f.name: value}).validate()
            checked += 1
        if choices:
            with pytest.raises(ConfigError, match=rf"^{label} must be one of"):
                replace(BASE, **{f.name: "no-such-choice"}).validate()
            for choice in choices:
                replace(BASE, **{f.name: choice}).validate()
            checked += 1
    assert checked >= 12  # the ten bounded settings and the two with choices
    with pytest.raises(ConfigError, match="steps must be set"):
        replace(BASE, steps=None).validate()
    with pytest.raises(ConfigError, match=r"ema must be in \(0, 1\) or 'none'"):  # None is a choice for ema only
        replace(BASE, ema=1.0).validate()


def test_resumable_settings_come_from_the_declarations() -> None:
    declared = tuple(f.name for f in ENGINE_FIELDS if setting_of(f).resumable)
    assert TrainConfig.RESUMABLE_CHANGES == declared
    assert set(declared) == {"steps", "sample_every", "checkpoint_every", "keep_checkpoints", "log_every",
                             "num_workers", "tensorboard", "device", "time_budget_s"}
    assert differences(BASE, replace(BASE, steps=5000, device="cpu", time_budget_s=60.0)) == []
    assert differences(BASE, replace(BASE, batch_size=32, betas=(0.0, 0.9))) == ["batch_size 64 -> 32", "betas None -> (0.0, 0.9)"]


def test_engine_settings_are_json_ready() -> None:
    settings = replace(BASE, betas=(0.5, 0.999)).engine_settings()
    assert list(settings) == [f.name for f in ENGINE_FIELDS] and settings["betas"] == [0.5, 0.999]
    again = TrainConfig.from_json({"architecture": {"name": "dcgan"}, "loss": {"name": "non-saturating"},
                                   "dataset": {"name": "fake"}, "training": settings})
    assert again.betas == (0.5, 0.999) and differences(replace(BASE, betas=(0.5, 0.999)), again) == []


def test_fixed_length_tuples_are_counted_and_open_ones_are_not() -> None:
    assert convert("0.5, 0.999", tuple[float, float], "--betas") == (0.5, 0.999)
    with pytest.raises(ConfigError, match="--betas expects two numbers separated by commas, got '0.5'"):
        convert("0.5", tuple[float, float], "--betas")
    with pytest.raises(ConfigError, match="x expects two integers"):
        convert("1,b", tuple[int, int], "x")
    assert convert("8,16,32", tuple[int, ...], "x") == (8, 16, 32)


def test_bench_uses_the_train_defaults() -> None:
    spec = BenchSpec(archs=["mlp"], losses=["hinge"], datasets=["toy-ring"], seeds=[0])
    assert (spec.steps, spec.batch_size, spec.device, spec.ema) == tuple(default(n) for n in ("steps", "batch_size", "device", "ema"))


def test_a_resume_needs_only_out_and_keeps_the_runs_own_settings(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    first = ["train", "--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--arch-arg", "g_hidden=8",
             "--arch-arg", "d_hidden=8", "--batch-size", "16", "--steps", "2", "--device", "cpu", "--quiet", "--out", str(run)]
    assert run_cli(first, capsys)[0] == 0
    code, out, err = run_cli(["train", "--resume", "--out", str(run), "--steps", "4", "--lr-g", "1e-3", "--quiet"], capsys)
    assert code == 0, err
    assert "changed on resume: lr_g 0.0002 -> 0.001" in out and "trained mlp/hinge to step 4" in out
    saved = TrainConfig.from_json(json.loads((run / "config.json").read_text()))
    assert (saved.batch_size, saved.steps, saved.lr_g, saved.arch.args["g_hidden"]) == (16, 4, 1e-3, [8])
    # a setting a resume may not change is refused as it is with the whole command
    code, _, err = run_cli(["train", "--resume", "--out", str(run), "--steps", "6", "--batch-size", "7", "--quiet"], capsys)
    assert code == 1 and "--resume with different settings (batch_size 16 -> 7)" in err
    code, _, err = run_cli(["train", "--resume", "--out", str(tmp_path / "none"), "--steps", "6"], capsys)
    assert code == 1 and err == (f"error: nothing to resume: {tmp_path / 'none'} holds no training run (no checkpoints/); "
                                 "give --arch and --loss without --resume to start one there\n")
