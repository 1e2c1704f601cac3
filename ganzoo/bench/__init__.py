"""``ganzoo bench``: train and score a grid of variants side by side under one budget.

Each cell (architecture, loss, dataset, seed) trains with the ordinary engine in segments and is
scored after every segment, giving metric-against-step and metric-against-wall-time curves.
Finished cells are skipped when the same command runs again, and a half-done cell resumes from its
checkpoint. Results: ``OUT/cells/<cell>/result.json`` and ``curve.csv`` per cell, and
``OUT/leaderboard.md``, ``OUT/leaderboard.csv``, ``OUT/results.json`` and ``OUT/plots/*.png``.
"""
from .grid import BenchSpec, Cell, run_grid

__all__ = ["BenchSpec", "Cell", "run_grid"]
