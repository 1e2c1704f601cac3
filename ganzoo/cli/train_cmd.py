"""``ganzoo train``: train any registered architecture x loss on any dataset."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..args import parse_pairs
from ..build import PluginSpec
from ..engine.config import TrainConfig
from ..errors import ConfigError
from . import command_line
from .options import engine_options, trick_specs

if TYPE_CHECKING:  # annotations only: the trainer imports torch
    from ..engine.trainer import TrainResult


@click.command("train")
@click.option("--arch", required=True, help="Architecture name (see `ganzoo list architectures`).")
@click.option("--loss", required=True, help="Loss name (see `ganzoo list losses`).")
@click.option("--dataset", default="fashion-mnist", show_default=True, help="Dataset name (see `ganzoo list datasets`).")
@click.option("--data-dir", default=None, help="Folder with the dataset's files (passed as the dataset's data_dir).")
@click.option("--trick", "tricks", multiple=True, metavar="NAME[:K=V,...]", help="Add a regularizer/training trick; repeatable.")
@click.option("--arch-arg", multiple=True, metavar="K=V", help="Architecture constructor argument; repeatable.")
@click.option("--loss-arg", multiple=True, metavar="K=V", help="Loss constructor argument; repeatable.")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset constructor argument; repeatable.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory (checkpoints, grids, logs).")
@engine_options
@click.option("--resume", is_flag=True, help="Continue the run in --out from its latest intact checkpoint; the learning "
              "rates, --n-critic and tricks' arguments may change (recorded in config.json's resume_changes).")
@click.option("--resume-from", default=None, metavar="CHECKPOINT",
              help="Continue the run in --out from this checkpoint folder (step-N, or its path) instead of the latest.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(arch: str, loss: str, dataset: str, data_dir: str | None, tricks: tuple[str, ...], arch_arg: tuple[str, ...],
            loss_arg: tuple[str, ...], data_arg: tuple[str, ...], out: str, resume: bool, resume_from: str | None,
            quiet: bool, **settings: Any) -> None:
    """Train ARCH with LOSS on DATASET into --out; run it again with --resume to continue.

    Example: ganzoo train --arch dcgan --loss non-saturating --dataset fashion-mnist --steps 200 --out runs/first
    """
    from ..engine.trainer import Trainer  # torch: deferred so `ganzoo train --help` stays light

    data_args = parse_pairs(data_arg, "--data-arg")
    if data_dir is not None:
        data_args["data_dir"] = data_dir
    config = TrainConfig(
        arch=PluginSpec(arch, parse_pairs(arch_arg, "--arch-arg")),
        loss=PluginSpec(loss, parse_pairs(loss_arg, "--loss-arg")),
        dataset=PluginSpec(dataset, data_args),
        tricks=trick_specs(tricks),
        **settings,  # the engine options, named as TrainConfig's fields
    )
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ConfigError(f"--data-dir {data_dir} is not a directory")
    trainer = Trainer(config, out, resume=resume, progress=not quiet, resume_from=resume_from)
    if trainer.dist.is_main:
        click.echo(f"precision: {trainer.precision.describe()}")
        for change in trainer.changes:
            if "step" not in change:  # made by this resume (earlier ones carry their step already)
                click.echo(f"changed on resume: {change['setting']} {change['from']} -> {change['to']}")
    result = trainer.fit()
    if trainer.dist.is_main:
        _report(result, f"{config.arch.name}/{config.loss.name}", trainer.config.steps)


def _report(result: TrainResult, what: str, steps: int) -> None:
    """What happened, and for a run that stopped early, the exact command that continues it."""
    if result.status == "nothing to do":
        click.echo(f"{result.run_dir} is already at step {result.step}: nothing to do (pass --steps above {result.step} to train further)")
        return
    if result.status == "done":
        click.echo(f"trained {what} to step {result.step} at {result.images_per_second:.0f} img/s")
    else:
        budget = result.status == "time budget"
        why, how = ("stopped at its --time-budget", "continue with a larger --time-budget") if budget else ("interrupted", "continue with")
        click.echo(f"{why} at step {result.step} of {steps}; {how}: {_resume_command()}")
    if result.checkpoint:
        click.echo(f"checkpoint: {result.checkpoint}")
    if result.samples:
        click.echo(f"samples:    {result.samples}")


def _resume_command() -> str:
    """This command line with --resume (and without --resume-from, which names an older checkpoint)."""
    argv, out = command_line(), []
    skip = False
    for arg in argv:
        if skip or arg.startswith("--resume-from="):
            skip = False
            continue
        skip = arg == "--resume-from"
        if not skip:
            out.append(arg)
    if "--resume" not in out:
        out.append("--resume")
    return shlex.join(["ganzoo", *out])
