"""``ganzoo sample``: a sample grid from a run directory or a pretrained model."""
from __future__ import annotations

import click

import ganzoo  # its public names load torch on first use, so `ganzoo --help` stays light

from ..errors import ConfigError


@click.command("sample")
@click.argument("source")
@click.option("-n", "--n", "n", default=64, show_default=True, type=click.IntRange(1, 10_000), help="Number of samples.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(-(2**63), 2**64 - 2))  # what torch seeds take
@click.option("--labels", default=None, help="Class labels for a conditional model: one int, or a comma list of n ints.")
@click.option("--out", default="samples.png", show_default=True, type=click.Path(dir_okay=False), help="PNG to write.")
@click.option("--raw", is_flag=True, help="Use the raw generator weights instead of the EMA average.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N (auto: CUDA when present).")
def command(source: str, n: int, seed: int, labels: str | None, out: str, raw: bool, device: str) -> None:
    """Write a grid of N samples from SOURCE: a run directory, a model folder, a zoo model name or a Hub repo id."""
    G = ganzoo.load(source, ema=not raw, device=device)
    parsed = None
    if labels is not None:
        try:
            values = [int(v) for v in labels.split(",")]
        except ValueError:
            raise ConfigError(f"--labels expects integers, got {labels!r}") from None
        if any(not 0 <= v < 2**31 for v in values):
            raise ConfigError(f"--labels must be class indices (0, 1, ...), got {labels!r}")
        parsed = values[0] if len(values) == 1 else values
    path = G.save_grid(out, n=n, seed=seed, labels=parsed)
    click.echo(f"wrote {n} samples to {path}")
