"""The README's Stacked Fashion-MNIST table, from the finished cells of the committed stacked benchmarks.

    python benchmarks/stacked_table.py      # prints the markdown table

Reads ``benchmarks/stacked-20k/*/cells/*/result.json`` (the raw generator: PacGAN trains no EMA) and
writes one row per variant: modes hit of 1,000 and KL to uniform, mean ± sample std over the trials
with each trial's figure, the KL at every scoring point along training (mean over the trials), and
the counter's figure on real stacked images (``stacked_reference.json``) as the ceiling. Below the
table, each packed variant's final KL against DCGAN's: the difference of the means and its standard
error (Welch's, from each side's sample variance), to say whether the trials so far separate them;
then the same by rank, which one outlying trial cannot swing: how many of the variant's trials end
above DCGAN's median, and the exact two-sided Mann-Whitney test (over every way of splitting the
pooled trials into groups of those sizes), for each packed variant and for all packed trials together.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = HERE / "stacked-20k"
NAMES = {"": "DCGAN", "pack:m=2": "PacDCGAN2", "pack:m=3": "PacDCGAN3", "pack:m=4": "PacDCGAN4"}


def finished_cells() -> dict[str, list[dict]]:
    """Each variant's raw-generator results, in trial order."""
    by_tricks: dict[str, list[dict]] = {}
    for path in sorted(RUNS.glob("*/cells/*/result.json")):
        for result in json.loads(path.read_text())["results"]:
            if result["generator"] == "raw":
                by_tricks.setdefault(result["cell"]["tricks"], []).append(result)
    for results in by_tricks.values():
        results.sort(key=lambda r: r["cell"]["seed"])
    return by_tricks


def spread(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    each = f" ({', '.join(f'{v:.{digits}f}' for v in values)})" if len(values) > 1 else ""
    text = f"{mean:.{digits}f}" if len(values) == 1 else f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"
    return text + each


def along_training(results: list[dict]) -> str:
    steps = sorted({p["step"] for r in results for p in r["curve"]})
    means = [statistics.fmean(p["stacked_kl_to_uniform"] for r in results for p in r["curve"] if p["step"] == s) for s in steps]
    return ", ".join(f"{s // 1000}k {m:.3f}" for s, m in zip(steps, means))


def main() -> None:
    print("| variant | trials | modes hit (of 1,000) | KL to uniform | KL along training (mean) | batch |")
    print("|---|---|---|---|---|---|")
    cells = finished_cells()
    for tricks, results in sorted(cells.items()):
        finals = [r["final"] for r in results]
        print(f"| {NAMES.get(tricks, tricks)} | {len(results)} | {spread([f['stacked_modes_hit'] for f in finals], 0)} | "
              f"**{spread([f['stacked_kl_to_uniform'] for f in finals], 3)}** | {along_training(results)} | "
              f"{results[0]['batch_size']} |")
    print("\n".join(reference_table()))
    print()
    print("\n".join(differences(cells)))
    print()
    print("\n".join(rank_differences(cells)))


def differences(cells: dict[str, list[dict]]) -> list[str]:
    """Each packed variant's mean final KL minus DCGAN's, ± the standard error of that difference."""
    kl = {tricks: [r["final"]["stacked_kl_to_uniform"] for r in results] for tricks, results in cells.items()}
    plain = kl.get("", [])
    lines = []
    for tricks, values in sorted(kl.items()):
        if tricks == "" or len(values) < 2 or len(plain) < 2:
            continue
        delta = statistics.fmean(values) - statistics.fmean(plain)
        error = (statistics.variance(values) / len(values) + statistics.variance(plain) / len(plain)) ** 0.5
        apart = f", {abs(delta) / error:.1f} standard errors apart" if error > 0 else ""
        lines.append(f"{NAMES.get(tricks, tricks)} - DCGAN, final KL: {delta:+.3f} ± {error:.3f} "
                     f"(difference of the means ± its standard error; {len(values)} and {len(plain)} trials{apart})")
    return lines


def mann_whitney(a: list[float], b: list[float]) -> tuple[float, float]:
    """(share of the a-b pairs in which a's trial is the higher, ties counting half; exact two-sided p).

    Exact over every way of splitting the pooled trials into groups of these sizes, counted by rank sum
    (doubled, so that tied mid-ranks stay whole numbers) rather than listed: 30 trials against 10 are
    847 million splits, but at most a few thousand distinct sums."""
    pooled = sorted(a + b)
    doubled = {v: pooled.index(v) + 1 + len(pooled) - pooled[::-1].index(v) for v in pooled}  # first + last 1-based position
    ways: list[Counter[int]] = [Counter({0: 1})] + [Counter() for _ in a]  # ways[k][s]: k trials with doubled rank sum s
    for r in (doubled[v] for v in pooled):
        for k in range(len(a), 0, -1):
            for total, count in ways[k - 1].items():
                ways[k][total + r] += count
    observed = sum(doubled[v] for v in a)
    centre = len(a) * (len(pooled) + 1)  # the doubled rank sum's mean under no difference
    extreme = sum(count for total, count in ways[len(a)].items() if abs(total - centre) >= abs(observed - centre))
    u = observed / 2 - len(a) * (len(a) + 1) / 2
    return u / (len(a) * len(b)), extreme / sum(ways[len(a)].values())


def rank_differences(cells: dict[str, list[dict]]) -> list[str]:
    """Each packed variant's final KL against DCGAN's by rank, and all packed trials together."""
    kl = {tricks: [r["final"]["stacked_kl_to_uniform"] for r in results] for tricks, results in cells.items()}
    plain = kl.get("", [])
    if len(plain) < 2:
        return []
    median = statistics.median(plain)
    packed = [(NAMES.get(t, t), v) for t, v in sorted(kl.items()) if t and len(v) >= 2]
    if len(packed) > 1:
        packed.append(("every packed trial", [x for _, v in packed for x in v]))
    lines = []
    for name, values in packed:
        share, p = mann_whitney(values, plain)
        lines.append(f"{name} vs DCGAN, final KL by rank: {sum(v > median for v in values)} of {len(values)} trials above "
                     f"DCGAN's median ({median:.3f}); the packed trial is the higher in {share:.0%} of the "
                     f"{len(values) * len(plain)} pairs, exact two-sided Mann-Whitney p = {p:.3f}")
    return lines


def reference_table() -> list[str]:
    """The rows of the counter on real stacked images (``stacked_reference.json``)."""
    rows = []
    reference = json.loads((HERE / "stacked_reference.json").read_text())
    for split in ("train", "test"):
        row = reference["rows"][f"classifier on real images, {split} split (ceiling)"]
        rows.append(f"| real stacked images, {split} split (the counter's ceiling) | {reference['draws']} draws | "
                    f"{row['stacked_modes_hit_mean']:.0f} | {row['stacked_kl_to_uniform_mean']:.3f} ± "
                    f"{row['stacked_kl_to_uniform_std']:.3f} | | |")
    return rows


if __name__ == "__main__":
    main()
