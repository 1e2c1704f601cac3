"""``ganzoo export``: write the folder that is published for a run (config, weights, card, samples)."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--model-id", default=None, help="Id the card's usage snippet loads, e.g. org/name (default: <arch>-<dataset>).")
@click.option("--raw", is_flag=True, help="Export the raw generator instead of its EMA average.")
@click.option("--include-discriminator", is_flag=True,
              help="Also write discriminator.safetensors (the whole raw model, for fine-tuning); always done for architectures with an encoder.")
@click.option("--no-samples", is_flag=True, help="Skip the 8x8 sample grid.")
@click.option("--no-figures", is_flag=True,
              help="Skip the card's other pictures in figures/ (class grid, code sweeps, reconstructions, stages, progression, critic loss vs FID).")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that holds no previous export.")
@click.option("--license", "license", default=None, help="Hub licence id for the card (default: the dataset plugin's, else apache-2.0).")
@click.option("--notes", "notes_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A Markdown file shown under Notes in the card (e.g. how the model compares with published figures).")
def command(run_dir: str, out_dir: str, model_id: str | None, raw: bool, include_discriminator: bool, no_samples: bool,
            no_figures: bool, force: bool, license: str | None, notes_file: str | None) -> None:
    """Export RUN_DIR's newest checkpoint to OUT_DIR: config.json, model.safetensors, README.md, samples.png
    and the card's other pictures in figures/."""
    from ..export import export_run  # torch: deferred so `ganzoo --help` stays light

    notes = _read_notes(notes_file) if notes_file else None
    out = export_run(run_dir, out_dir, ema=not raw, include_discriminator=include_discriminator, model_id=model_id, samples=not no_samples, force=force, license=license,
                     figures=not no_figures, notes=notes)
    names = (p.relative_to(out) for p in out.rglob("*") if p.is_file())
    files = ", ".join(sorted(n.as_posix() for n in names if not any(part.startswith(".") for part in n.parts)))
    click.echo(f"exported {run_dir} to {out}: {files}")


def _read_notes(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"--notes {path}: cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
