"""``ganzoo bench``: train and score a grid of variants side by side into a leaderboard."""
from __future__ import annotations

from pathlib import Path

import click

from ..args import parse_pairs
from ..engine.config import default
from ..errors import ConfigError


def _names(text: str, option: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise ConfigError(f"{option} needs a comma-separated list of names")
    return values


def _seeds(text: str) -> list[int]:
    try:
        if "," not in text and text.isdigit():
            return list(range(int(text)))  # "3" means seeds 0, 1, 2
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--seeds expects a count (3) or a list (0,1,2), got {text!r}") from None


@click.command("bench")
@click.option("--arch", "archs", required=True, help="Comma list of architectures.")
@click.option("--loss", "losses", required=True, help="Comma list of losses.")
@click.option("--dataset", "datasets", required=True, help="Comma list of datasets.")
@click.option("--seeds", default="3", show_default=True, help="Number of seeds (0..N-1) or a comma list.")
@click.option("--steps", type=click.IntRange(1, None), default=None, help=f"Budget per cell in generator steps (default {default('steps')}).")
@click.option("--time-budget", type=click.FloatRange(0, None, min_open=True), default=None, help="Budget per cell in seconds of training instead.")
@click.option("--evals", default=4, show_default=True, type=click.IntRange(1, 100), help="Scoring points along each curve.")
@click.option("--batch-size", default=default("batch_size"), show_default=True, type=click.IntRange(1, None))
@click.option("--arch-arg", multiple=True, metavar="K=V", help="Architecture argument, given to every architecture that accepts it.")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset argument, given to every dataset that accepts it.")
@click.option("--metrics", "metrics_text", default=None, help="Comma list of metrics (default: all that fit the data).")
@click.option("--n-generated", default=2000, show_default=True, type=click.IntRange(2, None))
@click.option("--n-real", default=2000, show_default=True, type=click.IntRange(2, None))
@click.option("--device", default=default("device"), show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (rerun the same command to resume).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(archs, losses, datasets, seeds, steps, time_budget, evals, batch_size, arch_arg, data_arg, metrics_text,
            n_generated, n_real, device, out, quiet) -> None:
    """Train every ARCH x LOSS x DATASET x SEED under one budget, score it, and write a leaderboard.

    Example: ganzoo bench --arch mlp --loss non-saturating,hinge --dataset toy-ring --seeds 3 --steps 2000 --out bench/toy
    """
    from ..bench import BenchSpec, run_grid  # torch: deferred so `ganzoo --help` stays light

    spec = BenchSpec(
        archs=_names(archs, "--arch"), losses=_names(losses, "--loss"), datasets=_names(datasets, "--dataset"),
        seeds=_seeds(seeds), steps=steps if (steps or time_budget) else default("steps"), time_budget_s=time_budget, evals=evals,
        batch_size=batch_size, arch_args=parse_pairs(arch_arg, "--arch-arg"), data_args=parse_pairs(data_arg, "--data-arg"),
        metrics=[m.strip() for m in metrics_text.split(",")] if metrics_text else None,
        n_generated=n_generated, n_real=n_real, device=device,
    )
    summary = run_grid(spec, Path(out), progress=not quiet)
    click.echo((Path(out) / "leaderboard.md").read_text())
    click.echo(f"{len(summary['results'])} cells, {len(summary['refused'])} refused; results in {out}")
