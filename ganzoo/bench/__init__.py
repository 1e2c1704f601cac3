"""``ganzoo bench``: train and score a grid of variants side by side under one budget.

Each cell (architecture, loss, tricks, dataset, seed) trains with the ordinary engine in segments and
is scored after every segment, on its EMA generator and on its raw one, giving metric-against-step
and metric-against-wall-time curves. Finished cells are skipped when the same command runs again,
and a half-done cell resumes from its checkpoint. Results: ``OUT/cells/<cell>/result.json`` and
``curve.csv`` per cell, and ``OUT/leaderboard.md``, ``OUT/leaderboard.csv``, ``OUT/results.json``
and ``OUT/plots/*.png``. ``--preset`` fills the settings of a published setup (``presets.py``).
"""
from __future__ import annotations

from typing import Any

from .records import Cell

__all__ = ["BenchSpec", "Cell", "run_grid"]


def __getattr__(name: str) -> Any:
    if name in ("BenchSpec", "run_grid"):
        from . import grid  # torch: loaded on first use, so presets/records/leaderboard stay light for `ganzoo --help`

        return getattr(grid, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
