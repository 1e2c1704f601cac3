"""What the toy scores mean: the same metrics on untrained reference samples.

    python benchmarks/toy_reference.py      # writes benchmarks/toy_reference.json and prints a table

- real data (ceiling): 2,500 samples of the dataset itself;
- uniform box (chance): 2,500 points uniform over the modes' bounding box widened by 0.5, i.e. a
  diffuse generator that learned only the support. On toy-grid it already "captures" most modes,
  so a trained loss is only better than chance where it beats this row, in HQ share above all.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import torch

from ganzoo.data.toy import sample_toy, toy_centers
from ganzoo.metrics.toy import DEFAULT_TOY_SAMPLES, toy_metrics

SEEDS = 3


def main() -> None:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for dataset in ("toy-ring", "toy-grid"):
        centers = toy_centers(dataset)
        low, high = centers.min(0).values - 0.5, centers.max(0).values + 0.5
        rows: dict[str, list[dict]] = {"real data (ceiling)": [], "uniform box (chance)": []}
        for seed in range(SEEDS):
            g = torch.Generator().manual_seed(10_000 + seed)
            real, _ = sample_toy(dataset, DEFAULT_TOY_SAMPLES, g)
            box = low + (high - low) * torch.rand(DEFAULT_TOY_SAMPLES, 2, generator=g)
            rows["real data (ceiling)"].append(toy_metrics(real, dataset).to_dict())
            rows["uniform box (chance)"].append(toy_metrics(box, dataset).to_dict())
        out[dataset] = {
            name: {f"{k}_{stat}": fn([r[k] for r in runs]) for k in ("modes_captured", "high_quality_fraction")
                   for stat, fn in (("mean", statistics.fmean), ("std", statistics.stdev))}
            for name, runs in rows.items()
        }
        out[dataset]["n_modes"] = len(centers)
    path = Path(__file__).with_name("toy_reference.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    for dataset, rows in out.items():
        for name, r in rows.items():
            if isinstance(r, dict):
                print(f"{dataset:9} {name:22} modes {r['modes_captured_mean']:.1f} ± {r['modes_captured_std']:.1f}"
                      f"  HQ {r['high_quality_fraction_mean']:.3f} ± {r['high_quality_fraction_std']:.3f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
