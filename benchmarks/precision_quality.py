"""Does ``--precision auto`` cost DCGAN any quality? fp32 against auto, same seeds and budget.

Each cell trains DCGAN-28 with the non-saturating loss on Fashion-MNIST for a fixed number of
epochs (auto resolves to bf16 + channels_last on CPUs with AMX/AVX512-BF16, and says so in the run),
then scores the EMA generator with FID/KID/precision-recall on 10,000 test images vs 10,000
generated ones. Every cell is scored the same way (``--features``: fp32, the standard figure, or
bf16, ~2.5x faster on such CPUs), so only the training precision differs between rows.
Cells are resumable: a finished cell (its result.json exists) is skipped, a half-trained one
resumes from its checkpoint. Results land in benchmarks/precision/ (results.json, table.md).

    python benchmarks/precision_quality.py --epochs 10 --seeds 0,1
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import ganzoo
from ganzoo.build import PluginSpec
from ganzoo.evaluation import save_results, score

MODES = {
    "fp32": dict(precision="fp32", channels_last=False),
    "auto": dict(precision="auto"),
}
TRAIN_IMAGES = 60_000


def run_cell(out: Path, mode: str, seed: int, epochs: int, batch_size: int, budget_s: float, fast_features: bool) -> dict:
    cell = out / "cells" / f"{mode}-seed{seed}"
    done = cell / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    steps = epochs * TRAIN_IMAGES // batch_size
    run = cell / "run"
    result = ganzoo.train(
        "dcgan", "non-saturating", "fashion-mnist", run, resume=(run / "checkpoints" / "latest").is_file(),
        progress=False, steps=steps, batch_size=batch_size, seed=seed, device="cpu",
        checkpoint_every=500, sample_every=1000, time_budget_s=budget_s, **MODES[mode],
    )
    if result.step < steps:
        raise SystemExit(f"{cell}: stopped at step {result.step} of {steps} (time budget); run the script again to continue")
    G = ganzoo.load(str(run))
    started = time.perf_counter()
    scored = score(G, PluginSpec("fashion-mnist"), metrics=["fid", "kid", "prdc"], n_generated=10_000, n_real=10_000,
                   seed=0, device="cpu", progress=False, fast=fast_features)
    save_results(run, scored)
    figures = {r["metric"]: r["value"] for r in scored["results"] if "value" in r}
    summary = json.loads((run / "summary.json").read_text())
    resolved = json.loads((run / "config.json").read_text())["resolved"]
    record = {
        "mode": mode, "resolved_precision": resolved.get("precision"), "channels_last": resolved.get("channels_last"),
        "precision_reason": resolved.get("precision_reason"), "seed": seed, "epochs": epochs, "batch_size": batch_size, "steps": result.step,
        "train_images_per_second": summary.get("images_per_second_last_session"),
        "train_wall_s": summary.get("wall_time_s"), "eval_wall_s": round(time.perf_counter() - started, 1),
        "figures": figures, "protocol": scored["results"][0]["protocol"],
    }
    done.write_text(json.dumps(record, indent=2) + "\n")
    return record


def table(records: list[dict]) -> str:
    lines = ["| --precision | ran as | seeds | FID (10k vs 10k) | KID | precision | recall | train img/s |", "|---|---|---|---|---|---|---|---|"]
    for mode in MODES:
        rows = [r for r in records if r["mode"] == mode]
        if not rows:
            continue

        def cell(key: str, fmt: str) -> str:
            values = [r["figures"][key] for r in rows]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            return f"{format(statistics.mean(values), fmt)} ± {format(sd, fmt)}"

        rates = [r["train_images_per_second"] for r in rows if r["train_images_per_second"]]
        lines.append(
            f"| {mode} | {rows[0]['resolved_precision']}{' + channels_last' if rows[0]['channels_last'] else ''} | {', '.join(str(r['seed']) for r in rows)} | {cell('fid', '.2f')} | {cell('kid_mean', '.4f')} | "
            f"{cell('precision', '.3f')} | {cell('recall', '.3f')} | {statistics.median(rates):.0f} |"
        )
    features = records[0]["protocol"].get("feature_precision", "fp32")
    lines.append("")
    lines.append(f"Inception features in {features} for every cell; generated images {records[0]['protocol'].get('generator_precision', 'fp32')}.")
    lines.append("")
    lines.append("Per seed: " + "; ".join(f"{r['mode']} seed {r['seed']}: FID {r['figures']['fid']:.2f}" for r in records))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--budget-s", type=float, default=3600, help="wall-time budget per training run")
    parser.add_argument("--out", default=str(Path(__file__).parent / "precision"))
    parser.add_argument("--features", choices=("fp32", "bf16"), default="fp32", help="precision of the Inception pass for every cell")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for mode in args.modes.split(","):
            records.append(run_cell(out, mode, seed, args.epochs, args.batch_size, args.budget_s, args.features == "bf16"))
            (out / "results.json").write_text(json.dumps({"cpu_threads": torch.get_num_threads(), "cells": records}, indent=2) + "\n")
            (out / "table.md").write_text(table(records))
            print(table(records), flush=True)


if __name__ == "__main__":
    main()
