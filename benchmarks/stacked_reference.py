"""What the Stacked Fashion-MNIST mode counts mean: the same figures on real stacked images.

    python benchmarks/stacked_reference.py   # writes benchmarks/stacked_reference.json and prints a table

The bench counts a generator's modes by classifying each channel with the zoo's Fashion-MNIST
classifier (``stacked-modes``, 26,000 samples). Two things keep even a perfect generator off
"1,000 modes, KL 0", and these rows measure both on 26,000 real stacked samples, 3 draws each:

- true labels: the modes of the triples themselves. 26,000 draws over 1,000 equally likely modes
  leave a sampling KL of about 0.02, the floor of the figure.
- classifier on real images: what the bench's counter reports for real data, i.e. the ceiling a
  generator that matched the data exactly would reach. The classifier confuses shirts, T-shirts,
  pullovers and coats, which skews the mode histogram. The training split is the images the
  classifier and the generators learned from; the test split is images neither saw.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import torch

from ganzoo.data.stacked import StackedFashionMNIST
from ganzoo.metrics.class_metrics import evaluate_classifier, stacked_modes

N_SAMPLES = 26_000  # VEEGAN / PacGAN count stacked-MNIST modes on 26,000 samples
DRAWS = 3
FIGURES = ("stacked_modes_hit", "stacked_kl_to_uniform")


def true_label_figures(data: StackedFashionMNIST) -> dict[str, float]:
    labels = data.get_batch(torch.arange(len(data))).y
    assert labels is not None  # stacked Fashion-MNIST always carries its mode labels
    channels = torch.stack([labels // 100, labels // 10 % 10, labels % 10], dim=1)
    hit, kl = stacked_modes(channels)
    return {"stacked_modes_hit": hit, "stacked_kl_to_uniform": kl}


def classifier_figures(data: StackedFashionMNIST) -> dict[str, float]:
    position = 0

    def real_images(size: int, _seed: int) -> torch.Tensor:
        # The bench's counter asks for chunks in order; hand it the stacked images one after another.
        nonlocal position
        batch = data.get_batch(torch.arange(position, position + size)).x
        position += size
        return batch

    result = evaluate_classifier(real_images, metrics=["stacked-modes"], n_generated=len(data))
    return {k: result[k] for k in FIGURES}


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    return {f"{k}_{stat}": fn([r[k] for r in runs]) for k in FIGURES
            for stat, fn in (("mean", statistics.fmean), ("std", statistics.stdev))}


def main() -> None:
    rows: dict[str, list[dict[str, float]]] = {}
    for split in ("train", "test"):
        for draw in range(DRAWS):
            data = StackedFashionMNIST(split=split, n=N_SAMPLES, seed=10_000 + draw)
            rows.setdefault(f"true labels, {split} split (sampling floor)", []).append(true_label_figures(data))
            rows.setdefault(f"classifier on real images, {split} split (ceiling)", []).append(classifier_figures(data))
    out = {"n_samples": N_SAMPLES, "draws": DRAWS, "rows": {name: summary(runs) for name, runs in rows.items()}}
    path = Path(__file__).with_name("stacked_reference.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    for name, r in out["rows"].items():
        print(f"{name:50} modes {r['stacked_modes_hit_mean']:7.1f} ± {r['stacked_modes_hit_std']:4.1f}"
              f"  KL {r['stacked_kl_to_uniform_mean']:.4f} ± {r['stacked_kl_to_uniform_std']:.4f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
