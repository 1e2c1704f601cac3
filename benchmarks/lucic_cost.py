"""What one cell of `ganzoo bench --preset lucic` costs on this machine: training time per loss.

Times ``--steps`` generator steps of each loss with the preset's own settings (after a short warm-up
that builds the data and the networks), on ``--threads`` CPU threads, and extrapolates to the
preset's budget (15,625 discriminator steps: 15,625 // n_critic generator steps). Writes
``benchmarks/lucic_cost.json``. A shared machine is noisy: read the ratios between losses, and
compare the minutes with the scoring time of a 10k-image FID measured the same day.

    OMP_NUM_THREADS=1 python benchmarks/lucic_cost.py --steps 100
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from ganzoo.bench.grid import BenchSpec, _train_config
from ganzoo.bench.presets import resolve
from ganzoo.build import PluginSpec
from ganzoo.engine.trainer import Trainer
from ganzoo.safeio import write_json

OUT = Path(__file__).with_name("lucic_cost.json")
WARM_UP = 10


def seconds_for(spec: BenchSpec, cell, steps: int, folder: Path) -> float:
    config = _train_config(spec, cell, PluginSpec("fashion-mnist"), steps, None)
    started = time.perf_counter()
    Trainer(config, folder, resume=False, progress=False).fit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="generator steps timed per loss (after the warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = BenchSpec(**resolve("lucic", {"arch_args": {}, "data_args": {}}))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cell in (c for c in spec.cells() if c.seed == 0):
            short = seconds_for(spec, cell, WARM_UP, Path(tmp) / f"{cell.loss}-short")
            long = seconds_for(spec, cell, WARM_UP + args.steps, Path(tmp) / f"{cell.loss}-long")
            per_step = (long - short) / args.steps
            g_steps = spec.generator_steps(cell)
            rows[cell.loss] = {"n_critic": spec.n_critic(cell), "generator_steps": g_steps,
                               "seconds_per_generator_step": round(per_step, 4), "cell_training_minutes": round(per_step * g_steps / 60, 1)}
            print(f"{cell.loss:15} {per_step * 1000:7.1f} ms per generator step -> {per_step * g_steps / 60:5.1f} min "
                  f"for {g_steps:,} generator steps", flush=True)
    write_json(OUT, {"timed_generator_steps": args.steps, "threads": args.threads, "machine": platform.processor() or platform.machine(),
                     "torch": torch.__version__, "budget_discriminator_steps": spec.steps, "losses": rows})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
