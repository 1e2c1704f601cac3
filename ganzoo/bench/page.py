"""The bench's leaderboard as one self-contained web page, ``OUT/index.html``.

Everything the page shows is inside the file: styles, the sorting script, the curves drawn as inline
SVG from results.json, and the sample grids as data: URIs, so it opens from a laptop, a CI artefact
or a mail attachment without a server and without a single network request. It is rebuilt from a
finished bench folder alone (``ganzoo bench-page OUT``), so a page never needs a retraining.
"""
from __future__ import annotations

import base64
import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .. import __version__
from ..errors import ConfigError, GanzooError
from ..metric_catalog import BY_KEY, METRICS, display_name, ranking
from ..safeio import read_json, write_atomic
from .leaderboard import samples_clause
from .records import Cell, budget_text, figure_text
from .svg_chart import PALETTE, Series, line_chart

PAGE = "index.html"
TEMPLATE = "templates/bench_page.html"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Numbers every curve point carries that are the x axes or bookkeeping, not figures.
NOT_FIGURES = {"step", "wall_time_s"}
AXES = (("step", "generator step"), ("wall_time_s", "training wall time (s)"))


@dataclass
class Column:
    key: str
    name: str
    better: str | None  # "lower", "higher" or None

    @property
    def arrow(self) -> str:
        return {"lower": "↓", "higher": "↑"}.get(self.better or "", "")


@dataclass
class Figure:
    mean: float
    std: float
    n: int  # seeds with a finite value
    protocol: list[tuple[str, str]]

    def text(self, seeds: int) -> str:
        return figure_text(self.mean, self.std, seeds)


@dataclass
class Row:
    variant: str
    generator: str | None
    runs: list[dict[str, Any]]
    figures: dict[str, Figure] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.runs[0]["final"].get("step", 0)

    @property
    def wall_time_s(self) -> float:
        return statistics.fmean(r["final"].get("wall_time_s", math.nan) for r in self.runs)

    def protocols(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Figures that share one protocol, listed once: (their names, the protocol's fields)."""
        shared: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
        for key, figure in self.figures.items():
            if figure.protocol:
                shared.setdefault(json.dumps(figure.protocol), ([], figure.protocol))[0].append(display_name(key))
        return [(", ".join(names), fields) for names, fields in shared.values()]


@dataclass
class Chart:
    metric: str
    name: str
    svgs: list[Markup]


@dataclass
class Group:
    dataset: str
    columns: list[Column]
    run_columns: list[str]  # every number in the runs' final figures, spreads included
    rows: list[Row]
    charts: list[Chart]
    legend: list[tuple[str, str]]  # (variant, colour)
    samples: list[tuple[str, str]]  # (caption, data: URI)
    has_generator: bool


def write_page(out: str | Path, summary: dict[str, Any] | None = None) -> Path:
    """Write ``out/index.html`` for a bench folder (its results.json unless ``summary`` is given)."""
    out = Path(out)
    summary = summary if summary is not None else load_summary(out)
    html = render(summary, out)
    path = out / PAGE
    write_atomic(path, lambda p: p.write_text(html, encoding="utf-8"))
    return path


def load_summary(folder: Path) -> dict[str, Any]:
    """A bench folder's results.json, checked for the parts the page reads."""
    path = folder / "results.json"
    if not path.is_file():
        raise ConfigError(f"{folder} has no results.json; give the --out folder of a finished `ganzoo bench` run")
    summary = read_json(path, "bench results")
    results = summary.get("results")
    if not isinstance(results, list) or not all(_is_result(r) for r in results):
        raise ConfigError(f"{path} is not a ganzoo bench results.json (each result needs cell, variant, final and curve); "
                          "rerun `ganzoo bench` into that folder")
    return summary


def _is_result(r: Any) -> bool:
    return (isinstance(r, dict) and isinstance(r.get("cell"), dict) and {"dataset", "seed"} <= r["cell"].keys()
            and isinstance(r.get("variant"), str) and isinstance(r.get("final"), dict) and isinstance(r.get("curve"), list)
            and all(isinstance(p, dict) for p in r["curve"]))


def render(summary: dict[str, Any], folder: Path) -> str:
    """The page's HTML for a bench summary; sample grids are read from ``folder/cells``."""
    by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in summary["results"]:
        by_dataset[r["cell"]["dataset"]].append(r)
    groups = [_group(dataset, results, folder) for dataset, results in by_dataset.items()]
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    try:
        template = env.from_string(resources.files("ganzoo").joinpath(TEMPLATE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GanzooError(f"ganzoo's page template is missing ({exc}); reinstall ganzoo") from exc
    return template.render(groups=groups, summary=summary, budget=_budget(summary.get("spec") or {}), version=__version__,
                           isfinite=math.isfinite, cell_folder=cell_folder)


def _budget(spec: dict[str, Any]) -> str:
    budget = budget_text(spec)
    if not budget:
        return ""
    return f"Budget per cell: {budget}, batch {spec.get('batch_size', '?')}, seeds {spec.get('seeds', '?')}{samples_clause(spec)}."


def cell_folder(result: dict[str, Any]) -> str:
    """A result's cell folder relative to the bench folder: recorded, or named as the grid runner names it."""
    return str(result.get("folder") or f"cells/{Cell.from_json(result['cell']).key}")


def _generator(result: dict[str, Any]) -> str | None:
    """Whether a figure is of the EMA or the raw generator, where the result records it."""
    value = result.get("generator", result["final"].get("generator"))
    return str(value) if value is not None else None


def _numbers(point: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in point.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in NOT_FIGURES}


def _group(dataset: str, results: list[dict[str, Any]], folder: Path) -> Group:
    present = {k for r in results for k in _numbers(r["final"])}
    known = [m.key for m in METRICS if m.key in present]
    spreads = {m.key for m in METRICS if m.std_of}
    columns = [Column(k, display_name(k), BY_KEY[k].better if k in BY_KEY else None)
               for k in known + sorted(present - set(known)) if k not in spreads]
    rows = _rows(results, columns)
    variants = sorted({r["variant"] for r in results})
    colors = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variants)}
    return Group(dataset=dataset, columns=columns, run_columns=known + sorted(present - set(known)), rows=rows,
                 charts=_charts(results, columns, colors), legend=list(colors.items()), samples=_samples(rows, folder),
                 has_generator=any(row.generator for row in rows))


def _rows(results: list[dict[str, Any]], columns: list[Column]) -> list[Row]:
    """One row per variant (and generator, where recorded), best first by the most decisive figure."""
    grouped: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        grouped[(r["variant"], _generator(r))].append(r)
    rows = []
    for (variant, generator), runs in grouped.items():
        runs.sort(key=lambda r: r["cell"]["seed"])
        row = Row(variant, generator, runs)
        for column in columns:
            values = [_numbers(r["final"]).get(column.key, math.nan) for r in runs]
            finite = [v for v in values if math.isfinite(v)]
            row.figures[column.key] = Figure(
                mean=statistics.fmean(finite) if finite else math.nan,
                std=statistics.stdev(finite) if len(finite) > 1 else 0.0, n=len(finite),
                protocol=_merged_protocol([(r.get("protocol") or {}).get(column.key) for r in runs]))
        rows.append(row)
    order = next((m for m in ranking() if any(c.key == m.key for c in columns)), None)
    if order is not None:
        sign = -1 if order.better == "higher" else 1
        rows.sort(key=lambda row: sign * row.figures[order.key].mean if math.isfinite(row.figures[order.key].mean) else math.inf)
    return rows


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(v, f"{prefix}{k}.")]
    return [(prefix[:-1], value if isinstance(value, str) else json.dumps(value))]


def _merged_protocol(protocols: list[Any]) -> list[tuple[str, str]]:
    """The protocol fields of one figure over its seeds; a field that differs lists each value once."""
    merged: dict[str, list[str]] = {}
    for protocol in protocols:
        if isinstance(protocol, dict):
            for key, value in _flatten(protocol):
                values = merged.setdefault(key, [])
                if value not in values:
                    values.append(value)
    return [(key, ", ".join(values)) for key, values in merged.items()]


def _charts(results: list[dict[str, Any]], columns: list[Column], colors: dict[str, str]) -> list[Chart]:
    """Every figure that has a curve, against step and against wall time; one line per seed."""
    charts = []
    for column in columns:
        if not any(column.key in _numbers(p) for r in results for p in r["curve"]):
            continue
        svgs = []
        for axis, label in AXES:
            series = []
            for r in sorted(results, key=lambda r: (r["variant"], _generator(r) or "", r["cell"]["seed"])):
                generator = _generator(r)
                name = f"{r['variant']}{f' ({generator})' if generator else ''} seed {r['cell']['seed']}"
                points = [(float(p.get(axis, math.nan)), _numbers(p).get(column.key, math.nan)) for p in r["curve"]]
                series.append(Series(name, colors[r["variant"]], points, dashed=generator == "raw"))
            title = f"{column.name} {column.arrow}".strip()
            svgs.append(Markup(line_chart(series, label, title)))  # built from escaped text in svg_chart
        charts.append(Chart(column.key, column.name, svgs))
    return charts


def _samples(rows: list[Row], folder: Path) -> list[tuple[str, str]]:
    """Each row's sample grid of its first seed, side by side; a file outside the bench folder or not a PNG is left out."""
    shown = []
    root = folder.resolve()
    for row in sorted(rows, key=lambda row: (row.variant, row.generator or "")):
        first = row.runs[0]
        path = (folder / cell_folder(first) / str(first.get("samples") or "samples.png")).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            continue
        data = path.read_bytes()
        if not data.startswith(PNG_SIGNATURE):
            continue
        caption = " · ".join(filter(None, (row.variant, f"seed {first['cell']['seed']}", row.generator)))
        shown.append((caption, "data:image/png;base64," + base64.b64encode(data).decode("ascii")))
    return shown
