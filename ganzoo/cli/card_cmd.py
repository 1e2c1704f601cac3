"""``ganzoo card``: render the model card of a run or an exported model, without publishing."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("card")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--model-id", default=None, help="Id the usage snippet loads, e.g. org/name (default: the export's, or <arch>-<dataset>).")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write the card to this file instead of printing it.")
def command(source: str, model_id: str | None, out: str | None) -> None:
    """Print (or write) the README.md model card for SOURCE: a training run, an exported model folder,
    or a zoo model name."""
    from ..cards import render_card
    from ..safeio import write_atomic

    text = render_card(source, model_id)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_atomic(Path(out), lambda p: p.write_text(text, encoding="utf-8"))
    click.echo(f"wrote the model card to {out}")
