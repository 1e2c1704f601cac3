"""benchmarks/peers/peers.py cannot rot: its dry run (2 steps, ganzoo's engine and the hand-written
loop, in-process) goes through the whole driver, results.json, results.md and the printed ratios.
Needs no peer venv (benchmarks/peers/setup.sh makes those; the full measurement is `make bench-peers`)."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

PEERS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"


@pytest.fixture
def peers(monkeypatch):
    """The driver as a module; sys.path and the modules it imports by plain name are put back after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location("ganzoo_peers_benchmark", PEERS_DIR / "peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in set(sys.modules) - before:
        if name in ("run_one", "throughput", "shims", "ganzoo_peers_benchmark"):
            del sys.modules[name]


def _fashion_mnist_or_skip() -> None:
    from ganzoo.data.images import FashionMNIST
    from ganzoo.errors import DataUnavailableError

    try:
        FashionMNIST(download=False)
    except DataUnavailableError as exc:  # `make test` installs it (make data)
        pytest.skip(f"Fashion-MNIST is not on this machine: {exc}")


def test_dry_run_writes_results_and_prints_ratios(peers, tmp_path, capsys) -> None:
    _fashion_mnist_or_skip()
    result = peers.main(["--dry-run", "--threads", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out

    assert result["dry_run"] and result["steps_per_run"] == 2 and result["rounds"] == 1
    assert set(result["trainers"]) == {"ganzoo", "handwritten"}
    assert all(info["status"] == "ok" for info in result["trainers"].values())
    table = result["images_per_second"]
    assert set(table) == {"fp32", "bf16-cl", "default"}
    assert set(table["fp32"]) == set(table["bf16-cl"]) == {"ganzoo", "handwritten"} and set(table["default"]) == {"ganzoo"}
    assert all(cell["median"] > 0 for by_trainer in table.values() for cell in by_trainer.values())
    assert result["ganzoo_default_config"]["precision"] in ("fp32", "bf16", "fp16")
    for key, goal in (("ganzoo_default_over_fastest_peer_fp32", 2.0), ("ganzoo_bf16_cl_over_fastest_peer_bf16_cl", 1.5)):
        ratio = result["ratios"][key]
        assert ratio["value"] > 0 and ratio["fastest_peer"] == "handwritten" and ratio["goal"] == goal

    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["ratios"] == result["ratios"] and len(saved["runs"]) == 5
    md = (tmp_path / "results.md").read_text()
    assert "| ganzoo engine |" in md and "## Ratios" in md
    assert "ganzoo default / fastest peer at its default (fp32):" in printed
    assert "ganzoo bf16 + channels_last / fastest peer with the same tricks:" in printed


def test_missing_peer_venv_is_reported_not_fatal(peers, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(peers, "VENVS", tmp_path / "no-venvs")
    result = peers.main(["--trainers", "lightning,torchgan", "--configs", "fp32", "--steps", "20", "--rounds", "1",
                         "--out", str(tmp_path)])
    assert all(info["status"].startswith("not installed") for info in result["trainers"].values())
    assert result["runs"] == [] and result["ratios"]["ganzoo_fp32_over_fastest_peer_fp32"]["value"] is None
    assert (tmp_path / "results.md").is_file()


def test_result_line_is_the_last_json_line_on_stdout(peers) -> None:
    line = {"trainer": "mimicry", "config": "fp32", "images_per_second": 123.4}
    stdout = "INFO: [Epoch 1/1][Global Step: 3/3]\n{not json either}\n" + json.dumps(line) + "\n"
    assert peers.parse_result(stdout) == line
    with pytest.raises(peers.CellFailed):
        peers.parse_result("Training of the Model is Complete\n")


def test_setup_script_parses() -> None:
    """setup.sh (which the test suite never runs: it installs the peers) is at least valid bash."""
    proc = subprocess.run(["bash", "-n", str(PEERS_DIR / "setup.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
