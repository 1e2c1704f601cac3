"""Side by side with the peers: ganzoo's engine against the trainers a user would pick instead, in
one run, on identical networks, data, optimizer and loss.

    bash benchmarks/peers/setup.sh              # once: each peer into its own venv (shares torch)
    python benchmarks/peers/peers.py [--steps 60] [--rounds 3] [--trainers ...] [--configs ...]
    python benchmarks/peers/peers.py --dry-run  # 2 steps, ganzoo and the hand-written loop, in-process

Trainers (benchmarks/peers/run_one.py has how each one is driven): ganzoo's engine; the
pytorch/examples-style hand-written loop of benchmarks/throughput.py; PyTorch Lightning's GAN
pattern; torchgan's Trainer; torch-mimicry's Trainer. Every one trains
``ganzoo.architectures.dcgan.DCGAN(channels=1, image_size=28)`` (ganzoo's init, same seed) with Adam
2e-4 (0.5, 0.999) and the non-saturating loss on Fashion-MNIST held in memory, batch 128, 2 threads.

Configs: fp32 (each trainer's default precision), bf16-cl (bf16 autocast on CPU + channels_last,
through the trainer's own switch where it has one) and default (ganzoo only: TrainConfig's default
precision and channels_last at the time of the run).

Each (trainer, config) cell runs as its own process with its own venv's python and prints one JSON
line; the driver runs all cells once per round, in an order rotated each round, for ``--rounds``
rounds, and reports medians. Writes results.json and results.md (to benchmarks/peers/ by default;
a dry run writes to a temporary folder unless --out is given) and prints the ratios:

    ganzoo default / fastest peer at its default (fp32)            goal >= 2x
    ganzoo bf16 + channels_last / fastest peer with the same tricks goal >= 1.5x
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import run_one  # noqa: E402  (after the path set-up on purpose)

VENVS = HERE / ".venvs"
MAIN_VENV_TRAINERS = ("ganzoo", "handwritten")  # run with this interpreter (the main venv)
SHIMMED = ("torchgan", "mimicry")  # probed once without shims, to record why a shim is used
GOALS = {"default": 2.0, "bf16-cl": 1.5}
LABELS = {
    "ganzoo": "ganzoo engine",
    "handwritten": "hand-written loop (pytorch/examples style)",
    "lightning": "PyTorch Lightning (manual optimization)",
    "torchgan": "torchgan Trainer",
    "mimicry": "torch-mimicry Trainer",
}
CONFIG_LABELS = {"fp32": "fp32 (default precision)", "bf16-cl": "bf16 autocast + channels_last", "default": "ganzoo TrainConfig defaults"}
HOW = {
    "ganzoo": "Trainer.fit on TrainConfig(dcgan, non-saturating, fashion-mnist, ema=None); rated from its own "
              "metrics.jsonl windows (log_every = warm-up), as benchmarks/throughput.py does.",
    "handwritten": "benchmarks/throughput.py's handwritten_rate, imported; it scores through the network's own forward, "
                   "D(DInput(x)).score, like every trainer here. bf16-cl: the loop "
                   "runs under CPU bf16 autocast and its DCGAN is built channels_last (input batches stay NCHW).",
    "lightning": "LightningModule calling ganzoo's D through its own forward (as every peer adapter does), automatic_optimization=False, two Adam optimizers, toggle_optimizer around each "
                 "update, one G forward per step (D step, then G step), self.log_dict of both losses; "
                 "Trainer(accelerator='cpu', max_steps=2*(steps+1) (manual optimization counts each optimizer step), "
                 "logger=False, enable_checkpointing=False, enable_progress_bar=False, precision='32-true' or 'bf16-mixed').",
    "torchgan": "torchgan.trainer.Trainer with [MinimaxGeneratorLoss() (non-saturating by default), "
                "MinimaxDiscriminatorLoss()], ganzoo's G and D behind torchgan.models.Generator/Discriminator adapters; "
                "one epoch over exactly steps+1 batches; torchgan's per-iteration loss and gradient-norm logging on "
                "(its default). No precision switch: bf16-cl wraps the run in torch.autocast('cpu', bfloat16).",
    "mimicry": "torch_mimicry.training.Trainer (n_dis=1, loss_type 'ns'), ganzoo's G and D behind mimicry's "
               "DCGANBaseGenerator/DCGANBaseDiscriminator adapters; mimicry's logging defaults kept (stdout line per "
               "step, TensorBoard scalars every 50 steps), image grids and checkpoints past the end. Its amp switch "
               "is CUDA-only: bf16-cl wraps the run in torch.autocast('cpu', bfloat16).",
}


class CellFailed(RuntimeError):
    pass


# --- running cells ------------------------------------------------------------------------------------
def python_for(trainer: str) -> Path | None:
    """The interpreter a trainer runs under: this one for ganzoo and the hand-written loop, the
    peer's own venv otherwise (None when setup.sh has not made it)."""
    if trainer in MAIN_VENV_TRAINERS:
        return Path(sys.executable)
    py = VENVS / trainer / "bin" / "python"
    return py if py.exists() else None


def parse_result(stdout: str) -> dict[str, Any]:
    """The JSON line run_one prints last."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(result, dict) and "images_per_second" in result:
                return result
    raise CellFailed("no result line on stdout")


def _failure(stderr: str) -> str:
    """The exception a run died of, with its innermost frame; else the last lines of stderr."""
    lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b", lines[i]):
            frames = [line.strip() for line in lines[:i] if line.lstrip().startswith('File "')]
            peer_frames = [f for f in frames if "/.venvs/" in f]  # the peer's own code, rather than torch's
            where = f" (at {(peer_frames or frames)[-1].replace(str(REPO) + '/', '')})" if frames else ""
            return f"{lines[i]}{where}"[:600]
    return " | ".join(lines[-6:])[-600:]


def run_cell(trainer: str, config: str, seed: int, args: argparse.Namespace, *, shims: bool = True) -> dict[str, Any]:
    if args.in_process:
        return run_one.measure(trainer, config, steps=args.steps, warmup=args.warmup, batch=args.batch_size,
                               seed=seed, threads=args.threads, shims=shims)
    py = python_for(trainer)
    if py is None:
        raise CellFailed(f"no venv at {VENVS / trainer}: run `bash benchmarks/peers/setup.sh`")
    cmd = [str(py), str(HERE / "run_one.py"), "--trainer", trainer, "--config", config, "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--batch-size", str(args.batch_size), "--seed", str(seed),
           "--threads", str(args.threads)]
    if not shims:
        cmd.append("--no-shims")
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=args.cell_timeout)
    except subprocess.TimeoutExpired:
        raise CellFailed(f"timed out after {args.cell_timeout} s") from None
    if proc.returncode != 0:
        raise CellFailed(f"exit {proc.returncode}: {_failure(proc.stderr)}")
    try:
        return parse_result(proc.stdout)
    except CellFailed as exc:
        raise CellFailed(f"{exc}; stderr: {_failure(proc.stderr)}") from None


def cells_for(trainers: list[str], configs: list[str]) -> list[tuple[str, str]]:
    return [(t, c) for c in configs for t in trainers if c != "default" or t == "ganzoo"]


def rotated(cells: list[tuple[str, str]], round_index: int, rounds: int) -> list[tuple[str, str]]:
    """Round r starts r * len/rounds cells further on, so no trainer always runs first or last."""
    if not cells:
        return cells
    shift = (round_index * max(1, len(cells) // max(rounds, 1))) % len(cells)
    return cells[shift:] + cells[:shift]


# --- what was installed ------------------------------------------------------------------------------
def venv_record(trainer: str) -> dict[str, Any]:
    if trainer in MAIN_VENV_TRAINERS:
        return {"python": sys.executable, "venv": "main (.venv)"}
    venv = VENVS / trainer
    freeze = venv / "peer-freeze.txt"
    spec = venv / ".peer-spec"
    return {
        "python": str(venv / "bin" / "python"),
        "venv": str(venv.relative_to(REPO)) if venv.is_relative_to(REPO) else str(venv),
        "installed_in_venv": freeze.read_text().split() if freeze.is_file() else None,
        "setup_spec": spec.read_text().strip() if spec.is_file() else None,
        "shares": "the main venv's site-packages (torch, torchvision, ganzoo) through a .pth file; see setup.sh",
    }


def machine() -> dict[str, Any]:
    import torch

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu": model, "logical_cpus": os.cpu_count(), "platform": platform.platform(),
        "bf16_hardware": sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile"}),
        "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": run_one.versions("ganzoo").get("torchvision"),
    }


def loadavg() -> list[float] | None:
    """1, 5 and 15 minute load averages: how busy the (shared) machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


# --- summary -------------------------------------------------------------------------------------------
def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for r in runs:
        cell = table.setdefault(r["config"], {}).setdefault(r["trainer"], {"rounds": []})
        cell["rounds"].append(r["images_per_second"])
    for by_trainer in table.values():
        for cell in by_trainer.values():
            cell["median"] = round(statistics.median(cell["rounds"]), 1)
    return table


def ratio(table: dict, ganzoo_config: str, peer_config: str, goal: float | None) -> dict[str, Any]:
    ganzoo = table.get(ganzoo_config, {}).get("ganzoo")
    peers = {t: c["median"] for t, c in table.get(peer_config, {}).items() if t in run_one.PEERS}
    out: dict[str, Any] = {"ganzoo_config": ganzoo_config, "peer_config": peer_config, "goal": goal}
    if ganzoo is None or not peers:
        return out | {"value": None, "why": "ganzoo or every peer is missing in this configuration"}
    fastest = max(peers, key=peers.get)
    value = round(ganzoo["median"] / peers[fastest], 3)
    return out | {"value": value, "ganzoo_median": ganzoo["median"], "fastest_peer": fastest,
                  "fastest_peer_median": peers[fastest], "peers_timed": sorted(peers),
                  "met": None if goal is None else value >= goal}


def ratio_text(r: dict[str, Any]) -> str:
    if r.get("value") is None:
        return f"n/a ({r.get('why')})"
    goal = f"; goal >= {r['goal']}x: {'met' if r['met'] else 'NOT met'}" if r["goal"] is not None else ""
    return f"{r['value']}x ({r['ganzoo_median']} vs {r['fastest_peer']} {r['fastest_peer_median']} img/s{goal})"


def write_markdown(path: Path, result: dict[str, Any]) -> None:
    table, trainers = result["images_per_second"], result["trainers"]
    m = result["machine"]
    lines = [
        "# Side by side with the peers",
        "",
        f"`{result['command']}` ({result['date']}). {result['model']}; {result['data']}; batch {result['batch_size']}, "
        f"{result['threads']} threads; {result['steps_per_run']} steps per run, the first {result['warmup_steps_excluded']} "
        f"excluded; medians of {result['rounds']} interleaved rounds (img/s = real images through D per second).",
        "",
        f"Machine: {m['cpu']} ({m['logical_cpus']} logical CPUs; bf16 hardware: {', '.join(m['bf16_hardware']) or 'none'}), "
        f"torch {m['torch']}, torchvision {m['torchvision']}, Python {m['python']}. "
        f"Load average (1, 5, 15 min) at start {result['loadavg_at_start']}, at end {result['loadavg_at_end']}.",
        "",
        "| trainer | version | at its defaults, img/s | fp32 | bf16 + channels_last | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def cell(config: str, trainer: str) -> str:
        c = table.get(config, {}).get(trainer)
        return f"**{c['median']}** ({', '.join(str(x) for x in c['rounds'])})" if c else "-"

    for trainer, info in trainers.items():
        defaults = cell("default" if trainer == "ganzoo" else "fp32", trainer)
        lines.append(f"| {LABELS[trainer]} | {info.get('version') or '-'} | {defaults} | {cell('fp32', trainer)} | "
                     f"{cell('bf16-cl', trainer)} | {info['status']} |")
    note = "Medians in bold, then each round. A peer's defaults are fp32."
    d = result.get("ganzoo_default_config") or {}
    if d:
        note += (f" ganzoo's defaults: precision={d.get('precision_setting')} -> {d.get('precision')}, channels_last="
                 f"{d.get('channels_last_setting')} -> {d.get('channels_last')} ({d.get('precision_reason') or 'no reason recorded'}).")
    lines += ["", note]
    lines += ["", "## Ratios", ""]
    for key, r in result["ratios"].items():
        lines.append(f"- {RATIO_NAMES[key]}: {ratio_text(r)}")
    lines += ["", "## How each trainer runs", ""]
    for trainer, info in trainers.items():
        shims = info.get("shims") or []
        extra = f" Shims: {'; '.join(shims)}." if shims else ""
        if info.get("without_shims"):
            extra += f" Without them: {info['without_shims']}"
        lines.append(f"- **{LABELS[trainer]}**: {HOW[trainer]}{extra}")
    lines += ["", "Every trainer: " + result["method"], ""]
    path.write_text("\n".join(lines))


RATIO_NAMES = {
    "ganzoo_default_over_fastest_peer_fp32": "ganzoo default / fastest peer at its default (fp32)",
    "ganzoo_bf16_cl_over_fastest_peer_bf16_cl": "ganzoo bf16 + channels_last / fastest peer with the same tricks",
    "ganzoo_fp32_over_fastest_peer_fp32": "for reference, ganzoo fp32 / fastest peer fp32",
}


# --- main ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="steps per run, warm-up included")
    parser.add_argument("--warmup", type=int, default=10, help="steps left out of each rate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--trainers", default=",".join(run_one.TRAINERS), help="comma-separated subset of %(default)s")
    parser.add_argument("--configs", default=",".join(run_one.CONFIGS), help="comma-separated subset of %(default)s")
    parser.add_argument("--out", default=None, help="folder for results.json and results.md (default: benchmarks/peers/)")
    parser.add_argument("--cell-timeout", type=int, default=900, help="seconds before one run is given up")
    parser.add_argument("--no-probe", action="store_true", help="skip the one no-shims run per shimmed peer")
    parser.add_argument("--in-process", action="store_true", help="run cells in this process (ganzoo and handwritten only)")
    parser.add_argument("--dry-run", action="store_true",
                        help="2 steps (1 warm-up), 1 round, ganzoo and the hand-written loop only, in-process, no peer venvs")
    args = parser.parse_args(argv)
    args.trainers = [t.strip() for t in args.trainers.split(",") if t.strip()]
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if args.dry_run:
        args.steps, args.warmup, args.rounds, args.in_process, args.no_probe = 2, 1, 1, True, True
        args.trainers = [t for t in args.trainers if t in MAIN_VENV_TRAINERS]
    for t in args.trainers:
        if t not in run_one.TRAINERS:
            parser.error(f"unknown trainer {t!r}; choose from {', '.join(run_one.TRAINERS)}")
    for c in args.configs:
        if c not in run_one.CONFIGS:
            parser.error(f"unknown config {c!r}; choose from {', '.join(run_one.CONFIGS)}")
    if args.in_process and set(args.trainers) - set(MAIN_VENV_TRAINERS):
        parser.error("--in-process runs only ganzoo and handwritten (the peers need their own venvs)")
    if not 0 < args.warmup < args.steps or ("ganzoo" in args.trainers and args.steps % args.warmup):
        parser.error("need 0 < warmup < steps, and steps a multiple of warmup (ganzoo's log windows)")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp(prefix="ganzoo-peers-")) if args.dry_run else HERE)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/peers/peers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    started, load_at_start = time.perf_counter(), loadavg()

    trainers: dict[str, dict[str, Any]] = {t: {"status": "ok", **venv_record(t)} for t in args.trainers}
    for t, info in trainers.items():
        if python_for(t) is None:
            info["status"] = "not installed: run `bash benchmarks/peers/setup.sh`"
    # Why the shims: each shimmed peer once as installed (2 steps; its failure is the record).
    for t in SHIMMED:
        if t in trainers and trainers[t]["status"] == "ok" and not args.no_probe:
            probe = argparse.Namespace(**{**vars(args), "steps": 2, "warmup": 1})
            try:
                run_cell(t, "fp32", 0, probe, shims=False)
                trainers[t]["without_shims"] = "runs without shims"
            except CellFailed as exc:
                trainers[t]["without_shims"] = str(exc)
            print(f"probe {t} without shims: {trainers[t]['without_shims'][:300]}", flush=True)

    cells = cells_for(args.trainers, args.configs)
    failed: dict[tuple[str, str], str] = {}
    runs: list[dict[str, Any]] = []
    for r in range(args.rounds):  # interleaved, so drift in machine load hits every trainer alike
        for trainer, config in rotated(cells, r, args.rounds):
            if trainers[trainer]["status"] != "ok" or (trainer, config) in failed:
                continue
            try:
                res = run_cell(trainer, config, r, args)
            except CellFailed as exc:
                failed[(trainer, config)] = str(exc)
                print(f"round {r}: {trainer} {config} FAILED: {str(exc)[:400]}", flush=True)
                continue
            res["round"] = r
            runs.append(res)
            info = trainers[trainer]
            info.setdefault("versions", res["versions"])
            if res["details"].get("shims"):
                info["shims"] = res["details"]["shims"]
            if config == "default":
                info["default_config"] = {k: res["details"].get(k) for k in (
                    "precision_setting", "channels_last_setting", "precision", "channels_last", "precision_reason", "autocast")}
            print(f"round {r}: {trainer:11s} {config:8s} {res['images_per_second']:8.1f} img/s  ({res['wall_s']} s)", flush=True)
    for (trainer, config), why in failed.items():
        trainers[trainer].setdefault("failures", {})[config] = why
        if not any(r["trainer"] == trainer for r in runs):
            trainers[trainer]["status"] = f"failed: {why}"
        else:
            trainers[trainer]["status"] = "ok (" + ", ".join(f"{c} failed" for c in trainers[trainer]["failures"]) + ")"
    for t, info in trainers.items():
        dist = {"ganzoo": "ganzoo", "handwritten": "torch", "lightning": "pytorch-lightning",
                "torchgan": "torchgan", "mimicry": "torch-mimicry"}[t]
        info["version"] = (info.get("versions") or {}).get(dist)
        if t == "handwritten" and info["version"]:
            info["version"] = f"torch {info['version']}"

    table = medians(runs)
    ratios = {
        "ganzoo_default_over_fastest_peer_fp32": ratio(table, "default", "fp32", GOALS["default"]),
        "ganzoo_bf16_cl_over_fastest_peer_bf16_cl": ratio(table, "bf16-cl", "bf16-cl", GOALS["bf16-cl"]),
        "ganzoo_fp32_over_fastest_peer_fp32": ratio(table, "fp32", "fp32", None),
    }
    m = machine()
    result = {
        "benchmark": "peers: ganzoo's engine against the trainers a user would pick instead",
        "command": command.strip(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "dry_run": args.dry_run,
        "machine": m,
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": loadavg(),
        "model": "ganzoo DCGAN(channels=1, image_size=28): width 64, latent 100, ganzoo's N(0, 0.02) init, seeded per round",
        "data": "Fashion-MNIST train (ganzoo.data.images.FashionMNIST().tensors()), in memory, ganzoo's seeded batch order; "
                "the peers get it from a torch DataLoader (batch_size 128, num_workers 0) that fetches each batch in one "
                "__getitems__ call",
        "optimizer": "Adam lr 2e-4, betas (0.5, 0.999), for G and D",
        "loss": "non-saturating (BCE with logits; torch-mimicry's 'ns' is -log sigmoid(D(G(z))), the same loss)",
        "batch_size": args.batch_size,
        "threads": args.threads,
        "steps_per_run": args.steps,
        "warmup_steps_excluded": args.warmup,
        "rounds": args.rounds,
        "in_process": args.in_process,
        "method": (("every cell ran inside the driver's process (--in-process / --dry-run)" if args.in_process else
                    "each (trainer, config) is one process per round (its own venv's python)") +
                   f", torch.set_num_threads("
                   f"{args.threads}) and OMP/MKL_NUM_THREADS={args.threads}; images/s over steps [{args.warmup}, {args.steps}) "
                   "from perf_counter marks at the start of each step (ganzoo: its own log windows; hand-written loop: "
                   "its per-step times), so each trainer's per-step bookkeeping and logging count; the peers run one "
                   "extra step to close the last interval. Rounds visit the cells in an order rotated each round; "
                   "medians over rounds. EMA off everywhere (no peer keeps one)."),
        "configs": CONFIG_LABELS,
        "ganzoo_default_config": trainers.get("ganzoo", {}).get("default_config", {}),
        "trainers": trainers,
        "images_per_second": table,
        "ratios": ratios,
        "runs": [{k: r[k] for k in ("trainer", "config", "round", "seed", "images_per_second", "wall_s", "threads_after", "details")}
                 for r in runs],
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(out / "results.md", result)
    for key, r in ratios.items():
        print(f"{RATIO_NAMES[key]}: {ratio_text(r)}")
    print(f"wrote {out / 'results.json'} and {out / 'results.md'} ({result['wall_time_s']} s)")
    return result


if __name__ == "__main__":
    main()
