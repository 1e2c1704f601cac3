"""``ganzoo traverse``: a latent-traversal grid of one latent code (InfoGAN's c1, any noise value z17)."""
from __future__ import annotations

import click

import ganzoo  # its public names load torch on first use, so `ganzoo --help` stays light


@click.command("traverse")
@click.argument("source")
@click.option("--code", default="c1", show_default=True, help="Code to sweep: InfoGAN's c1, c2, ... (categorical first), or a noise value z1, z2, ...")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(1, 100), help="Values per row (columns).")
@click.option("--rows", default=8, show_default=True, type=click.IntRange(1, 100), help="Fixed latents (rows).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the fixed latents.")
@click.option("--low", default=-1.0, show_default=True, type=float, help="Start of a continuous code's sweep.")
@click.option("--high", default=1.0, show_default=True, type=float, help="End of a continuous code's sweep.")
@click.option("--out", default="traversal.png", show_default=True, type=click.Path(dir_okay=False), help="PNG to write.")
@click.option("--raw", is_flag=True, help="Use the raw generator weights instead of the EMA average.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N (auto: CUDA when present).")
def command(source: str, code: str, steps: int, rows: int, seed: int, low: float, high: float, out: str, raw: bool, device: str) -> None:
    """Sweep one latent code of SOURCE (a run directory or model) with all other inputs fixed.

    Each row keeps one latent; each column sets the code to the next value (low..high for a
    continuous code, the next category for a categorical one). Every generator has its noise
    values z1, z2, ...; InfoGAN adds its codes c1, c2, ...

    Example: ganzoo traverse runs/infogan --code c2 --steps 10 --rows 8 --out c2.png

    Example: ganzoo traverse dcgan-fashion-mnist --code z17 --out z17.png
    """
    from ..engine.grids import save_samples  # torch: deferred so `ganzoo --help` stays light
    from ..traversal import traverse

    G = ganzoo.load(source, ema=not raw, device=device)
    grid = traverse(G, code, steps=steps, rows=rows, seed=seed, low=low, high=high)
    path = save_samples(grid, out, nrow=steps)
    click.echo(f"wrote a {rows}x{steps} traversal of {code} to {path}")
