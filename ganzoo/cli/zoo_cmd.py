"""``ganzoo zoo``: the pretrained models ``ganzoo.load`` finds without the network (torch-free)."""
from __future__ import annotations

import json

import click

from ..errors import one_line
from ..zoo import ZooModel, list_models

COLUMNS = ("id", "architecture", "loss", "dataset", "resolution", "FID (gen vs real)", "generator", "D", "loads from")


def _row(m: ZooModel) -> tuple[str, ...]:
    loads = m.source + (f" (needs pip install {' '.join(m.missing)})" if m.missing else "")
    return (m.id, m.architecture, " + ".join([m.loss, *m.tricks]), m.dataset, m.resolution, m.fid_text, m.size_text,
            "yes" if m.discriminator else "no", loads)


@click.command("zoo")
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: one object per model.")
def command(pattern: str | None, as_json: bool) -> None:
    """List the pretrained models shipped in model_cards/ or cached from the Hub; PATTERN is an
    fnmatch pattern on the id such as '*fashion*'.

    D says whether the discriminator ships too (needed by `ganzoo train --init-from ID`); `ganzoo
    train --from ID --out RUN` retrains a model from its recorded recipe.
    """
    models = list_models(pattern)
    if as_json:
        click.echo(json.dumps([m.to_json() for m in models], indent=2))
        return
    if not models:
        click.echo("no pretrained models match" if pattern else "no pretrained models found in model_cards/ or the HF cache")
        return
    rows = [COLUMNS, *(tuple(one_line(cell) for cell in _row(m)) for m in models)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    for i, row in enumerate(rows):
        text = "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        click.echo(click.style(text, bold=True) if i == 0 else text)
