"""``ganzoo reference``: featurize a dataset's real images into the reference cache ahead of scoring."""
from __future__ import annotations

import click

from ..args import parse_pairs
from ..build import PluginSpec


@click.command("reference")
@click.argument("dataset")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset argument, e.g. data_dir=...; repeatable.")
@click.option("--split", default="test", show_default=True, help="Real split that scoring compares with.")
@click.option("--n-real", default=10_000, show_default=True, type=click.IntRange(2, 1_000_000))
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N (auto: CUDA when present).")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 4096), help="Feature-network batch size.")
@click.option("--inception", default=None, type=click.Path(exists=True, dir_okay=False), help="TorchScript Inception-2015-12-05 file.")
@click.option("--fast", is_flag=True, help="bf16 features, for `ganzoo eval --fast` (cached apart from the standard fp32 ones).")
def command(dataset, data_arg, split, n_real, device, batch_size, inception, fast) -> None:
    """Featurize DATASET's real images once, so that `ganzoo eval` (and the bench) start from the cache.

    The real side of a 10k-image FID is as costly as the generated side (about half an hour on a
    CPU); run this beside a training and the scoring that follows only featurizes its own samples.
    Use the same --split, --n-real and --fast as the scoring will.

    Example: ganzoo reference fashion-mnist --n-real 10000
    """
    from ..evaluation import prepare_reference  # torch: deferred so `ganzoo --help` stays light

    spec = PluginSpec(dataset, parse_pairs(data_arg, "--data-arg"))
    done = prepare_reference(spec, split=split, n_real=n_real, device=device, batch_size=batch_size,
                             inception_path=inception, fast=fast)
    verb = "already cached" if done["cache"] == "hit" else "cached"
    click.echo(f"{verb}: {done['dataset']} {done['split']}, {done['n_real']} images, "
               f"{done['feature_precision']} features ({done['feature_dim']}-d)")
