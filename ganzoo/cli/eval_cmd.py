"""``ganzoo eval``: score a run or a zoo model with every metric that fits its data."""
from __future__ import annotations

import json
from pathlib import Path

import click

import ganzoo  # its public names load torch on first use, so `ganzoo --help` stays light

from ..args import parse_pairs
from ..build import PluginSpec
from ..metric_catalog import FAMILIES


@click.command("eval")
@click.argument("source")
@click.option("--metrics", "metrics_text", default=None, help=f"Comma list from {', '.join(FAMILIES)} (default: all that fit the data).")
@click.option("--dataset", default=None, help="Real data to compare with (default: the model's training dataset).")
@click.option("--data-arg", multiple=True, metavar="K=V", help="Dataset argument, e.g. data_dir=...; repeatable.")
@click.option("--split", default="test", show_default=True, help="Real split to compare with.")
@click.option("--n-generated", default=10_000, show_default=True, type=click.IntRange(2, 1_000_000))
@click.option("--n-real", default=10_000, show_default=True, type=click.IntRange(2, 1_000_000))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N (auto: CUDA when present).")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 4096), help="Feature-network batch size.")
@click.option("--inception", default=None, type=click.Path(exists=True, dir_okay=False), help="TorchScript Inception-2015-12-05 file.")
@click.option("--is-classifier", default=None, type=click.Path(exists=True, dir_okay=False),
              help="TorchScript classifier returning logits, for the Inception Score (the offline Inception network has no logits).")
@click.option("--save", is_flag=True, help="Record the results in SOURCE/eval.json (model cards read it).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--fast", is_flag=True, help="bf16 Inception features where the hardware runs bf16 natively "
              "(about 2.5x faster on AMX CPUs; not the standard figure, and the protocol says so).")
def command(source, metrics_text, dataset, data_arg, split, n_generated, n_real, seed, device, batch_size, inception, is_classifier, save, as_json, fast) -> None:
    """Score SOURCE (a run directory, a model folder or a zoo model) and print each figure with its protocol.

    Example: ganzoo eval runs/first --metrics fid,kid --n-generated 2000 --n-real 2000
    """
    from ..evaluation import save_results, score  # torch: deferred so `ganzoo --help` stays light

    if save and not Path(source).is_dir():  # said before the scoring, which may take an hour
        raise click.UsageError("--save needs SOURCE to be a local run or model folder")
    G = ganzoo.load(source, device=device)
    device = str(G.device)  # "auto" resolved by load; score wants a torch device name
    if dataset is None:
        trained_on = G.config.get("dataset") or {}
        spec = PluginSpec(trained_on.get("name", "fashion-mnist"), {k: v for k, v in (trained_on.get("args") or {}).items() if k != "split"})
    else:
        spec = PluginSpec(dataset, {})
    spec.args.update(parse_pairs(data_arg, "--data-arg"))
    metrics = [m.strip() for m in metrics_text.split(",") if m.strip()] if metrics_text else None
    scored = score(G, spec, metrics=metrics, split=split, n_generated=n_generated, n_real=n_real, seed=seed,
                   device=device, batch_size=batch_size, inception_path=inception, is_classifier=is_classifier, fast=fast)
    if as_json:
        click.echo(json.dumps(scored, indent=2))
    else:
        shown_protocol = None
        for r in scored["results"]:
            if "skipped" in r:
                click.echo(f"{r['metric']:>24}  skipped: {r['skipped']}")
                continue
            click.echo(f"{r['metric']:>24}  {r['value']:.6g}   ({r['dataset']}, {r['split']})")
            if r["protocol"] != shown_protocol:
                shown_protocol = r["protocol"]
                click.echo("    protocol: " + ", ".join(f"{k}={v}" for k, v in r["protocol"].items() if k != "sigma_grid"))
    if save:
        click.echo(f"saved to {save_results(Path(source), scored)}")
