"""``ganzoo train``: train any registered architecture x loss on any dataset."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..args import parse_pairs
from ..build import PluginSpec
from ..engine.config import TrainConfig
from ..errors import ConfigError
from .options import engine_options, trick_specs


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
@click.option("--resume", is_flag=True, help="Continue the run in --out from its latest checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(arch: str, loss: str, dataset: str, data_dir: str | None, tricks: tuple[str, ...], arch_arg: tuple[str, ...],
            loss_arg: tuple[str, ...], data_arg: tuple[str, ...], out: str, resume: bool, quiet: bool, **settings: Any) -> None:
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
    trainer = Trainer(config, out, resume=resume, progress=not quiet)
    if trainer.dist.is_main:
        click.echo(f"precision: {trainer.precision.describe()}")
    result = trainer.fit()
    if trainer.dist.is_main:
        click.echo(f"trained {config.arch.name}/{config.loss.name} to step {result.step} at {result.images_per_second:.0f} img/s")
        if result.checkpoint:
            click.echo(f"checkpoint: {result.checkpoint}")
        if result.samples:
            click.echo(f"samples:    {result.samples}")
