"""DCGAN training throughput, FLOP share, Inception feature pass and the GPU tests, in ONE device lease.

Made for one H200 call (README.md beside this file has the exact command):

    PYTHONPATH=. PYTHONUNBUFFERED=1 python3 benchmarks/gpu/run.py --out $OUT --budget-s 480

and for CPU, as a check of the whole pipeline in a few seconds (the test suite runs this):

    python benchmarks/gpu/run.py --dry-run --out /tmp/gpu-dry

What it does, in this order, each phase skipped (and said so) when the time budget runs out:

1. environment, and the bf16 matrix rate measured with a large random matmul (the ceiling);
2. the FLOPs of one training step per resolution (``torch.utils.flop_counter.FlopCounterMode``);
3. the sweep: DCGAN-64, -32, -28 x batch 64..1024 x {fp32, bf16 autocast, bf16 + channels_last},
   each a ``Trainer.train_step`` loop on synthetic uint8 images generated on the device;
4. extras on the best DCGAN-64 cell, each in its own process with a timeout: a hand-written loop
   over the same networks (engine overhead), cudnn.benchmark, torch.compile, and with
   ``--cuda-graphs`` the hand-written step captured in a CUDA graph;
5. the Inception feature pass over 10k images (``--inception PATH``; or ``--inception-standin``:
   torchvision's inception_v3 with random weights, same shapes, NOT the FID network; else skipped);
6. ``pytest -m gpu tests/test_gpu.py``.

Writes ``results.json`` (after every cell, so a killed run leaves what it measured) and
``results.md`` to ``--out`` (default ``$OUT``). It imports nothing that imports
``huggingface_hub`` (``ganzoo.hub``, ``ganzoo.api``, ``import ganzoo; ganzoo.load``), and needs no
installed ganzoo: plugins missing from the entry points are registered from their classes.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere, ganzoo not installed
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ganzoo import registry  # noqa: E402
from ganzoo.build import PluginSpec  # noqa: E402
from ganzoo.contracts import Batch, DInput  # noqa: E402
from ganzoo.engine.config import TrainConfig  # noqa: E402
from ganzoo.engine.trainer import Trainer  # noqa: E402

SCHEMA = "ganzoo-gpu-bench/1"
GOAL_IMG_S = 50_000  # DCGAN-64 real images through D per second, on the H200
ASSUMED_PEAK_TFLOPS = 790.0  # bf16 8192^3 matmul on random data, measured on this workplace's H200
CHANNELS = {28: 1, 32: 3, 64: 3}  # Fashion-MNIST, CIFAR-10, CelebA-64
MODES: dict[str, dict[str, Any]] = {
    "fp32": {"precision": "fp32", "channels_last": False},
    "bf16": {"precision": "bf16", "channels_last": False},
    "bf16-cl": {"precision": "bf16", "channels_last": True},
}
# The plugins this benchmark uses, by (registry, name, module, class): on a machine where ganzoo is
# not installed (no entry points) they are registered from their classes instead.
PLUGINS = (
    ("architectures", "dcgan", "ganzoo.architectures.dcgan", "DCGAN"),
    ("losses", "non-saturating", "ganzoo.losses.classic", "NonSaturating"),
    ("datasets", "fake", "ganzoo.data.fake", "FakeData"),
)
CELL_MARK = "CELL_RESULT "


# --- setup -----------------------------------------------------------------------------------------
def ensure_plugins() -> dict[str, str]:
    """Make dcgan, non-saturating and fake resolvable; returns where each came from."""
    found = {}
    for kind, name, module, attr in PLUGINS:
        reg = registry.REGISTRIES[kind]
        if name in reg:
            found[name] = reg.entry(name).origin
        else:
            reg.register(getattr(importlib.import_module(module), attr), name=name)
            found[name] = f"registered locally from {module}.{attr} (no ganzoo entry points installed)"
    return found


def significant(x: float, digits: int = 4) -> float:
    """Round to significant figures, not decimals: a CPU dry run achieves thousandths of a TFLOP/s
    and millionths of the H200's peak, which a fixed number of decimals turns into a false zero."""
    return float(f"{x:.{digits}g}")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


class Budget:
    """Wall-clock deadline for the whole run; phases ask for what is left after later reserves."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self, reserve: float = 0.0) -> float:
        return self.deadline - reserve - time.perf_counter()


@dataclass
class Plan:
    """Sizes of every phase; --dry-run shrinks them to seconds on a CPU."""

    device: str
    resolutions: list[int]
    batch_sizes: list[int]
    modes: list[str]
    width: int = 64
    ema: float | None = 0.999  # the engine's default, so the numbers are what `ganzoo train` does
    warmup: int = 5
    calib_steps: int = 3
    repeats: int = 3
    min_steps: int = 10
    max_steps: int = 400
    target_s: float = 0.3  # per repeat
    flop_batch: int = 64
    matmul_n: int = 8192
    matmul_dtype: str = "bf16"
    extras: list[dict[str, Any]] = field(default_factory=list)
    inception_n: int = 10_000
    inception_batches: list[int] = field(default_factory=lambda: [50, 500])
    cell_est_s: float = 3.0  # a sweep cell's cost before one was measured
    # seconds kept back for the phases after the sweep
    reserve_extras: float = 170.0
    reserve_inception: float = 30.0
    reserve_pytest: float = 150.0


def make_plan(args: argparse.Namespace) -> Plan:
    if args.dry_run:
        plan = Plan(device=args.device or "cpu", resolutions=args.resolutions or [28], batch_sizes=args.batch_sizes or [4],
                    modes=args.modes or list(MODES), warmup=1, calib_steps=0, repeats=1, min_steps=2, max_steps=2,
                    target_s=0.0, flop_batch=4, matmul_n=256, inception_n=8, inception_batches=[4],
                    cell_est_s=1.0, reserve_extras=0.0, reserve_inception=0.0, reserve_pytest=0.0)
    else:
        plan = Plan(device=args.device or "cuda", resolutions=args.resolutions or [64, 32, 28],
                    batch_sizes=args.batch_sizes or [64, 128, 256, 512, 1024], modes=args.modes or list(MODES))
    unknown = set(plan.modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown mode(s) {sorted(unknown)}; choose from {', '.join(MODES)}")
    if args.no_ema:
        plan.ema = None
    # Each runs in a child process, killed after timeout_s (or when the time left runs out, less
    # min_s for each later extra); compile goes last but one so it gets what the sweep left over.
    plan.extras = [{"name": "hand-written loop", "kind": "bare", "timeout_s": 90, "min_s": 20}]
    if not args.dry_run:
        plan.extras += [{"name": "engine + cudnn.benchmark", "kind": "engine", "cudnn_benchmark": True, "timeout_s": 90, "min_s": 20},
                        {"name": "engine + torch.compile", "kind": "engine", "compile": True, "timeout_s": 300, "min_s": 45}]
    if args.cuda_graphs:
        plan.extras.append({"name": "hand-written loop in a CUDA graph", "kind": "bare", "cuda_graph": True, "timeout_s": 90, "min_s": 25})
    return plan


# --- synthetic data and the two step functions -------------------------------------------------------
class DeviceImages:
    """Endless batches of random uint8 images made on the device, scaled to [-1, 1] the way
    ``TensorDataset.get_batch`` scales real ones (and laid out as the engine's ``_prepare`` does)."""

    def __init__(self, batch: int, channels: int, size: int, device: torch.device, channels_last: bool, pool: int = 4) -> None:
        g = torch.Generator(device=device).manual_seed(1234)
        self.pool = [torch.randint(0, 256, (batch, channels, size, size), generator=g, device=device, dtype=torch.uint8)
                     for _ in range(pool)]
        self.channels_last = channels_last
        self.i = 0

    def next_uint8(self) -> torch.Tensor:
        self.i += 1
        return self.pool[self.i % len(self.pool)]

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        return Batch(scale(self.next_uint8(), self.channels_last))


def scale(u8: torch.Tensor, channels_last: bool) -> torch.Tensor:
    x = u8.float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def make_trainer(size: int, batch: int, mode: str, plan: Plan, run_dir: str, *, compile: bool = False) -> Trainer:
    cfg = TrainConfig(
        arch=PluginSpec("dcgan", {"g_width": plan.width, "d_width": plan.width}),
        loss=PluginSpec("non-saturating"),
        dataset=PluginSpec("fake", {"n": 8, "image_size": size, "channels": CHANNELS[size]}),
        batch_size=batch, seed=0, ema=plan.ema, device=plan.device, compile=compile, **MODES[mode],
    )
    return Trainer(cfg, run_dir, progress=False)


def engine_step(trainer: Trainer) -> tuple[Callable[[], None], int]:
    """``Trainer.train_step`` on device-made batches: exactly the engine's step, minus the logging
    and checkpoint bookkeeping of ``fit`` (which run every log_every/checkpoint_every steps)."""
    c = trainer.config
    size = c.dataset.args["image_size"]
    batches = DeviceImages(c.batch_size, CHANNELS[size], size, trainer.device, c.channels_last)

    def step() -> None:
        trainer.train_step(batches)
        trainer.step += 1

    return step, trainer.images_per_step


def bare_step(size: int, batch: int, mode: str, plan: Plan, *, cuda_graph: bool = False) -> tuple[Callable[[], None], int]:
    """The same networks, loss and Adam settings in a hand-written loop (as benchmarks/throughput.py):
    noise drawn on the device, no EMA, no hooks. With ``cuda_graph`` the whole step (D update, G
    update, both optimizers) is captured once and replayed."""
    from ganzoo.architectures.dcgan import DCGAN

    device = torch.device(plan.device)
    precision, channels_last = MODES[mode]["precision"], MODES[mode]["channels_last"]
    torch.manual_seed(0)
    model = DCGAN(channels=CHANNELS[size], image_size=size, g_width=plan.width, d_width=plan.width).to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    G = model.generator
    d_params = list(model.discriminator.parameters())
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=cuda_graph)
    opt_d = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999), capturable=cuda_graph)
    images = DeviceImages(batch, CHANNELS[size], size, device, channels_last)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16

    def autocast() -> Any:  # autocast's weight cache must be off while a graph is captured
        return torch.autocast(device.type, dtype=dtype, enabled=precision != "fp32", cache_enabled=not cuda_graph)

    def train(u8: torch.Tensor, zero: bool) -> None:
        real = scale(u8, channels_last)
        z = torch.randn(batch, G.latent_dim, device=device)
        with autocast():
            fake = G(z)
            loss_d = F.softplus(-model.critic(DInput(real)).score).mean() + F.softplus(model.critic(DInput(fake.detach())).score).mean()
        if zero:
            opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for p in d_params:
            p.requires_grad_(False)
        with autocast():
            loss_g = F.softplus(-model.critic(DInput(fake)).score).mean()
        if zero:
            opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)

    if not cuda_graph:
        return (lambda: train(images.next_uint8(), True)), batch
    static = images.next_uint8().clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            train(static, True)
    torch.cuda.current_stream().wait_stream(side)
    opt_d.zero_grad(set_to_none=True)
    opt_g.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        train(static, False)  # gradients are written, not accumulated, by each replay's backward

    def replay() -> None:
        static.copy_(images.next_uint8())
        graph.replay()

    return replay, batch


# --- measuring ---------------------------------------------------------------------------------------
def measure(step: Callable[[], None], images_per_step: int, plan: Plan, device: torch.device) -> dict[str, Any]:
    """Median images/s over ``plan.repeats`` timed runs of n steps, after a warm-up; n is picked so
    one run lasts about ``plan.target_s``. CUDA events on a GPU, the host clock on a CPU."""
    t0 = time.perf_counter()
    for _ in range(plan.warmup):
        step()
    sync(device)
    warm_s = time.perf_counter() - t0
    n = plan.min_steps
    if plan.calib_steps:
        t0 = time.perf_counter()
        for _ in range(plan.calib_steps):
            step()
        sync(device)
        per_step = (time.perf_counter() - t0) / plan.calib_steps
        n = max(plan.min_steps, min(plan.max_steps, math.ceil(plan.target_s / max(per_step, 1e-6))))
    rates, step_ms = [], []
    for _ in range(plan.repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(n):
                step()
            end.record()
            end.synchronize()
            seconds = start.elapsed_time(end) / 1000
        else:
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            seconds = time.perf_counter() - t0
        rates.append(images_per_step * n / seconds)
        step_ms.append(1000 * seconds / n)
    median = statistics.median(rates)
    return {
        "img_per_s": round(median, 1),
        "img_per_s_runs": [round(r, 1) for r in rates],
        "spread": round((max(rates) - min(rates)) / median, 4) if median else None,
        "step_ms": round(statistics.median(step_ms), 4),
        "steps_per_run": n,
        "warmup_steps": plan.warmup,
        "warmup_s": round(warm_s, 3),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if device.type == "cuda" else None,
    }


def count_flops(step: Callable[[], None]) -> tuple[int, dict[str, int]]:
    """Matmul/conv FLOPs of one call of ``step`` (forward and backward), total and per operator
    (FlopCounterMode counts no elementwise, norm or optimizer work). Per operator, not per module:
    its module attribution of backward work is unreliable (D's backward lands partly on no module)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    by_op = {str(op).replace("aten.", ""): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return int(counter.get_total_flops()), by_op


def matmul_rate(device: torch.device, n: int, dtype: torch.dtype, iters: int = 10, warmup: int = 3) -> dict[str, Any]:
    """TFLOP/s of an n x n x n matmul on random data (METHOD.md: never time zeros), median of 3 runs."""
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=dtype, generator=g)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=g)
    out = torch.empty(n, n, device=device, dtype=dtype)
    for _ in range(warmup):
        torch.mm(a, b, out=out)
    sync(device)
    runs = []
    for _ in range(3):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                torch.mm(a, b, out=out)
            end.record()
            end.synchronize()
            seconds = start.elapsed_time(end) / 1000
        else:
            t0 = time.perf_counter()
            for _ in range(iters):
                torch.mm(a, b, out=out)
            seconds = time.perf_counter() - t0
        runs.append(2 * n**3 * iters / seconds / 1e12)
    ok = bool(torch.isfinite(out).all())
    del a, b, out
    free_memory(device)
    return {"n": n, "dtype": str(dtype).replace("torch.", ""), "tflops": significant(statistics.median(runs)),
            "tflops_runs": [significant(r) for r in runs], "finite": ok}


# --- one cell, in this process or a child ------------------------------------------------------------
def run_cell(spec: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Build and time one configuration; ``spec``: kind (engine|bare), size, batch, mode, and the
    options compile, cudnn_benchmark, cuda_graph."""
    device = torch.device(plan.device)
    if spec.get("cudnn_benchmark"):
        torch.backends.cudnn.benchmark = True
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if spec["kind"] == "engine":
            trainer = make_trainer(spec["size"], spec["batch"], spec["mode"], plan, tmp, compile=bool(spec.get("compile")))
            step, per_step = engine_step(trainer)
        else:
            step, per_step = bare_step(spec["size"], spec["batch"], spec["mode"], plan, cuda_graph=bool(spec.get("cuda_graph")))
        build_s = time.perf_counter() - t0  # with a CUDA graph: its warm-up and capture too
        result = measure(step, per_step, plan, device)
    result["build_s"] = round(build_s, 3)
    result["status"] = "ok"
    return result


def cell_in_child(spec: dict[str, Any], plan: Plan, args: argparse.Namespace, timeout: float) -> dict[str, Any]:
    """``run_cell`` in a fresh process: a compile that runs long is killed at ``timeout``, and a
    failed graph capture cannot poison this process's CUDA context."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cell", json.dumps(spec), "--device", plan.device]
    if args.dry_run:
        cmd.append("--dry-run")
    if plan.ema is None:
        cmd.append("--no-ema")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=max(timeout, 1), env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout:.0f} s", "wall_s": round(time.perf_counter() - t0, 1)}
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CELL_MARK)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        return {"status": "error", "error": " | ".join(tail)[-800:], "wall_s": round(time.perf_counter() - t0, 1)}
    result = json.loads(lines[-1][len(CELL_MARK):])
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    return result


# --- phases ------------------------------------------------------------------------------------------
def environment(device: torch.device) -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "machine": platform.machine(), "cpu_threads": torch.get_num_threads(), "device": str(device),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
    }
    try:  # the version without the import (seconds on a busy CPU); only the stand-in needs the module
        from importlib.metadata import version
        env["torchvision"] = version("torchvision")
    except Exception as exc:  # noqa: BLE001 - only recorded
        env["torchvision"] = f"unavailable: {exc}"
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=props.name, sm_count=props.multi_processor_count, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   capability=f"{props.major}.{props.minor}")
        env["nvidia_smi"] = nvidia_smi()
    return env


def nvidia_smi() -> str | None:
    query = "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu,utilization.gpu"
    try:
        proc = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"], capture_output=True, text=True, timeout=15)
        return proc.stdout.strip() or proc.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"


def flops_phase(plan: Plan, results: dict[str, Any], budget: Budget, save: Callable[[], None]) -> None:
    device = torch.device(plan.device)
    for size in plan.resolutions:
        key = f"dcgan{size}"
        if budget.left() < 5:
            results["flops"][key] = {"status": "skipped: out of time"}
            continue
        try:
            with tempfile.TemporaryDirectory() as tmp:
                trainer = make_trainer(size, plan.flop_batch, "fp32", plan, tmp)
                step, per_step = engine_step(trainer)
                step()  # lazy initialisation out of the count
                total, by_op = count_flops(step)
            results["flops"][key] = {
                "status": "ok", "batch": plan.flop_batch, "images_per_step": per_step, "flops_per_step": total,
                "flops_per_image": round(total / per_step), "gflops_per_image": round(total / per_step / 1e9, 4),
                "by_op": by_op,
                "counts": "matmul/conv forward+backward of Trainer.train_step (D on real+fake, D on fake for G, G fwd+bwd); "
                          "no elementwise, batch-norm, EMA or Adam work",
            }
        except Exception as exc:  # noqa: BLE001 - a failed count must not end the run
            results["flops"][key] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:800]}
        free_memory(device)
        save()


def sweep_phase(plan: Plan, results: dict[str, Any], budget: Budget, save: Callable[[], None], reserve: float) -> None:
    device = torch.device(plan.device)
    cost = plan.cell_est_s
    for size in plan.resolutions:
        for batch in plan.batch_sizes:
            for mode in plan.modes:
                cell: dict[str, Any] = {"model": f"dcgan{size}", "size": size, "batch": batch, "mode": mode, "path": "Trainer.train_step"}
                if budget.left(reserve) < cost:
                    cell["status"] = "skipped: out of time"
                    results["throughput"].append(cell)
                    continue
                t0 = time.perf_counter()
                try:
                    cell.update(run_cell({"kind": "engine", "size": size, "batch": batch, "mode": mode}, plan))
                    add_flop_share(cell, results)
                except Exception as exc:  # noqa: BLE001 - OOM or a kernel failure ends this cell only
                    cell.update(status="error", error=f"{type(exc).__name__}: {exc}"[:800])
                cost = max(cost * 0.5, time.perf_counter() - t0)  # the next cell probably costs about as much
                results["throughput"].append(cell)
                print(row_text(cell), flush=True)
                free_memory(device)
                save()


def add_flop_share(cell: dict[str, Any], results: dict[str, Any]) -> None:
    flops = results["flops"].get(cell["model"], {})
    if flops.get("status") != "ok" or cell.get("status") != "ok":
        return
    achieved = flops["flops_per_image"] * cell["img_per_s"] / 1e12
    cell["tflops"] = significant(achieved)
    cell["share_of_assumed_peak"] = significant(achieved / ASSUMED_PEAK_TFLOPS)
    measured = results["peak"].get("measured", {}).get("tflops")
    if measured:
        cell["share_of_measured_peak"] = significant(achieved / measured)


def best_cell(results: dict[str, Any], model: str) -> dict[str, Any] | None:
    ok = [c for c in results["throughput"] if c["model"] == model and c.get("status") == "ok"]
    return max(ok, key=lambda c: c["img_per_s"]) if ok else None


def extras_phase(plan: Plan, results: dict[str, Any], budget: Budget, save: Callable[[], None], reserve: float,
                 args: argparse.Namespace) -> None:
    size = max(plan.resolutions)
    best = best_cell(results, f"dcgan{size}")
    if best is None:
        results["extras"].append({"status": "skipped: no successful sweep cell to start from"})
        return
    for i, extra in enumerate(plan.extras):
        spec = {"kind": extra["kind"], "size": size, "batch": best["batch"], "mode": best["mode"],
                **{k: v for k, v in extra.items() if k in ("compile", "cudnn_benchmark", "cuda_graph")}}
        cell: dict[str, Any] = {"name": extra["name"], "model": f"dcgan{size}", **spec}
        later = sum(e["min_s"] for e in plan.extras[i + 1:])
        left = budget.left(reserve)
        if extra.get("cuda_graph") and plan.device == "cpu":
            cell["status"] = "skipped: CUDA graphs need a GPU"
        elif left < extra["min_s"]:
            cell["status"] = "skipped: out of time"
        else:
            cell.update(cell_in_child(spec, plan, args, timeout=min(max(left - later, extra["min_s"]), extra["timeout_s"])))
            add_flop_share(cell, results)
            if cell.get("status") == "ok":
                cell["vs_best_engine_cell"] = round(cell["img_per_s"] / best["img_per_s"], 3)
        results["extras"].append(cell)
        if cell.get("status") == "ok":
            print(f"extra {cell['name']}: {cell['img_per_s']:,.0f} img/s, x{cell['vs_best_engine_cell']} the best engine cell "
                  f"(build {cell['build_s']} s, warm-up {cell['warmup_s']} s)", flush=True)
        else:
            print(f"extra {cell['name']}: {cell.get('status')} {cell.get('error', '')}", flush=True)
        save()


def inception_phase(plan: Plan, args: argparse.Namespace, budget: Budget, reserve: float) -> dict[str, Any]:
    """Time ``InceptionFeatures`` over ``plan.inception_n`` images; which network ran is stated."""
    device = torch.device(plan.device)
    if budget.left(reserve) < 15:
        return {"status": "skipped: out of time"}
    from ganzoo.metrics.features import InceptionFeatures

    out: dict[str, Any] = {"n_images": plan.inception_n, "image_shape": [3, 32, 32], "network_input": [3, 299, 299]}
    with tempfile.TemporaryDirectory() as tmp:
        if args.dry_run:
            path = tiny_standin(Path(tmp) / "tiny.pt")
            out["timed"] = "DRY RUN: a tiny TorchScript stand-in (3x299x299 -> 2048); exercises the timing path only"
        elif args.inception:
            path = Path(args.inception)
            out["timed"] = f"Inception weights from --inception {path}"
        elif args.inception_standin:
            try:
                path = inception_standin(Path(tmp) / "standin.pt")
            except Exception as exc:  # noqa: BLE001
                return {"status": "error", "error": f"stand-in: {type(exc).__name__}: {exc}"[:800]}
            out["timed"] = ("STAND-IN: torchvision inception_v3, random weights, fc removed (2048-d pool output), "
                            "traced to TorchScript: the same shapes and nearly the same FLOPs as the FID network, NOT its weights")
        else:
            return {"status": "skipped: no Inception weights here (85 MB cannot travel); pass --inception PATH, "
                              "or --inception-standin to time a same-shape stand-in"}
        try:
            images = torch.randint(0, 256, (plan.inception_n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
            runs = []
            for batch_size in plan.inception_batches:
                if budget.left(reserve) < 10:
                    runs.append({"batch_size": batch_size, "status": "skipped: out of time"})
                    continue
                features = InceptionFeatures(path, device=device, batch_size=batch_size, progress=False)
                features(images[: batch_size])  # warm-up (cudnn, allocator)
                sync(device)
                t0 = time.perf_counter()
                feats = features(images)  # ends with .cpu(): synchronised
                seconds = time.perf_counter() - t0
                runs.append({"batch_size": batch_size, "seconds": round(seconds, 3), "img_per_s": round(len(images) / seconds, 1),
                             "seconds_per_10k": round(seconds * 10_000 / len(images), 2), "feature_shape": list(feats.shape),
                             "finite": bool(torch.isfinite(feats).all())})
                out.setdefault("network_name", features.name)
                del features
                free_memory(device)
            out["runs"] = runs
            out["status"] = "ok"
        except Exception as exc:  # noqa: BLE001
            out.update(status="error", error=f"{type(exc).__name__}: {exc}"[:800])
    return out


def tiny_standin(path: Path) -> Path:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 8, stride=8), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 2048))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still what ganzoo loads
        torch.jit.script(net.eval()).save(str(path))
    return path


def inception_standin(path: Path) -> Path:
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    net.fc = torch.nn.Identity()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(net.eval(), torch.randn(2, 3, 299, 299))
    traced.save(str(path))
    return path


def pytest_phase(budget: Budget, timeout_cap: float | None) -> dict[str, Any]:
    left = budget.left() - 10  # keep time to write the report
    if timeout_cap is not None:
        left = min(left, timeout_cap)
    if left < 30:
        return {"status": "skipped: out of time"}
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "tests/test_gpu.py", "-q", "-rs", "-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=left, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return {"status": f"timeout after {left:.0f} s", "command": " ".join(cmd[1:]), "tail": out[-3000:]}
    text = proc.stdout + proc.stderr
    summary = next((line.strip("= ") for line in reversed(proc.stdout.splitlines()) if re.search(r"\d+ (passed|failed|skipped|error|deselected)", line)), "")
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)", summary)}
    return {"status": "ok" if proc.returncode in (0, 5) and not counts.get("failed") and not counts.get("error") and not counts.get("errors") else "failed",
            "returncode": proc.returncode, "summary": summary, "counts": counts, "seconds": round(time.perf_counter() - t0, 1),
            "command": "PYTHONPATH=. python -m pytest -m gpu tests/test_gpu.py -q -rs", "tail": text[-3000:]}


# --- the report --------------------------------------------------------------------------------------
def goal_record(results: dict[str, Any]) -> dict[str, Any]:
    best = best_cell(results, "dcgan64")
    any_best = max([c for c in [best, *results["extras"]] if c and c.get("status") == "ok" and c.get("model") == "dcgan64"],
                   key=lambda c: c["img_per_s"], default=None)
    return {
        "target": f"DCGAN-64 at least {GOAL_IMG_S:,} img/s (real images through D per second) on the H200",
        "target_img_per_s": GOAL_IMG_S,
        "best_engine_img_per_s": best["img_per_s"] if best else None,
        "best_engine_cell": {k: best[k] for k in ("batch", "mode")} if best else None,
        "best_any_img_per_s": any_best["img_per_s"] if any_best else None,
        "best_any": (any_best.get("name") or "Trainer.train_step") if any_best else None,
        "met_by_engine": bool(best and best["img_per_s"] >= GOAL_IMG_S),
        "met_by_any": bool(any_best and any_best["img_per_s"] >= GOAL_IMG_S),
    }


def row_text(cell: dict[str, Any]) -> str:
    if cell.get("status") != "ok":
        return f"{cell['model']} b{cell['batch']} {cell['mode']}: {cell.get('status')} {cell.get('error', '')}"
    share = f" {100 * cell['share_of_assumed_peak']:.2f}% of peak" if "share_of_assumed_peak" in cell else ""
    return (f"{cell['model']} b{cell['batch']:>4} {cell['mode']:>7}: {cell['img_per_s']:>10,.0f} img/s "
            f"({cell['step_ms']:.2f} ms/step, spread {cell['spread']:.1%}){share}")


def markdown(results: dict[str, Any]) -> str:
    r, lines = results, []
    env = r["environment"]
    lines += [f"# DCGAN on {env.get('gpu', env['device'])}: training throughput", "",
              f"{'**DRY RUN on CPU: pipeline check only, numbers mean nothing.** ' if r['run']['dry_run'] else ''}"
              f"torch {env['torch']}, CUDA {env.get('cuda')}, cudnn {env.get('cudnn')}; run {r['run']['elapsed_s']} s of a "
              f"{r['run']['budget_s']} s budget{'; the budget ran out: some phases were skipped' if r['run']['budget_exhausted'] else ''}.", ""]
    g = r["goal"]
    if g["best_engine_img_per_s"] is None:
        lines += [f"**Goal**: {g['target']}: not measured in this run (no DCGAN-64 cell ran).", ""]
    else:
        cell = g["best_engine_cell"]
        lines += [f"**Goal**: {g['target']}. Best through the engine: {fmt(g['best_engine_img_per_s'])} img/s "
                  f"(batch {cell['batch']}, {cell['mode']}); best of everything tried: {fmt(g['best_any_img_per_s'])} ({g['best_any']}). "
                  f"Met by the engine: **{'yes' if g['met_by_engine'] else 'no'}**; by any variant: **{'yes' if g['met_by_any'] else 'no'}**.", ""]
    peak = r["peak"]
    measured = peak.get("measured", {})
    lines += [f"Peak: {peak['assumed_bf16_tflops']} TFLOP/s bf16 assumed (workplace measurement); measured here "
              f"{measured.get('tflops', measured.get('status'))} TFLOP/s ({measured.get('dtype')} {measured.get('n')}^3 matmul, random data).", ""]
    lines += ["## Throughput (img/s = real images through D per second; Trainer.train_step, synthetic uint8 images on the device)", ""]
    modes = list(dict.fromkeys(c["mode"] for c in r["throughput"]))
    lines += ["| model | batch | " + " | ".join(modes) + " | best share of bf16 peak |", "|---|---:|" + "---:|" * len(modes) + "---:|"]
    rows: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for c in r["throughput"]:
        rows.setdefault((c["model"], c["batch"]), {})[c["mode"]] = c
    for (model, batch), cells in rows.items():
        vals = [fmt(cells[m]["img_per_s"]) if cells.get(m, {}).get("status") == "ok" else short(cells.get(m, {}).get("status", "-")) for m in modes]
        shares = [cells[m].get("share_of_assumed_peak") for m in modes if cells.get(m, {}).get("share_of_assumed_peak") is not None]
        lines.append(f"| {model} | {batch} | " + " | ".join(vals) + f" | {f'{100 * max(shares):.2f}%' if shares else '-'} |")
    lines += ["", "## Extras on the best DCGAN-64 cell (each in its own process)", "", "| variant | batch | mode | img/s | vs best engine cell | note |", "|---|---:|---|---:|---:|---|"]
    for c in r["extras"]:
        note = c.get("error", "") if c.get("status") != "ok" else f"warm-up {c.get('warmup_s')} s"
        lines.append(f"| {c.get('name', '-')} | {c.get('batch', '-')} | {c.get('mode', '-')} | "
                     f"{fmt(c['img_per_s']) if c.get('status') == 'ok' else short(c.get('status', '-'))} | {c.get('vs_best_engine_cell', '-')} | {short(note, 120)} |")
    lines += ["", "## FLOPs per training step (FlopCounterMode: matmul/conv, forward+backward)", "", "| model | GFLOP per image | by operator, GFLOP per image |", "|---|---:|---|"]
    for key, f in r["flops"].items():
        if f.get("status") == "ok":
            parts = ", ".join(f"{k} {v / f['images_per_step'] / 1e9:.4f}" for k, v in f["by_op"].items())
            lines.append(f"| {key} | {f['gflops_per_image']} | {parts} |")
        else:
            lines.append(f"| {key} | {short(f.get('status', '-'))} | {f.get('error', '')[:120]} |")
    inc = r["inception"]
    lines += ["", "## Inception feature pass", ""]
    if inc.get("status") == "ok":
        lines.append(f"Timed: {inc['timed']}.")
        lines += ["", "| batch | seconds per 10k | img/s |", "|---:|---:|---:|"]
        for run in inc["runs"]:
            lines.append(f"| {run['batch_size']} | {run.get('seconds_per_10k', '-')} | {fmt(run.get('img_per_s'))} |" if "seconds" in run
                         else f"| {run['batch_size']} | {run['status']} | - |")
    else:
        lines.append(f"{inc.get('status')} {inc.get('error', '')}")
    p = r["pytest"]
    lines += ["", "## GPU tests", "", f"`{p.get('command', 'pytest -m gpu tests/test_gpu.py')}`: {p.get('status')}, {p.get('summary', '')}", ""]
    imports = r["imports"]
    lines += [f"Imports: huggingface_hub loaded: {imports['huggingface_hub']}; ganzoo.hub loaded: {imports['ganzoo.hub']}. "
              f"Plugins: {'; '.join(f'{k}: {v}' for k, v in r['plugins'].items())}.", ""]
    return "\n".join(lines)


def fmt(x: Any) -> str:
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def short(text: str, n: int = 24) -> str:
    text = str(text).replace("|", "/").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


# --- main --------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.environ.get("OUT"), help="folder for results.json and results.md (default: $OUT)")
    p.add_argument("--budget-s", type=float, default=480.0, help="wall-clock budget for the whole run; later cells are skipped")
    p.add_argument("--dry-run", action="store_true", help="CPU, one resolution, batch 4, 1-2 steps: checks the pipeline")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --dry-run)")
    p.add_argument("--resolutions", type=lambda s: [int(x) for x in s.split(",")], default=None, help="e.g. 64,32,28")
    p.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=None, help="e.g. 64,128,256,512,1024")
    p.add_argument("--modes", type=lambda s: s.split(","), default=None, help=f"subset of {','.join(MODES)}")
    p.add_argument("--no-ema", action="store_true", help="train without the generator EMA (the engine's default is 0.999)")
    p.add_argument("--cuda-graphs", action="store_true", help="also time the hand-written step captured in a CUDA graph")
    p.add_argument("--inception", default=None, help="TorchScript Inception weights to time the 10k-image feature pass with")
    p.add_argument("--inception-standin", action="store_true", help="without --inception: time torchvision's inception_v3 (random weights) instead")
    p.add_argument("--skip-pytest", action="store_true", help="do not run pytest -m gpu tests/test_gpu.py")
    p.add_argument("--pytest-timeout-s", type=float, default=None, help="cap on the pytest phase (default: what is left)")
    p.add_argument("--cell", default=None, help=argparse.SUPPRESS)  # internal: one cell as JSON, in a child process
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    plan = make_plan(args)
    if args.cell:
        ensure_plugins()
        try:
            result = run_cell(json.loads(args.cell), plan)
        except Exception as exc:  # noqa: BLE001
            result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:800]}
        print(CELL_MARK + json.dumps(result), flush=True)
        return result
    if not args.out:
        raise SystemExit("no output folder: pass --out or set $OUT")
    device = torch.device(plan.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run with --dry-run (or --device cpu) on a CPU")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budget = Budget(args.budget_s)
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "run": {"dry_run": args.dry_run, "budget_s": args.budget_s, "argv": sys.argv[1:] if argv is None else argv,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "elapsed_s": 0.0, "budget_exhausted": False},
        "goal": {}, "environment": environment(device), "plugins": ensure_plugins(), "imports": {},
        "peak": {"assumed_bf16_tflops": ASSUMED_PEAK_TFLOPS}, "flops": {}, "throughput": [], "extras": [],
        "inception": {"status": "not reached"}, "pytest": {"status": "not reached"},
        "notes": [
            "img/s counts real images through the discriminator per second (batch x n_critic per generator step), as `ganzoo train` logs it.",
            "Sweep cells call Trainer.train_step on uint8 images made on the device and scaled like TensorDataset.get_batch; "
            f"EMA {plan.ema}; no logging, grids or checkpoints (fit does those every log_every / sample_every steps).",
            "Timing: warm-up steps, then the median of repeated runs of n steps between CUDA events (host clock on CPU).",
            "Shares of peak use FlopCounterMode's matmul/conv FLOPs against bf16 peaks, for every precision.",
        ],
    }

    def save() -> None:
        results["run"]["elapsed_s"] = round(budget.elapsed(), 1)
        results["imports"] = {"huggingface_hub": "huggingface_hub" in sys.modules, "ganzoo.hub": "ganzoo.hub" in sys.modules,
                              "httpx2": "httpx2" in sys.modules}
        results["goal"] = goal_record(results)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    save()
    print(f"ganzoo GPU benchmark on {results['environment'].get('gpu', device)}; budget {args.budget_s:.0f} s; plugins {results['plugins']}", flush=True)
    dtype = torch.bfloat16 if plan.matmul_dtype == "bf16" else torch.float32
    try:
        results["peak"]["measured"] = matmul_rate(device, plan.matmul_n, dtype)
    except Exception as exc:  # noqa: BLE001
        results["peak"]["measured"] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:800]}
    print(f"matmul: {results['peak']['measured']}", flush=True)
    flops_phase(plan, results, budget, save)
    print(f"flops: { {k: v.get('gflops_per_image', v.get('status')) for k, v in results['flops'].items()} } GFLOP/img", flush=True)
    later = plan.reserve_extras + plan.reserve_inception + (0 if args.skip_pytest else plan.reserve_pytest)
    sweep_phase(plan, results, budget, save, reserve=later)
    extras_phase(plan, results, budget, save, later - plan.reserve_extras, args)
    results["inception"] = inception_phase(plan, args, budget, 0 if args.skip_pytest else plan.reserve_pytest)
    print(f"inception: {results['inception'].get('status')} {results['inception'].get('runs', '')}", flush=True)
    save()
    results["pytest"] = {"status": "skipped: --skip-pytest"} if args.skip_pytest else pytest_phase(budget, args.pytest_timeout_s)
    print(f"pytest: {results['pytest'].get('status')} {results['pytest'].get('summary', '')}", flush=True)
    if device.type == "cuda":
        results["environment"]["nvidia_smi_after"] = nvidia_smi()
    skipped = [c for c in results["throughput"] + results["extras"] if "out of time" in str(c.get("status"))]
    results["run"]["budget_exhausted"] = bool(skipped) or any("out of time" in str(results[k].get("status")) for k in ("inception", "pytest"))
    results["run"]["skipped_for_time"] = len(skipped)
    save()
    md = markdown(results)
    (out / "results.md").write_text(md)
    print("\n" + md, flush=True)
    return results


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        main()
