"""``ganzoo train``: train any registered architecture x loss on any dataset."""
from __future__ import annotations

from pathlib import Path

import click

from ..args import parse_pairs
from ..build import PluginSpec
from ..errors import ConfigError
from .options import betas, float_or_none, trick_specs


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
@click.option("--steps", default=1000, show_default=True, type=int, help="Generator steps to train to.")
@click.option("--batch-size", default=64, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop", "sgd"]), default=None, help="Default: the loss's / architecture's paper choice.")
@click.option("--lr-g", type=float, default=None, help="Generator learning rate (default: the paper's).")
@click.option("--lr-d", type=float, default=None, help="Discriminator learning rate (two time-scale rule when different).")
@click.option("--betas", "betas_text", default=None, metavar="B1,B2", help="Adam betas (default: the paper's).")
@click.option("--n-critic", type=int, default=None, help="Discriminator steps per generator step (default: the loss's).")
@click.option("--ema", "ema_text", default="0.999", show_default=True, help="Generator EMA decay, or 'none'.")
@click.option("--ema-start", default=0, show_default=True, type=int, help="Step from which the EMA averages (copies before).")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True)
@click.option("--channels-last", is_flag=True, help="Use channels_last memory format (faster convs on GPU).")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the generator and discriminator.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--sample-every", default=100, show_default=True, type=int, help="Write a sample grid every N steps.")
@click.option("--checkpoint-every", default=100, show_default=True, type=int, help="Write a checkpoint every N steps.")
@click.option("--keep-checkpoints", default=3, show_default=True, type=int, help="Checkpoints to keep (0 keeps all).")
@click.option("--log-every", default=10, show_default=True, type=int)
@click.option("--num-workers", default=0, show_default=True, type=int, help="DataLoader workers for on-disk datasets.")
@click.option("--tensorboard", is_flag=True, help="Also write TensorBoard scalars to RUN/tensorboard.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its latest checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(arch, loss, dataset, data_dir, tricks, arch_arg, loss_arg, data_arg, out, steps, batch_size, seed, optimizer,
            lr_g, lr_d, betas_text, n_critic, ema_text, ema_start, precision, channels_last, compile_, device,
            sample_every, checkpoint_every, keep_checkpoints, log_every, num_workers, tensorboard, resume, quiet) -> None:
    """Train ARCH with LOSS on DATASET into --out; run it again with --resume to continue.

    Example: ganzoo train --arch dcgan --loss non-saturating --dataset fashion-mnist --steps 200 --out runs/first
    """
    from ..engine.config import TrainConfig
    from ..engine.trainer import Trainer

    data_args = parse_pairs(data_arg, "--data-arg")
    if data_dir is not None:
        data_args["data_dir"] = data_dir
    config = TrainConfig(
        arch=PluginSpec(arch, parse_pairs(arch_arg, "--arch-arg")),
        loss=PluginSpec(loss, parse_pairs(loss_arg, "--loss-arg")),
        dataset=PluginSpec(dataset, data_args),
        tricks=trick_specs(tricks),
        steps=steps, batch_size=batch_size, seed=seed, optimizer=optimizer, lr_g=lr_g, lr_d=lr_d,
        betas=betas(betas_text), n_critic=n_critic, ema=float_or_none(ema_text, "--ema"), ema_start=ema_start,
        precision=precision, channels_last=channels_last, compile=compile_, device=device,
        sample_every=sample_every, checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints,
        log_every=log_every, num_workers=num_workers, tensorboard=tensorboard,
    )
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ConfigError(f"--data-dir {data_dir} is not a directory")
    trainer = Trainer(config, out, resume=resume, progress=not quiet)
    result = trainer.fit()
    if trainer.dist.is_main:
        click.echo(f"trained {config.arch.name}/{config.loss.name} to step {result.step} at {result.images_per_second:.0f} img/s")
        if result.checkpoint:
            click.echo(f"checkpoint: {result.checkpoint}")
        if result.samples:
            click.echo(f"samples:    {result.samples}")
