"""The ``ganzoo`` command. Sub-commands live in their own modules and are imported on use, so
``ganzoo list`` starts without importing torch."""
from __future__ import annotations

import errno
import importlib
import logging
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import GanzooError, one_line

# command name -> module in ganzoo.cli
COMMANDS = {
    "list": "list_cmd",
    "info": "info_cmd",
    "train": "train_cmd",
    "sample": "sample_cmd",
    "traverse": "traverse_cmd",
    "eval": "eval_cmd",
    "reference": "reference_cmd",
    "bench": "bench_cmd",
    "bench-page": "bench_page_cmd",
    "card": "card_cmd",
    "push": "push_cmd",
    "export": "export_cmd",
    "zoo": "zoo_cmd",
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
    ctx.ensure_object(dict)["debug"] = debug


def command_line() -> list[str]:
    """The arguments of this ``ganzoo`` invocation (after the program name), e.g. to tell the user
    the exact command that continues an interrupted run."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return list(obj.get("argv", [])) if isinstance(obj, dict) else []


# huggingface_hub logs each retry of a request the Hub did not answer (two lines a try, five tries
# over about 23 s when the cache lacks the file); the command says it once and then its own error.
HUB_HTTP_LOGGER = "huggingface_hub.utils._http"


class HubRetryNotice(logging.Filter):
    """Swallows huggingface_hub's retry warnings; the first becomes one line that says why the
    command waits and how to skip the wait."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " thrown while requesting " not in message and not message.startswith(("Retrying in ", "Rate limited.")):
            return True
        if not self.said and " thrown while requesting " in message:
            self.said = True
            reason = one_line(message.partition(" thrown while requesting ")[0].strip("'"))[:120]
            click.echo(f"ganzoo: the Hub did not answer ({reason}); huggingface_hub retries for up to about 25 s "
                       "(HF_HUB_OFFLINE=1 uses only the local cache)", err=True)
        return False


def main(argv: list[str] | None = None) -> Any:
    """Entry point: GanzooError and other expected failures become one line and exit code 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("GANZOO_DEBUG") not in (None, "", "0")
    notice = HubRetryNotice()
    if not debug:  # a logger by name: `ganzoo list` still imports neither huggingface_hub nor torch
        logging.getLogger(HUB_HTTP_LOGGER).addFilter(notice)
    try:
        return cli.main(args=args, standalone_mode=False, obj={"argv": args})
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # one line too, rather than click's usage block
        command = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx is not None else "ganzoo"
        hint = f" (see `{command} --help`)" if isinstance(exc, click.UsageError) else ""
        click.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except GanzooError as exc:
        if debug:
            raise
        click.echo(f"error: {one_line(str(exc))}", err=True)  # messages quote untrusted text: keep them one line
        sys.exit(1)
    except (OSError, MemoryError) as exc:
        if debug:
            raise
        click.echo(f"error: {one_line(describe_os_error(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: still one line, with the way to see more
        if debug:
            raise
        click.echo(f"internal error: {one_line(f'{type(exc).__name__}: {exc}')} (run with --debug for the traceback and report it)", err=True)
        sys.exit(1)
    finally:
        logging.getLogger(HUB_HTTP_LOGGER).removeFilter(notice)


def describe_os_error(exc: BaseException) -> str:
    """An OSError as what failed where, and what to do about it."""
    if not isinstance(exc, OSError) or exc.errno is None:
        return f"{type(exc).__name__}: {exc}; free some memory or use a smaller setting"
    where = f" ({exc.filename})" if exc.filename else ""
    advice = {
        errno.ENOSPC: "the disk is full: free space and retry",
        errno.EDQUOT: "the disk quota is exhausted: free space and retry",
        errno.EROFS: "that file system is read-only: choose a writable location",
        errno.EACCES: "permission denied: choose a location you can write to, or fix its permissions",
        errno.EPERM: "the operation is not permitted there: choose another location",
    }.get(exc.errno, "check the path and retry")
    return f"{exc.strerror or exc}{where}; {advice}"
