"""Errors a ganzoo user can act on. Each message is one line: what is wrong and what to do."""
from __future__ import annotations

from typing import Any


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped: a message printed to a terminal
    stays one line and cannot send escape codes, whatever a config.json or a file name held."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def quote(value: Any, limit: int = 80) -> str:
    """Untrusted text quoted as Python would (``'...'``, control characters escaped), cut at ``limit``."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class GanzooError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero, without a traceback."""


class UnknownPluginError(GanzooError, KeyError):
    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class PluginLoadError(GanzooError):
    """A plugin's entry point exists but its module or object could not be loaded."""


class DuplicatePluginError(GanzooError):
    """Two distributions (or a distribution and a local registration) claim the same name."""


class IncompatibleError(GanzooError):
    """An architecture, loss, trick or dataset cannot be combined with another."""


class ConfigError(GanzooError, ValueError):
    """A bad argument value."""


class CheckpointError(GanzooError):
    """A checkpoint or weights file is missing, corrupt, or not what it claims to be."""


class CheckpointWriteError(CheckpointError, OSError):
    """A checkpoint could not be written (a full disk, a read-only folder); the previous one is intact."""


class NonFiniteLossError(GanzooError):
    """Training produced NaN/inf; the run stops and keeps its last good checkpoint."""


class DataUnavailableError(GanzooError):
    """A dataset is not on disk and cannot be downloaded here."""
