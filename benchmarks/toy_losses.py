"""Mode collapse on the 2D toys: every built-in loss trained by the real engine with its paper's
optimizer defaults, on ``toy-ring`` (8 modes) and ``toy-grid`` (25 modes), scored with
``ganzoo.metrics.toy`` (2,500 samples; a sample is high quality within 3 std of its nearest mode,
a mode is captured when it has at least one high-quality sample).

    python benchmarks/toy_losses.py [--steps 2000] [--seeds 2] [--batch-size 256] [--jobs 2]

Writes benchmarks/toy_losses.json and benchmarks/toy_losses.md. The default budget is sized to
finish in about a quarter of an hour on a shared 2-core CPU; the budget is recorded in both files.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASETS = ("toy-ring", "toy-grid")
ARCH_ARGS = {"g_hidden": (128, 128), "d_hidden": (128, 128), "latent_dim": 16}
SAMPLES = 2500


def builtin_losses() -> list[str]:
    """Every loss ganzoo itself ships that the MLP on 2D points can train."""
    from ganzoo import registry
    from ganzoo.build import check_compatible
    from ganzoo.data.base import DataSpec
    from ganzoo.errors import IncompatibleError

    points = DataSpec((2,), 8, frozenset({"points", "labels"}))
    names = []
    for entry in registry.losses.entries():
        if entry.distribution != "ganzoo":
            continue
        try:
            check_compatible("mlp", entry.name, [], points, "toy-ring")
        except IncompatibleError:
            continue
        names.append(entry.name)
    return names


def run_one(job: tuple[str, str, int, int, int]) -> dict[str, Any]:
    """Train one (loss, dataset, seed) and score 2,500 samples of its generator."""
    loss, dataset, seed, steps, batch = job
    import torch

    torch.set_num_threads(1)
    from ganzoo.api import train
    from ganzoo.build import PluginSpec
    from ganzoo.errors import NonFiniteLossError
    from ganzoo.metrics.toy import toy_metrics
    from ganzoo.pretrained import from_run
    from ganzoo.safeio import read_json

    record: dict[str, Any] = {"loss": loss, "dataset": dataset, "seed": seed}
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        try:
            train(
                PluginSpec("mlp", dict(ARCH_ARGS)), loss, dataset, run_dir, steps=steps, batch_size=batch, seed=seed,
                ema=None, device="cpu", progress=False, checkpoint_every=steps, keep_checkpoints=1,
                sample_every=10**9, log_every=max(1, steps // 10),
            )
        except NonFiniteLossError as exc:  # a diverged run scores as capturing nothing
            record.update(status=f"diverged: {exc}", modes_captured=0, high_quality_fraction=0.0, kl_to_uniform=math.nan)
            record["wall_s"] = time.perf_counter() - started
            return record
        record["wall_s"] = time.perf_counter() - started
        record["resolved"] = read_json(Path(run_dir) / "config.json", "run config")["resolved"]
        points = from_run(run_dir).sample(SAMPLES, seed=10_000 + seed)
    scores = toy_metrics(points, dataset)
    record.update(status="ok", **scores.to_dict())
    return record


def references(seeds: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """What the scores mean: real samples (the ceiling) and points uniform over the modes'
    bounding box widened by 0.5 (chance: a diffuse generator that learned only the support)."""
    import torch

    from ganzoo.data.toy import sample_toy, toy_centers
    from ganzoo.metrics.toy import toy_metrics

    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for dataset in DATASETS:
        centers = toy_centers(dataset)
        low, high = centers.min(0).values - 0.5, centers.max(0).values + 0.5
        out[dataset] = {"real data (ceiling)": [], "uniform box (chance)": []}
        for seed in range(seeds):
            g = torch.Generator().manual_seed(10_000 + seed)
            real, _ = sample_toy(dataset, SAMPLES, g)
            box = low + (high - low) * torch.rand(SAMPLES, 2, generator=g)
            out[dataset]["real data (ceiling)"].append(toy_metrics(real, dataset).to_dict())
            out[dataset]["uniform box (chance)"].append(toy_metrics(box, dataset).to_dict())
    return out


def _mean_std(values: list[float]) -> dict[str, float]:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return {"mean": math.nan, "std": math.nan}
    return {"mean": statistics.fmean(finite), "std": statistics.pstdev(finite) if len(finite) > 1 else 0.0}


def summarize(records: list[dict[str, Any]], steps: int, seeds: int) -> dict[str, dict[str, Any]]:
    from ganzoo.data.toy import toy_centers

    table: dict[str, dict[str, Any]] = {}
    refs = references(seeds)
    for dataset in DATASETS:
        table[dataset] = {
            name: {
                "reference": True,
                "n_modes": len(toy_centers(dataset)),
                **{key: _mean_std([float(r[key]) for r in runs]) for key in ("modes_captured", "high_quality_fraction", "kl_to_uniform")},
                "seeds": seeds,
            }
            for name, runs in refs[dataset].items()
        }
        for loss in sorted({r["loss"] for r in records}):
            runs = sorted((r for r in records if r["dataset"] == dataset and r["loss"] == loss), key=lambda r: r["seed"])
            n_critic = next((r["resolved"]["n_critic"] for r in runs if "resolved" in r), None)
            table[dataset][loss] = {
                "n_modes": len(toy_centers(dataset)),
                "modes_captured": _mean_std([float(r["modes_captured"]) for r in runs]),
                "high_quality_fraction": _mean_std([float(r["high_quality_fraction"]) for r in runs]),
                "kl_to_uniform": _mean_std([float(r["kl_to_uniform"]) for r in runs]),
                "g_steps": steps,
                "n_critic": n_critic,
                "seeds": seeds,
                "diverged": sum(r["status"] != "ok" for r in runs),
                "wall_s_per_run": statistics.fmean(r["wall_s"] for r in runs),
                "resolved": next((r["resolved"] for r in runs if "resolved" in r), None),
                "runs": [{k: r[k] for k in ("seed", "modes_captured", "high_quality_fraction", "kl_to_uniform", "wall_s", "status")} for r in runs],
            }
    return table


def _finite(value: Any) -> Any:
    """NaN (no high-quality sample, so no KL) as null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def markdown(summary: dict[str, dict[str, Any]], protocol: dict[str, Any]) -> str:
    lines = [
        "# Toy mode-collapse benchmark of the losses",
        "",
        f"Generated by `python benchmarks/toy_losses.py --steps {protocol['g_steps']} --seeds {protocol['seeds']} "
        f"--batch-size {protocol['batch_size']}` ({protocol['total_wall_s'] / 60:.1f} min on {protocol['machine']}).",
        "",
        f"- Architecture `mlp` {protocol['architecture_args']}, no EMA, fp32, CPU; each loss with its paper's "
        "optimizer, learning rates, betas and n_critic (`train_defaults`), a fixed budget of generator steps "
        "(a loss with n_critic 5 makes 5 discriminator updates per generator step).",
        f"- Scored with `ganzoo.metrics.toy.toy_metrics` on {SAMPLES} samples of the final generator: a sample is "
        "high quality (HQ) within 3 std of its nearest mode; a mode is captured when it has at least one HQ sample. "
        "KL is KL(HQ mode histogram || uniform), 0 = balanced.",
        "- mean ± std over seeds (population std). Wall time is per run, on a shared machine.",
        "- Reference rows (not trained): 2,500 real samples, and 2,500 points uniform over the modes' bounding box "
        "widened by 0.5 — what a generator that only learned the support scores by chance. A loss is concentrating "
        "on modes only where its HQ share is well above the chance row; below that, its modes-captured count says "
        "how widely it spreads, not how well it fits.",
        "",
    ]
    for dataset, rows in summary.items():
        k = next(iter(rows.values()))["n_modes"]
        lines += [
            f"## {dataset} ({k} modes)",
            "",
            "| loss | modes captured | HQ share | KL to uniform | G steps | n_critic | seeds | diverged | wall s/run |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        trained = [n for n in rows if not rows[n].get("reference")]
        order = sorted(trained, key=lambda n: (-rows[n]["modes_captured"]["mean"], -rows[n]["high_quality_fraction"]["mean"]))
        for name in order + [n for n in rows if rows[n].get("reference")]:
            r = rows[name]
            mc, hq, kl = r["modes_captured"], r["high_quality_fraction"], r["kl_to_uniform"]
            label = f"*{name}*" if r.get("reference") else name
            budget = ("–", "–", r["seeds"], "–", "–") if r.get("reference") else (
                r["g_steps"], r["n_critic"], r["seeds"], r["diverged"], f"{r['wall_s_per_run']:.0f}")
            lines.append(
                f"| {label} | {mc['mean']:.1f} ± {mc['std']:.1f} / {k} | {hq['mean']:.3f} ± {hq['std']:.3f} | "
                f"{kl['mean']:.2f} ± {kl['std']:.2f} | " + " | ".join(str(b) for b in budget) + " |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="generator steps per run")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel, one CPU thread each")
    parser.add_argument("--losses", nargs="*", help="default: every built-in loss")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()

    losses = args.losses or builtin_losses()
    # Slowest first (n_critic 5 losses), so the parallel runs finish together.
    jobs = [(loss, dataset, seed, args.steps, args.batch_size) for seed in range(args.seeds) for dataset in DATASETS for loss in losses]
    from ganzoo import registry

    jobs.sort(key=lambda j: -(registry.losses.get(j[0]).train_defaults.n_critic or 1))
    started = time.perf_counter()
    records = []
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for record in pool.imap_unordered(run_one, jobs):
            records.append(record)
            print(f"[{len(records)}/{len(jobs)}] {record['dataset']} {record['loss']} seed {record['seed']}: "
                  f"{record['modes_captured']} modes, HQ {record['high_quality_fraction']:.3f} ({record['wall_s']:.0f} s)", flush=True)
    total = time.perf_counter() - started
    protocol = {
        "g_steps": args.steps, "seeds": args.seeds, "batch_size": args.batch_size, "samples": SAMPLES,
        "architecture": "mlp", "architecture_args": {k: list(v) if isinstance(v, tuple) else v for k, v in ARCH_ARGS.items()},
        "ema": None, "precision": "fp32", "device": "cpu", "jobs": args.jobs, "threads_per_job": 1,
        "machine": f"{platform.machine()} {multiprocessing.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "total_wall_s": total,
    }
    summary = summarize(records, args.steps, args.seeds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "toy_losses.json").write_text(json.dumps(_finite({"protocol": protocol, "results": summary}), indent=2) + "\n")
    (args.out / "toy_losses.md").write_text(markdown(summary, protocol) + "\n")
    print(f"wrote {args.out / 'toy_losses.json'} and {args.out / 'toy_losses.md'} in {total / 60:.1f} min")


if __name__ == "__main__":
    main()
