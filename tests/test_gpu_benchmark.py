"""benchmarks/gpu/run.py, the one-lease GPU benchmark, in its CPU dry mode: every phase runs
(measurement, FLOP count, the child-process cells, the Inception timing path, the pytest subset,
the report), as it would on a device machine where ganzoo is not installed."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu" / "run.py"

# Hides ganzoo's entry points from every process of the run (sitecustomize is imported at start-up
# by each child too), the way they are absent on the device machine, where ganzoo is not installed.
HIDE_ENTRY_POINTS = textwrap.dedent(
    """
    import importlib.metadata as _metadata

    _entry_points = _metadata.entry_points

    def entry_points(**params):
        if str(params.get("group", "")).startswith("ganzoo."):
            return _metadata.EntryPoints(())
        return _entry_points(**params)

    _metadata.entry_points = entry_points
    """
)


def load_run_module():
    name = "ganzoo_gpu_bench_run"
    if name not in sys.modules:  # its dataclasses look their module up in sys.modules
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_dry_run_exercises_every_phase_without_installed_plugins_or_the_hub(tmp_path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_ENTRY_POINTS)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("OUT", None)
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "results.md"]  # the device returns at most 8 files
    r = json.loads((out / "results.json").read_text())

    assert r["schema"] == "ganzoo-gpu-bench/1" and r["run"]["dry_run"] is True
    assert all("registered locally" in origin for origin in r["plugins"].values()), r["plugins"]
    assert r["imports"] == {"huggingface_hub": False, "ganzoo.hub": False, "httpx2": False}
    assert r["peak"]["assumed_bf16_tflops"] == 790.0 and r["peak"]["measured"]["tflops"] > 0
    flops = r["flops"]["dcgan28"]
    assert flops["status"] == "ok" and flops["flops_per_image"] > 0 and "convolution_backward" in flops["by_op"]
    assert [(c["mode"], c["status"]) for c in r["throughput"]] == [("fp32", "ok"), ("bf16", "ok"), ("bf16-cl", "ok")]
    for cell in r["throughput"]:
        assert cell["img_per_s"] > 0 and cell["tflops"] > 0 and 0 < cell["share_of_assumed_peak"] < 1
    extra = r["extras"][0]
    assert extra["name"] == "hand-written loop" and extra["status"] == "ok" and extra["img_per_s"] > 0, extra
    assert r["inception"]["status"] == "ok" and r["inception"]["timed"].startswith("DRY RUN")
    assert r["inception"]["runs"][0]["feature_shape"] == [8, 2048]
    assert r["pytest"]["status"] == "ok" and not r["pytest"]["counts"].get("failed"), r["pytest"]
    assert sum(r["pytest"]["counts"].values()) >= 5  # skipped here; passed on a GPU
    assert r["goal"]["target_img_per_s"] == 50_000 and r["goal"]["best_engine_img_per_s"] is None  # no DCGAN-64 in a dry run
    md = (out / "results.md").read_text()
    assert "DRY RUN" in md and "| dcgan28 | 4 |" in md and "not measured" in md
    assert "| dcgan28 | 4 |" in proc.stdout  # the table is printed last, where the device tool's tail shows it


def test_an_exhausted_budget_skips_cells_and_still_writes_the_report(tmp_path) -> None:
    run = load_run_module()
    r = run.main(["--dry-run", "--out", str(tmp_path), "--budget-s", "0", "--skip-pytest"])
    assert r["run"]["budget_exhausted"] is True
    assert r["flops"]["dcgan28"]["status"] == "skipped: out of time"
    assert {c["status"] for c in r["throughput"]} == {"skipped: out of time"}
    assert r["inception"]["status"] == "skipped: out of time" and r["pytest"]["status"] == "skipped: --skip-pytest"
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["run"]["skipped_for_time"] == len(r["throughput"]) == 3
    assert "out of time" in (tmp_path / "results.md").read_text()


def test_goal_and_table_of_a_gpu_shaped_result() -> None:
    run = load_run_module()
    cells = [{"model": "dcgan64", "size": 64, "batch": b, "mode": m, "status": "ok", "img_per_s": v, "step_ms": 1.0, "spread": 0.01,
              "share_of_assumed_peak": 0.1}
             for b, m, v in [(512, "bf16", 30_000.0), (1024, "bf16-cl", 42_000.0), (1024, "fp32", 20_000.0)]]
    cells.append({"model": "dcgan64", "size": 64, "batch": 64, "mode": "fp32", "status": "skipped: out of time"})
    results = {
        "run": {"dry_run": False, "elapsed_s": 470.0, "budget_s": 480.0, "budget_exhausted": True},
        "environment": {"device": "cuda", "gpu": "NVIDIA H200", "torch": "2.11.0", "cuda": "13.0", "cudnn": 91000},
        "peak": {"assumed_bf16_tflops": 790.0, "measured": {"tflops": 780.0, "dtype": "bfloat16", "n": 8192}},
        "flops": {"dcgan64": {"status": "ok", "gflops_per_image": 3.2, "images_per_step": 1024, "by_op": {"convolution": 10**12}}},
        "throughput": cells,
        "extras": [{"name": "engine + torch.compile", "model": "dcgan64", "batch": 1024, "mode": "bf16-cl", "status": "ok",
                    "img_per_s": 61_000.0, "vs_best_engine_cell": 1.452, "warmup_s": 70.0},
                   {"name": "hand-written loop in a CUDA graph", "model": "dcgan64", "status": "timeout", "error": "killed after 120 s"}],
        "inception": {"status": "skipped: no Inception weights here"},
        "pytest": {"status": "ok", "summary": "6 passed in 80s", "command": "pytest -m gpu tests/test_gpu.py"},
        "imports": {"huggingface_hub": False, "ganzoo.hub": False, "httpx2": False},
        "plugins": {"dcgan": "registered locally"},
    }
    goal = run.goal_record(results)
    assert goal["best_engine_img_per_s"] == 42_000.0 and goal["best_engine_cell"] == {"batch": 1024, "mode": "bf16-cl"}
    assert goal["best_any_img_per_s"] == 61_000.0 and goal["best_any"] == "engine + torch.compile"
    assert goal["met_by_engine"] is False and goal["met_by_any"] is True
    results["goal"] = goal
    md = run.markdown(results)
    assert "Met by the engine: **no**; by any variant: **yes**" in md
    assert "| dcgan64 | 1024 | - | 42,000 | 20,000 | 10.00% |" in md  # columns: modes in the order first measured
    assert "| engine + torch.compile | 1024 | bf16-cl | 61,000 | 1.452 |" in md
    assert "| dcgan64 | 64 | - | - | skipped: out of time | - |" in md


@pytest.mark.parametrize("argv", [["--dry-run", "--modes", "fp64"]])
def test_bad_arguments_are_refused(argv, tmp_path) -> None:
    run = load_run_module()
    with pytest.raises(SystemExit, match="unknown mode"):
        run.main([*argv, "--out", str(tmp_path)])
