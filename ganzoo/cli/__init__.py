"""The ``ganzoo`` command. Sub-commands live in their own modules and are imported on use, so
``ganzoo list`` starts without importing torch."""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import GanzooError

# command name -> module in ganzoo.cli
COMMANDS = {
    "list": "list_cmd",
    "info": "info_cmd",
    "train": "train_cmd",
    "sample": "sample_cmd",
    "traverse": "traverse_cmd",
    "eval": "eval_cmd",
    "bench": "bench_cmd",
    "card": "card_cmd",
    "push": "push_cmd",
    "export": "export_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, module in COMMANDS.items() if importlib.util.find_spec(f"ganzoo.cli.{module}")]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None or importlib.util.find_spec(f"ganzoo.cli.{module}") is None:
            return None
        return importlib.import_module(f"ganzoo.cli.{module}").command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ganzoo")
@click.option("--debug", is_flag=True, envvar="GANZOO_DEBUG", help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ganzoo: train, sample, benchmark and share GANs. Every variant is a plugin."""
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> Any:
    """Entry point: GanzooError and other expected failures become one line and exit code 1."""
    debug = "--debug" in (argv or sys.argv[1:]) or os.environ.get("GANZOO_DEBUG") not in (None, "", "0")
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except GanzooError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (OSError, MemoryError) as exc:
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: still one line, with the way to see more
        if debug:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback and report it)", err=True)
        sys.exit(1)
