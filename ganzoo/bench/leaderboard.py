"""Leaderboard tables (markdown + CSV, mean ± std over seeds) and plots from a finished grid."""
from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..evaluation import choose_metrics
from ..metric_catalog import CLASSIFIER_FAMILIES, IMAGE_FAMILIES, METRICS, ranking
from ..metrics.toy import DEFAULT_TOY_SAMPLES
from ..safeio import write_atomic
from .presets import PRESETS
from .records import budget_text, figure_text, summary_results

# metric -> True when larger is better; the first present one orders the table.
ORDER = [(m.key, m.better == "higher") for m in ranking()]
# Every figure but the per-run spreads (kid_std, is_std): a leaderboard shows the spread over seeds.
SHOWN = [m.key for m in METRICS if m.std_of is None]


def _mean_std(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def aggregate(results: list[dict[str, Any]], default_generator: str = "ema") -> dict[str, list[dict[str, Any]]]:
    """Per dataset, one row per variant and generator ("ema"/"raw"; ``default_generator`` for results
    that do not say) with mean and std of every final figure over seeds."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[(r["cell"]["dataset"], r["variant"], r.get("generator", default_generator))].append(r)
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (dataset, variant, generator), runs in groups.items():
        row: dict[str, Any] = {"variant": variant, "generator": generator, "seeds": len(runs), "steps": runs[0]["final"]["step"],
                               "wall_time_s": _mean_std([r["final"]["wall_time_s"] for r in runs])[0]}
        for metric in SHOWN:
            if any(metric in r["final"] for r in runs):
                row[metric] = _mean_std([r["final"].get(metric) for r in runs])
        tables[dataset].append(row)
    for dataset, rows in tables.items():
        for metric, larger in ORDER:
            if any(metric in row for row in rows):
                rows.sort(key=lambda row: (math.inf if math.isnan(row.get(metric, (math.nan,))[0]) else
                                           (-row[metric][0] if larger else row[metric][0])))
                break
    return dict(tables)


GENERATOR_NOTE = ("The generator column says which weights a row's figures are of: `ema`, the exponential moving "
                  "average of the generator (what `ganzoo.load` returns by default), or `raw`, the weights the optimizer "
                  "trains. On the 2D toys, where a generator rotates its modes around the ring, the average of its "
                  "weights can collapse towards the origin; published toy figures (trained without an EMA) compare "
                  "with the `raw` rows.")

RAW_ONLY_NOTE = "These runs keep no EMA of the generator: every figure is of the raw generator, the weights the optimizer trains."


def samples_text(spec: dict[str, Any]) -> str:
    """How many samples a grid's figures are measured on, for the metric families its datasets get: the
    toy metric always scores 2,500 generated points (the published protocol), a classifier metric
    --n-generated images, an image or Parzen metric --n-generated against --n-real."""
    chosen = {family for dataset in spec.get("datasets") or [] for family in choose_metrics(dataset, spec.get("metrics"))}
    n_generated, n_real = spec.get("n_generated", "?"), spec.get("n_real", "?")
    parts = []
    if "toy" in chosen:
        parts.append(f"{DEFAULT_TOY_SAMPLES} generated points per toy metric")
    if chosen & set(CLASSIFIER_FAMILIES):
        parts.append(f"{n_generated} generated samples per classifier metric")
    if chosen & {*IMAGE_FAMILIES, "parzen"}:
        parts.append(f"{n_generated} generated vs {n_real} real samples per "
                     + ("image or Parzen metric" if chosen & set(IMAGE_FAMILIES) and "parzen" in chosen
                        else "Parzen metric" if "parzen" in chosen else "image metric"))
    return "; ".join(parts)


def samples_clause(spec: dict[str, Any]) -> str:
    """:func:`samples_text` as the end of the budget sentence ("; ..."), or nothing when it is empty."""
    text = samples_text(spec)
    return f"; {text}" if text else ""


def markdown(summary: dict[str, Any]) -> str:
    tables = aggregate(summary_results(summary))
    spec = summary["spec"]
    budget = budget_text(spec)
    preset = f" (preset `{spec['preset']}`)" if spec.get("preset") else ""
    lines = ["# ganzoo bench leaderboard", "",
             f"Budget per cell{preset}: {budget}, batch {spec['batch_size']}, seeds {spec['seeds']}{samples_clause(spec)}. "
             "Figures are mean ± std over the seeds a row has (its seeds column) at the end of the budget; the protocol of every figure is in each cell's result.json.",
             "", RAW_ONLY_NOTE if "ema" in spec and spec["ema"] is None else GENERATOR_NOTE, ""]
    if spec.get("preset") in PRESETS:
        lines += [f"Published figures for preset `{spec['preset']}`: {PRESETS[spec['preset']].reference}", ""]
    for dataset, rows in tables.items():
        metrics = [m for m in SHOWN if any(m in row for row in rows)]
        lines += [f"## {dataset}", "", "| rank | variant | generator | " + " | ".join(metrics) + " | seeds | wall time (s) |",
                  "|---|---|---|" + "---|" * len(metrics) + "---|---|"]
        for rank, row in enumerate(rows, 1):
            cells = [figure_text(*row[m], row["seeds"]) if m in row else "–" for m in metrics]
            lines.append(f"| {rank} | {row['variant']} | {row['generator']} | " + " | ".join(cells)
                         + f" | {row['seeds']} | {row['wall_time_s']:.0f} |")
        lines.append("")
    if summary.get("running_elsewhere"):
        lines += ["## Still training in another bench process", "",
                  *[f"- {key}" for key in summary["running_elsewhere"]],
                  "", "Rerun the same command once it ends for the full leaderboard.", ""]
    if summary.get("not_finished"):
        lines += ["## Not finished yet", "", "Cells of the grid with no result yet, left out of the tables above:", "",
                  *[f"- {key}" for key in summary["not_finished"]], ""]
    if summary.get("outside_grid"):
        lines += ["## Finished in this folder, outside this grid", "",
                  "Cells another command trained here, left out of the tables above: name their seeds, "
                  "architectures, losses or tricks in the command to rank them too.", "",
                  *[f"- {key}" for key in summary["outside_grid"]], ""]
    if summary.get("refused"):
        lines += ["## Refused combinations", ""]
        for r in summary["refused"]:
            c = r["cell"]
            lines.append(f"- {c['arch']}/{c['loss']} on {c['dataset']}: {r['reason']}")
        lines.append("")
    return "\n".join(lines)


def leaderboard_csv(summary: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["dataset", "variant", "generator", "seeds", "steps", "metric", "mean", "std"])
    for dataset, rows in aggregate(summary_results(summary)).items():
        for row in rows:
            for metric in SHOWN:
                if metric in row:
                    writer.writerow([dataset, row["variant"], row["generator"], row["seeds"], row["steps"], metric, *row[metric]])
    return buffer.getvalue()


def write_leaderboard(out: Path, summary: dict[str, Any]) -> None:
    write_atomic(out / "leaderboard.md", lambda p: p.write_text(markdown(summary)))
    write_atomic(out / "leaderboard.csv", lambda p: p.write_text(leaderboard_csv(summary)))
    try:  # matplotlib is the optional [bench] extra: without it the tables are written, the plots not
        from .plots import write_plots
    except ImportError:
        return
    write_plots(out, summary)
