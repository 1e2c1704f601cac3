"""``ganzoo card``: render the model card of a run or an exported model, without publishing."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError
from ..safeio import write_atomic


@click.command("card")
@click.argument("source")
@click.option("--model-id", default=None, help="Id the usage snippet loads, e.g. org/name (default: the export's, or <arch>-<dataset>).")
@click.option("--license", "license", default=None, help="Hub licence id, e.g. mit or cc-by-nc-4.0 (default: the export's, else the dataset plugin's, else apache-2.0).")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Write the card to this file instead of printing it (a card written before is replaced).")
@click.option("--force", is_flag=True, help="Replace an --out file that is not a ganzoo model card.")
def command(source: str, model_id: str | None, license: str | None, out: str | None, force: bool) -> None:
    """Print (or write) the README.md model card for SOURCE: a training run, an exported model folder,
    a zoo model name or a Hub repo id."""
    # Deferred: the Hub client and the card renderer are heavy, and `ganzoo --help` imports every command.
    from ..cards import render_card
    from ..hub import locate

    if out is not None and not force:
        _check_replaceable(Path(out))
    folder, _ = locate(source, need_weights=False)
    # A model found on the Hub has its grid there even when only config.json was downloaded.
    text = render_card(folder, model_id, has_samples=None if Path(source).is_dir() else True, license=license)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_atomic(Path(out), lambda p: p.write_text(text, encoding="utf-8"))
    click.echo(f"wrote the model card to {out}")


def _check_replaceable(out: Path) -> None:
    """A card written before is rewritten; any other file is the user's and stays, unless --force."""
    if not out.exists():
        return
    try:
        with out.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        head = ""
    if head.startswith("---") and "library_name: ganzoo" in head:
        return
    raise ConfigError(f"{out} exists and is not a ganzoo model card; pass --force to replace it, or choose another --out")
