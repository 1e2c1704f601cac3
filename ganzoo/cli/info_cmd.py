"""``ganzoo info``: everything about one plugin, or about a run directory."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .. import registry
from ..args import parameters
from ..errors import UnknownPluginError
from ..safeio import read_json
from ..records import Resolved


@click.command("info")
@click.argument("name")
def command(name: str) -> None:
    """Describe a plugin (its provider, paper, arguments with defaults, requirements) or a run directory."""
    path = Path(name)
    if (path / "config.json").is_file():
        _describe_run(path)
        return
    found = [reg for reg in registry.REGISTRIES.values() if name in reg]
    if not found:
        for reg in registry.REGISTRIES.values():
            try:
                reg.entry(name)
            except UnknownPluginError as exc:
                if "did you mean" in str(exc):
                    raise
        raise UnknownPluginError(f"{name!r} is neither a plugin nor a run directory (see `ganzoo list`)")
    for reg in found:
        entry = reg.entry(name)
        obj = reg.get(name)
        click.echo(click.style(f"{reg.kind} {name}", bold=True) + f"  ({entry.origin}, {entry.target})")
        doc = (obj.__doc__ or "").strip()
        if doc:
            click.echo("  " + doc.replace("\n", "\n  "))
        paper = getattr(obj, "paper", "")
        if paper:
            click.echo(f"  paper: {paper}")
        for label in ("requires", "provides", "requires_loss"):
            value = getattr(obj, label, None)
            if value:
                click.echo(f"  {label}: {', '.join(sorted(value))}")
        defaults = getattr(obj, "train_defaults", None)
        if defaults is not None:
            set_fields = {k: v for k, v in vars(defaults).items() if v is not None}
            if set_fields:
                click.echo("  training defaults: " + ", ".join(f"{k}={v}" for k, v in set_fields.items()))
        params = parameters(obj)
        if params:
            click.echo("  arguments:")
            for pname, p in params.items():
                default = "" if p.default is p.empty else f" = {p.default!r}"
                annotation = "" if p.annotation is p.empty else f": {p.annotation}"
                click.echo(f"    {pname}{annotation}{default}")


def _describe_run(path: Path) -> None:
    from ..engine import checkpoint  # torch: deferred so `ganzoo --help` stays light

    config = read_json(path / "config.json", "run config")
    click.echo(click.style(f"run {path}", bold=True))
    for section in ("architecture", "loss", "dataset"):
        s = config.get(section, {})
        click.echo(f"  {section}: {s.get('name')} {json.dumps(s.get('args', {}))} ({s.get('distribution')} {s.get('version')})")
    for t in config.get("tricks", []):
        click.echo(f"  trick: {t.get('name')} {json.dumps(t.get('args', {}))}")
    click.echo(f"  resolved: {json.dumps(Resolved.from_json(config.get('resolved')).to_json())}")
    ckpt = checkpoint.latest(path)
    click.echo(f"  latest checkpoint: {ckpt if ckpt else 'none'}")
