"""``ganzoo bench-page``: (re)build a bench folder's self-contained web page from its results.json."""
from __future__ import annotations

import click


@click.command("bench-page")
@click.argument("folder", type=click.Path(file_okay=False))
def command(folder: str) -> None:
    """Write FOLDER/index.html from the results.json of a `ganzoo bench --out FOLDER` run, without training or scoring.

    The page holds everything inline (tables sortable by any column, each figure's protocol on hover and
    in a details row, curves, sample grids) and makes no network request; `ganzoo bench` writes it too.

    Example: ganzoo bench-page benchmarks/toy
    """
    from ..bench.page import write_page  # jinja2 and the template load only when the command runs, so `ganzoo --help` stays light

    path = write_page(folder)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
