"""Train the Fashion-MNIST classifier that ganzoo's class-based metrics use, and record how well it does.

Writes ganzoo/metrics/weights/fashion-mnist-classifier.safetensors (package data) and
benchmarks/classifier/result.json (test accuracy, per-class accuracy, the test set's own class
histogram and domain Inception Score as reference figures, the command, wall time, sha256).
After retraining, set ``WEIGHTS_SHA256`` in ganzoo/metrics/classifier.py to the printed hash.

Run (about 7 minutes of CPU time on one core with AMX bf16; longer wall time on a busy machine):
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/classifier/train_classifier.py

Seeded and deterministic for a given machine and thread count: the data order, the flips and the
initialisation all come from ``--seed``. Only the 60k training images are used for training; the
10k test images are used once, at the end, for the reported accuracy.
"""
from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.build import PluginSpec, build_dataset
from ganzoo.metrics.class_metrics import class_histogram
from ganzoo.metrics.classifier import WEIGHTS_FILE, FashionMNISTClassifier
from ganzoo.metrics.inception_score import inception_score_from_logits
from ganzoo.safeio import sha256_file, write_json, write_safetensors

RESULT = Path(__file__).with_name("result.json")


def load(split: str, data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    args = {"split": split, "download": False, **({"data_dir": data_dir} if data_dir else {})}
    data, _ = build_dataset(PluginSpec("fashion-mnist", args))
    x, y = data.tensors()
    return x.float().div(127.5).sub(1.0), y


def train(model: FashionMNISTClassifier, x: torch.Tensor, y: torch.Tensor, args: argparse.Namespace) -> None:
    g = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = len(x) // args.batch_size
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    # One-cycle: a short warm-up, then annealing to ~0; reaches a good optimum in few epochs.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2)
    model.train()
    for epoch in range(args.epochs):
        order = torch.randperm(len(x), generator=g)[: steps_per_epoch * args.batch_size].view(steps_per_epoch, -1)
        start, total = time.perf_counter(), 0.0
        for idx in order:
            xb, yb = x[idx], y[idx]
            flip = torch.rand(len(xb), generator=g) < 0.5  # clothes are left-right symmetric
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / steps_per_epoch:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)


@torch.inference_mode()
def logits_of(model: FashionMNISTClassifier, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model(chunk) for chunk in x.split(1000)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--width", type=int, default=24, help="channels of the first stage (then 2x and 4x)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16", help="training autocast; evaluation is fp32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files (default: ganzoo's search path)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    x_train, y_train = load("train", args.data_dir)
    x_test, y_test = load("test", args.data_dir)
    model = FashionMNISTClassifier(width=args.width)
    train(model, x_train, y_train, args)
    wall = time.perf_counter() - started

    model = model.float()
    write_safetensors(args.out, model.state_dict(), metadata={"width": str(args.width), "num_classes": "10"})
    logits = logits_of(model, x_test)
    predicted = logits.argmax(1)
    per_class = [float((predicted[y_test == c] == c).float().mean()) for c in range(10)]
    accuracy = float((predicted == y_test).float().mean())
    first_2000 = float((predicted[:2000] == y_test[:2000]).float().mean())
    sha = sha256_file(args.out)
    histogram = class_histogram(predicted, 10)
    record = {
        "test_accuracy": accuracy,
        "test_accuracy_first_2000": first_2000,
        "per_class_accuracy": per_class,
        "reference_on_test_set": {
            "domain_is_mean": inception_score_from_logits(logits, splits=10).mean,
            "class_kl_to_uniform": histogram.kl_to_uniform,
            "classes_covered": histogram.classes_covered,
        },
        "weights": str(args.out.relative_to(Path.cwd()) if args.out.is_relative_to(Path.cwd()) else args.out),
        "weights_bytes": args.out.stat().st_size,
        "sha256": sha,
        "parameters": sum(p.numel() for p in model.parameters()),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "command": " ".join(shlex.quote(a) for a in [sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "train_wall_seconds": round(wall, 1),
        "torch_threads": torch.get_num_threads(),  # set with OMP_NUM_THREADS
        "torch_version": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }
    write_json(RESULT, record)
    print(json.dumps({k: record[k] for k in ("test_accuracy", "test_accuracy_first_2000", "sha256", "train_wall_seconds")}))
    print(f"set WEIGHTS_SHA256 = \"{sha}\" in ganzoo/metrics/classifier.py")


if __name__ == "__main__":
    main()
