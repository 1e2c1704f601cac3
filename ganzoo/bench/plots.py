"""Plots of a bench grid: metric against step and wall time, images/s, samples side by side."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from ..metric_catalog import ranking  # noqa: E402
from .records import summary_results  # noqa: E402


def _primary(results: list[dict[str, Any]]) -> str | None:
    for metric in (m.key for m in ranking()):
        if any(metric in p for r in results for p in r["curve"]):
            return metric
    return None


def write_plots(out: Path, summary: dict[str, Any]) -> list[Path]:
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    all_results = summary_results(summary)
    for r in all_results:
        by_dataset[r["cell"]["dataset"]].append(r)
    for dataset, results in by_dataset.items():
        metric = _primary(results)
        if metric is not None:
            for axis, label in (("step", "generator step"), ("wall_time_s", "training wall time (s)")):
                fig, ax = plt.subplots(figsize=(6.4, 4.2))
                variants: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
                for r in results:
                    variants[(r["variant"], r["generator"])].append(r)
                for (variant, generator), runs in sorted(variants.items()):
                    for i, r in enumerate(runs):
                        xs = [p[axis] for p in r["curve"] if metric in p]
                        ys = [p[metric] for p in r["curve"] if metric in p]
                        line, = ax.plot(xs, ys, marker="o", alpha=0.8, label=f"{variant} ({generator})" if i == 0 else None,
                                        linestyle="--" if generator == "raw" else "-", color=None if i == 0 else line.get_color())
                ax.set_xlabel(label)
                ax.set_ylabel(metric)
                ax.set_title(f"{dataset}: {metric} (one line per seed; solid: EMA generator, dashed: raw)", fontsize=9)
                ax.grid(alpha=0.3)
                ax.legend(fontsize=7)
                fig.tight_layout()
                path = plots / f"{dataset}_{metric}_vs_{'step' if axis == 'step' else 'time'}.png"
                fig.savefig(path, dpi=110)
                plt.close(fig)
                written.append(path)
        # samples side by side (seed 0 of each variant and generator, or its first seed)
        firsts: dict[str, dict[str, Any]] = {}
        for r in sorted(results, key=lambda r: r["cell"]["seed"]):
            firsts.setdefault(f"{r['variant']} ({r['generator']})", r)
        grids = [(v, out / r.get("folder", f"cells/{_key(r)}") / r.get("samples", "samples.png")) for v, r in sorted(firsts.items())]
        grids = [(v, p) for v, p in grids if p.is_file()]
        if grids:
            cols = min(4, len(grids))
            rows = (len(grids) + cols - 1) // cols
            fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
            for ax in axes.flat:
                ax.axis("off")
            for ax, (variant, path) in zip(axes.flat, grids):
                ax.imshow(plt.imread(path))
                ax.set_title(variant, fontsize=9)
            fig.suptitle(f"{dataset}: samples at the end of the budget")
            fig.tight_layout()
            path = plots / f"{dataset}_samples.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    # images/s per variant (all datasets)
    rates: dict[str, list[float]] = defaultdict(list)
    for r in all_results:
        if r["generator"] == all_results[0]["generator"]:  # training speed: the same for both generators of a run
            rates[f"{r['variant']} ({r['cell']['dataset']})"].append(r["final"]["images_per_second"])
    if rates:
        names = sorted(rates)
        fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(names) + 1.2))
        ax.barh(names, [sum(rates[n]) / len(rates[n]) for n in names])
        ax.set_xlabel("training images/s (mean over seeds)")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        path = plots / "images_per_second.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _key(result: dict[str, Any]) -> str:
    c = result["cell"]
    return f"{c['arch']}__{c['loss']}__{c['dataset']}__s{c['seed']}"
