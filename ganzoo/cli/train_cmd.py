"""``ganzoo train``: train any registered architecture x loss on any dataset."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from ..args import parse_pairs
from ..build import PluginSpec
from ..engine.config import TrainConfig
from ..errors import CheckpointError, ConfigError, one_line
from . import command_line
from .options import engine_options, trick_specs

if TYPE_CHECKING:  # annotations only: the trainer imports torch
    from ..engine.trainer import Trainer, TrainResult


@click.command("train")
@click.option("--arch", default=None, help="Architecture name (see `ganzoo list architectures`); required unless --from or "
              "--init-from names a model.")
@click.option("--loss", default=None, help="Loss name (see `ganzoo list losses`); required unless --from or --init-from "
              "names a model.")
@click.option("--dataset", default="fashion-mnist", show_default=True, help="Dataset name (see `ganzoo list datasets`).")
@click.option("--data-dir", default=None, help="Folder with the dataset's files (passed as the dataset's data_dir).")
@click.option("--trick", "tricks", multiple=True, metavar="NAME[:K=V,...]", help="Add a regularizer/training trick; repeatable.")
@click.option("--arch-arg", multiple=True, metavar="K=V", help="Architecture constructor argument; repeatable.")
@click.option("--loss-arg", multiple=True, metavar="K=V", help="Loss constructor argument; repeatable.")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset constructor argument; repeatable.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory (checkpoints, grids, logs).")
@click.option("--from", "recipe_from", default=None, metavar="SOURCE",
              help="Retrain a published model from its recipe: the config.json of a zoo id (`ganzoo zoo`), Hub repo id, "
              "export or run, trained to the step its weights come from; options given here override it.")
@click.option("--init-from", default=None, metavar="SOURCE",
              help="Start from the raw generator and discriminator of a zoo id, Hub repo id, export made with "
              "--include-discriminator, or run, to fine-tune it (e.g. on --dataset imagefolder); its config is the "
              "recipe unless --from names another.")
@engine_options
@click.option("--resume", is_flag=True, help="Continue the run in --out from its latest intact checkpoint, with the settings "
              "it was trained with (`ganzoo train --resume --out RUN --steps N` trains it further); the learning "
              "rates, their decay (--lr-decay-until), --n-critic, --g-steps and tricks' arguments may change (recorded in "
              "config.json's resume_changes).")
@click.option("--resume-from", default=None, metavar="CHECKPOINT",
              help="Continue the run in --out from this checkpoint folder (step-N, or its path) instead of the latest.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(arch: str | None, loss: str | None, dataset: str, data_dir: str | None, tricks: tuple[str, ...],
            arch_arg: tuple[str, ...], loss_arg: tuple[str, ...], data_arg: tuple[str, ...], out: str,
            recipe_from: str | None, init_from: str | None, resume: bool, resume_from: str | None, quiet: bool,
            **settings: Any) -> None:
    """Train ARCH with LOSS on DATASET into --out; run it again with --resume to continue.

    Example: ganzoo train --arch dcgan --loss non-saturating --dataset fashion-mnist --steps 200 --out runs/first

    Retrain a zoo model from its recipe: ganzoo train --from dcgan-fashion-mnist --out runs/x; then ganzoo eval runs/x.

    Fine-tune one on your images: ganzoo train --init-from ID --dataset imagefolder --data-dir DIR --steps 500 --out runs/mine
    """
    from ..engine.trainer import Trainer  # torch: deferred so `ganzoo train --help` stays light

    data_args = parse_pairs(data_arg, "--data-arg")
    if data_dir is not None:
        data_args["data_dir"] = data_dir
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ConfigError(f"--data-dir {data_dir} is not a directory")
    arch_args, loss_args = parse_pairs(arch_arg, "--arch-arg"), parse_pairs(loss_arg, "--loss-arg")
    source = recipe_from or init_from
    given = {name: value for name, value in settings.items() if _was_given(name)}
    if source is None and (resume or resume_from) and arch is None and loss is None:
        # A resume needs only --out: the run's own settings, with the options given here on top.
        config = _own_config(Path(out), given, dataset=dataset if _was_given("dataset") else None, data_args=data_args,
                             tricks=trick_specs(tricks) or None)
    elif source is None:
        if arch is None or loss is None:
            raise ConfigError("--arch and --loss are required, unless --from or --init-from names a model to start from "
                              "(see `ganzoo zoo`)")
        config = TrainConfig(arch=PluginSpec(arch, arch_args), loss=PluginSpec(loss, loss_args),
                             dataset=PluginSpec(dataset, data_args), tricks=trick_specs(tricks),
                             **settings)  # the engine options, named as TrainConfig's fields
    else:
        config = _recipe(source, given, arch=arch, arch_args=arch_args, loss=loss, loss_args=loss_args,
                         dataset=dataset if _was_given("dataset") else None, data_args=data_args,
                         tricks=trick_specs(tricks) or None, settings=given)
    trainer = Trainer(config, out, resume=resume, progress=not quiet, resume_from=resume_from, init_from=init_from)
    if trainer.dist.is_main:
        _announce(trainer, init_from)
    result = trainer.fit()
    if trainer.dist.is_main:
        _report(result, f"{config.arch.name}/{config.loss.name}", trainer.config.steps)
        if source is not None and result.status == "done":
            click.echo(f"score it:   ganzoo eval {shlex.quote(str(result.run_dir))}")


def _was_given(name: str) -> bool:
    """Whether the user gave this option (on the command line or through the environment) rather
    than leaving it at its default: only those override a recipe."""
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _own_config(run_dir: Path, given: dict[str, Any], **overrides: Any) -> TrainConfig:
    """The settings ``run_dir`` was trained with, under the options given to its resume."""
    from ..layout import is_run  # these import torch: deferred so `ganzoo train --help` stays light
    from ..loading import run_config
    from ..recipe import override

    if not is_run(run_dir):
        raise CheckpointError(f"nothing to resume: {run_dir} holds no training run (no checkpoints/); give --arch and --loss "
                              "without --resume to start one there")
    try:
        saved = TrainConfig.from_json(run_config(run_dir))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CheckpointError(f"{run_dir / 'config.json'} is not a ganzoo run config; restore it, or start a new run with "
                              "another --out") from None
    return override(saved, settings=given, **overrides)


def _recipe(source: str, given: dict[str, Any], **overrides: Any) -> TrainConfig:
    """The recipe of ``source`` with the options the user gave on top, each difference said."""
    from ..recipe import override, read_recipe  # the Hub client and torch: deferred so `ganzoo train --help` stays light

    recipe = read_recipe(source)
    click.echo(one_line(f"recipe: config.json of {source}, from {recipe.where}"))
    for setting, note in recipe.notes:
        if setting not in given:
            click.echo(one_line(f"recipe: {note}"))
    return override(recipe.config, **overrides)


def _announce(trainer: Trainer, init_from: str | None) -> None:
    """The first lines of a run: its precision, what a resume changed, what a new run starts from."""
    click.echo(f"precision: {trainer.precision.describe()}")
    for change in trainer.changes:
        if "step" not in change:  # made by this resume (earlier ones carry their step already)
            click.echo(f"changed on resume: {change['setting']} {change['from']} -> {change['to']}")
    record = trainer.init_record
    if init_from is not None and not trainer.resume and record is not None:
        click.echo(one_line(f"init: generator and discriminator from the raw weights of {record['source']} "
                            f"(step {record.get('step')}; {record['where']}); optimizers and step count start fresh"))


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
