"""The README's Lucic table, from the finished cells of the committed Lucic benchmarks.

    python benchmarks/lucic_table.py      # prints the markdown table

Reads ``benchmarks/lucic/cells/*/result.json`` and ``benchmarks/lucic-began/cells/*/result.json``
(the raw generator: the study trains no EMA) and writes one row per loss: FID mean ± sample std
over the seeds with each seed's figure, beside the study's best of 100 trials, and the means of
KID, precision / recall and the class histogram. The last column says what each seed trained in,
since ``--precision auto`` picks bf16 on a CPU with AMX-BF16 and fp32 on one without.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = (HERE / "lucic", HERE / "lucic-began")

# Lucic et al. 2018, Table 2, Fashion-MNIST: best FID of 100 hyper-parameter trials per loss.
PUBLISHED = {"minimax": ("minimax", 29.6), "non-saturating": ("non-saturating", 26.5),
             "least-squares": ("least-squares", 30.7), "wasserstein": ("WGAN", 21.5), "wgan-gp": ("WGAN-GP", 24.5),
             "dragan": ("DRAGAN", 27.7), "began": ("BEGAN", 22.9)}


def finished_cells() -> dict[str, list[dict]]:
    """Each loss's raw-generator results, in seed order."""
    by_loss: dict[str, list[dict]] = {}
    for folder in FOLDERS:
        for path in sorted(folder.glob("cells/*/result.json")):
            for result in json.loads(path.read_text())["results"]:
                if result["generator"] == "raw":
                    by_loss.setdefault(result["cell"]["loss"], []).append(result)
    for results in by_loss.values():
        results.sort(key=lambda r: r["cell"]["seed"])
    return by_loss


def spread(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.{digits}f}" if len(values) == 1 else f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def row(loss: str, results: list[dict]) -> str:
    finals = [r["final"] for r in results]

    def mean(key: str) -> float:
        return statistics.fmean(f[key] for f in finals)

    fids = [f["fid"] for f in finals]
    each = f" ({', '.join(f'{x:.2f}' for x in fids)})" if len(fids) > 1 else ""
    classes = min(f["classes_covered"] for f in finals)
    # Cells scored before the bench recorded `training_precision` give the sampling precision, which
    # `--precision auto` chooses by the same rule on the same machine.
    precisions = [r["final"].get("training_precision") or r["protocol"]["fid"].get("generator_precision", "?") for r in results]
    trained = precisions[0] if len(set(precisions)) == 1 else ", ".join(precisions)
    name, published = PUBLISHED[loss]
    return (f"| {name} | {len(fids)} | **{spread(fids, 2)}**{each} | {published} | {mean('kid_mean'):.3f} | "
            f"{mean('precision'):.2f} / {mean('recall'):.2f} | {classes:.0f}/10 ({mean('class_kl_to_uniform'):.3f}) | {trained} |")


def main() -> None:
    by_loss = finished_cells()
    print("| loss | seeds | FID (ganzoo, defaults) | their Table 2 (best of 100) | KID | precision / recall | classes (KL) | trained in |")
    print("|---|---|---|---|---|---|---|---|")
    for loss in PUBLISHED:
        if loss in by_loss:
            print(row(loss, by_loss[loss]))
    missing = [PUBLISHED[loss][0] for loss in PUBLISHED if loss not in by_loss]
    if missing:
        print(f"\nNo finished cell yet: {', '.join(missing)}.")


if __name__ == "__main__":
    main()
