"""What one cell of a ``ganzoo bench --preset`` costs on this machine: training time per variant.

Times ``--steps`` generator steps of each of the preset's variants (loss and tricks, seed 0, first
dataset) with the preset's own settings, after a short warm-up that builds the data and the
networks, on ``--threads`` CPU threads, and extrapolates to the preset's budget in generator steps.
Writes ``benchmarks/cost-<preset>.json``. A shared machine is noisy: read the ratios between
variants, and compare the minutes with the scoring time measured the same day.

    OMP_NUM_THREADS=1 python benchmarks/preset_cost.py --preset lucic --steps 100
    OMP_NUM_THREADS=1 python benchmarks/preset_cost.py --preset pacgan-stacked --steps 100
    OMP_NUM_THREADS=1 python benchmarks/preset_cost.py --preset pacgan-stacked --trick pack:m=4 --batch-size 256
    OMP_NUM_THREADS=1 python benchmarks/preset_cost.py --preset lucic --arch lucic-began --loss began

``--arch``, ``--loss``, ``--trick`` and ``--batch-size`` override the preset as ``ganzoo bench`` flags
do; rows of another run of the same preset already in the file are kept, so variants timed one by one
add up.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from ganzoo.bench.grid import BenchSpec, _data_spec, _train_config
from ganzoo.bench.presets import PRESETS, resolve
from ganzoo.bench.records import Cell
from ganzoo.engine.trainer import Trainer
from ganzoo.locks import exclusive
from ganzoo.safeio import read_json, write_json

WARM_UP = 10


def seconds_for(spec: BenchSpec, cell: Cell, steps: int, folder: Path) -> float:
    config = _train_config(spec, cell, _data_spec(spec, cell.dataset), steps, None)
    started = time.perf_counter()
    Trainer(config, folder, resume=False, progress=False).fit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
    parser.add_argument("--steps", type=int, default=100, help="generator steps timed per variant (after the warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arch", action="append", help="an architecture to time instead of the preset's (repeatable)")
    parser.add_argument("--loss", action="append", help="a loss to time instead of the preset's (repeatable)")
    parser.add_argument("--trick", action="append", help="a variant to time instead of the preset's (repeatable)")
    parser.add_argument("--batch-size", type=int, help="instead of the preset's")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    given = {"archs": args.arch, "losses": args.loss, "tricks": args.trick, "batch_size": args.batch_size,
             "arch_args": {}, "data_args": {}}
    spec = BenchSpec(**resolve(args.preset, given))
    first = [c for c in spec.cells() if c.seed == spec.seeds[0] and c.dataset == spec.datasets[0]]
    out = Path(__file__).with_name(f"cost-{args.preset}.json")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cell in first:
            # loss[+tricks], and the architecture where it is not the preset's
            label = cell.variant if args.arch else cell.variant.split("/", 1)[1]
            label += f" (batch {spec.batch_size})" if args.batch_size else ""
            short = seconds_for(spec, cell, WARM_UP, Path(tmp) / f"{cell.key}-short")
            long = seconds_for(spec, cell, WARM_UP + args.steps, Path(tmp) / f"{cell.key}-long")
            per_step = (long - short) / args.steps
            g_steps = spec.generator_steps(cell)
            rows[label] = {"timed_generator_steps": args.steps, "batch_size": spec.batch_size, "n_critic": spec.n_critic(cell),
                           "generator_steps": g_steps, "seconds_per_generator_step": round(per_step, 4),
                           "cell_training_minutes": round(per_step * g_steps / 60, 1)}
            print(f"{label:30} {per_step * 1000:7.1f} ms per generator step -> {per_step * g_steps / 60:6.1f} min "
                  f"for {g_steps:,} generator steps", flush=True)
    # The file is read only now, under a lock: two timings of one preset running side by side each
    # add their rows instead of the later one writing over the other's.
    with exclusive(Path(tempfile.gettempdir()) / f"ganzoo-cost-{args.preset}.lock"):
        earlier = read_json(out, "preset cost") if out.is_file() else {}
        kept = dict(earlier.get("cells", {})) if earlier.get("threads") == args.threads else {}
        write_json(out, {"preset": args.preset, "threads": args.threads,
                         "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
                         "budget_steps": spec.steps, "step_unit": spec.step_unit, "g_steps": spec.g_steps,
                         "cells": {**kept, **rows}})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
