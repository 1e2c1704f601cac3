"""What each speed lever gives the engine: DCGAN-28 training img/s with one lever changed at a time.

    python benchmarks/speed_levers.py [--steps 60] [--rounds 3] [--batch-size 128]

Every variant trains the same network on the same data (Fashion-MNIST in memory) in one process;
rounds interleave the variants so drift in machine load hits them alike, and the table reports
medians and the ratio to the default. Writes benchmarks/speed_levers.json and .md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

import ganzoo.architectures.dcgan as dcgan
import ganzoo.engine.trainer as trainer_module
from ganzoo.build import PluginSpec
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer

HERE = Path(__file__).resolve().parent
WARMUP = 10


@contextlib.contextmanager
def plain_flatten() -> Iterator[None]:
    """The discriminator as it was: flatten without handing the gradient back channels_last."""
    original = dcgan.flatten_maps
    dcgan.flatten_maps = lambda h: h.flatten(1)
    try:
        yield
    finally:
        dcgan.flatten_maps = original


@contextlib.contextmanager
def fused_adam() -> Iterator[None]:
    original = trainer_module.make_optimizer

    def make(kind: str, params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True) if kind == "adam" else original(kind, params, lr, betas)

    trainer_module.make_optimizer = make
    try:
        yield
    finally:
        trainer_module.make_optimizer = original


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    yield


# name -> (TrainConfig overrides, context that patches the engine for the run)
VARIANTS: dict[str, tuple[dict[str, Any], Callable[[], contextlib.AbstractContextManager[None]]]] = {
    "fp32": ({"precision": "fp32"}, nothing),
    "bf16, no channels_last": ({"precision": "bf16", "channels_last": False}, nothing),
    "bf16 + channels_last, plain flatten (before)": ({"precision": "bf16", "channels_last": True}, plain_flatten),
    "default (auto: bf16 + channels_last)": ({"precision": "auto"}, nothing),
    "default + fused Adam": ({"precision": "auto"}, fused_adam),
    "default without EMA": ({"precision": "auto", "ema": None}, nothing),
    "default + torch.compile": ({"precision": "auto", "compile": True}, nothing),
}


def rate(overrides: dict[str, Any], steps: int, batch: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(
            arch=PluginSpec("dcgan"), loss=PluginSpec("non-saturating"), dataset=PluginSpec("fashion-mnist"),
            steps=steps, batch_size=batch, seed=seed, device="cpu",
            sample_every=10**9, checkpoint_every=10**9, keep_checkpoints=1, log_every=WARMUP, **overrides,
        )
        Trainer(cfg, tmp, progress=False).fit()
        rows = [json.loads(line) for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
    windows = [r["images_per_second"] for r in rows if r["step"] % WARMUP == 0][1:]  # drop the warm-up window
    return statistics.harmonic_mean(windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--only", default=None, help="comma list of variant names to run")
    parser.add_argument("--out", default=str(HERE / "speed_levers"))
    args = parser.parse_args()
    names = [n for n in VARIANTS if args.only is None or n in args.only.split(",")]
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            overrides, context = VARIANTS[name]
            with context():
                rates[name].append(rate(overrides, args.steps, args.batch_size, seed=r))
            print(f"round {r}: {name}: {rates[name][-1]:.0f} img/s", flush=True)
    medians = {n: statistics.median(v) for n, v in rates.items()}
    base = medians.get("default (auto: bf16 + channels_last)") or next(iter(medians.values()))
    lines = ["| variant | img/s (median) | vs default | rounds |", "|---|---|---|---|"]
    for n in names:
        lines.append(f"| {n} | {medians[n]:.0f} | {medians[n] / base:.2f}x | {', '.join(f'{x:.0f}' for x in rates[n])} |")
    table = "\n".join(lines) + "\n"
    print(table)
    result = {
        "device": f"cpu ({torch.get_num_threads()} threads, {platform.machine()})", "torch": torch.__version__,
        "model": "dcgan 28px, non-saturating, Adam 2e-4 (0.5, 0.999), EMA 0.999 unless noted", "batch_size": args.batch_size,
        "steps_per_run": args.steps, "warmup_steps_excluded": WARMUP, "rounds": args.rounds,
        "images_per_second": {n: [round(x, 1) for x in v] for n, v in rates.items()},
        "median_ratio_to_default": {n: round(medians[n] / base, 3) for n in names},
    }
    Path(args.out + ".json").write_text(json.dumps(result, indent=2) + "\n")
    Path(args.out + ".md").write_text(table)


if __name__ == "__main__":
    main()
