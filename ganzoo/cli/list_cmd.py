"""``ganzoo list``: every plugin with its provider and summary, without importing any plugin."""
from __future__ import annotations

import json

import click

from .. import registry

KINDS = list(registry.REGISTRIES)


def _kind_option(value: str | None) -> list[str]:
    if value is None:
        return KINDS
    plural = value if value.endswith("s") else value + "s"
    if plural not in registry.REGISTRIES:
        raise click.BadParameter(f"{value!r} is not a plugin kind; use one of {', '.join(KINDS)}", param_hint="KIND")
    return [plural]


@click.command("list")
@click.argument("kind", required=False)
@click.argument("pattern", required=False)
@click.option("--check", is_flag=True, help="Import every plugin to verify that it loads (slower).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(kind: str | None, pattern: str | None, check: bool, as_json: bool) -> None:
    """List plugins: KIND is architectures, losses, datasets or tricks; PATTERN an fnmatch
    pattern such as 'dcgan*'. Failed plugins are shown with their package and cause."""
    rows = []
    for plural in _kind_option(kind):
        reg = registry.REGISTRIES[plural]
        names = reg.names(pattern)
        for name in names:
            claimants = reg._claimants(name)
            for entry in claimants:
                if check and len(claimants) == 1:
                    reg.check(name)
                summary = entry.summary
                status = "ok"
                if len(claimants) > 1:
                    status = "DUPLICATE: also provided by " + ", ".join(c.origin for c in claimants if c is not entry)
                elif entry.error:
                    status = f"FAILED: {entry.error}"
                provider = entry.distribution if entry.distribution == registry.LOCAL else f"{entry.distribution} {entry.version}"
                rows.append({"kind": plural, "name": name, "provider": provider, "target": entry.target, "status": status, "summary": summary})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no plugins match")
        return
    width = max(len(r["name"]) for r in rows)
    pwidth = max(len(r["provider"]) for r in rows)
    current = None
    for r in rows:
        if r["kind"] != current:
            current = r["kind"]
            click.echo(click.style(registry.REGISTRIES[current].plural if current in registry.REGISTRIES else current, bold=True))
        text = r["summary"] if r["status"] == "ok" else click.style(r["status"], fg="red")
        click.echo(f"  {r['name']:<{width}}  {r['provider']:<{pwidth}}  {text}")
