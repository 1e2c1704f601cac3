"""benchmarks/stacked_table.py, which prints the README's stacked table: its rank test is exact, and
the script runs on the committed cells."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "stacked_table.py"


@pytest.fixture(scope="module")
def table():
    spec = importlib.util.spec_from_file_location("ganzoo_stacked_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mann_whitney_is_exact_on_small_samples(table) -> None:
    # Every a above every b: 1 of the 10 ways to split five values 3 + 2 is as extreme, and its mirror image.
    assert table.mann_whitney([3.0, 4.0, 5.0], [1.0, 2.0]) == (1.0, pytest.approx(0.2))
    assert table.mann_whitney([1.0, 2.0], [3.0, 4.0, 5.0]) == (0.0, pytest.approx(0.2))
    # Identical samples sit at the centre: half the pairs, ties counting half, and every split as extreme.
    assert table.mann_whitney([1.0, 1.0], [1.0, 1.0]) == (0.5, 1.0)
    share, p = table.mann_whitney([2.0, 3.0, 5.0], [1.0, 4.0])
    assert share == pytest.approx(4 / 6) and 0.2 < p <= 1.0
    # A full table's pooled packed trials against DCGAN's, ties included: 847 million splits, counted by rank sum.
    share, p = table.mann_whitney([float(i % 7) for i in range(30)], [float(i % 5) for i in range(10)])
    assert 0.5 < share < 1 and 0 < p < 1


def test_the_script_prints_the_table_and_both_comparisons_from_the_committed_cells() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    assert out.startswith("| variant | trials |")
    assert "PacDCGAN2 - DCGAN, final KL:" in out and "every packed trial vs DCGAN, final KL by rank:" in out
