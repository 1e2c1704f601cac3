"""Conformance kit for plugin authors: the checks ganzoo runs on its own plugins, for yours.

For the architectures, losses, tricks and datasets a distribution registers, pytest runs: every
plugin loads and ``ganzoo list`` shows it (with its summary) without importing torch; every allowed
architecture x loss pair, every trick and every dataset trains one CPU step with finite losses,
samples have the right shape, the generator rebuilt from the run samples exactly the same, and the
model card renders (details: :mod:`ganzoo.testing.checks`).

Either subclass the test class in your tests (what ``plugins/ganzoo-began`` does)::

    from ganzoo.testing import PluginConformance

    class TestConformance(PluginConformance):
        distribution = "my-gan-package"

or let this pytest plugin add the same tests, by distribution, from the command line or the ini::

    pytest --ganzoo-dist my-gan-package            # ganzoo's pytest11 entry point loads the plugin
    pytest -p ganzoo.testing --ganzoo-dist my-gan-package   # where plugin autoloading is off
    # pyproject.toml: [tool.pytest.ini_options] ganzoo_dist = ["my-gan-package"]

Loading the plugin costs nothing until a distribution is named: torch and the checks are imported
only then (pytest loads entry-point plugins in every session of an environment with ganzoo).
"""
from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Any

import pytest

OPTION = "--ganzoo-dist"
INI = "ganzoo_dist"
__all__ = ["PluginConformance", "checks"]


def __getattr__(name: str) -> Any:
    # The suite imports torch and every check; a plain pytest session that loads this plugin
    # through its entry point must not pay for that.
    if name == "PluginConformance":
        return importlib.import_module(".suite", __name__).PluginConformance
    if name == "checks":
        return importlib.import_module(".checks", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ganzoo", "ganzoo plugin conformance")
    group.addoption(OPTION, action="append", default=[], metavar="DIST",
                    help="run ganzoo's conformance checks on the plugins that distribution DIST registers (repeatable)")
    parser.addini(INI, "distributions whose ganzoo plugins get the conformance checks", type="linelist", default=[])


def requested(config: pytest.Config) -> list[str]:
    """Distributions named on the command line, else in the ini file, each once."""
    names = config.getoption(OPTION) or config.getini(INI)
    return list(dict.fromkeys(str(n) for n in names))


class _SuiteModule(pytest.Module):
    """The suite module as a collector, holding a ``TestConformance`` for one distribution."""

    distribution: str = ""

    def _getobj(self) -> Any:
        suite = importlib.import_module(".suite", __name__)
        holder = types.ModuleType(suite.__name__)  # not the real module: nothing is added to it
        holder.__file__ = suite.__file__
        holder.TestConformance = type(  # type: ignore[attr-defined]
            "TestConformance", (suite.PluginConformance,), {"distribution": self.distribution, "__module__": suite.__name__})
        return holder


def _suite_items(session: pytest.Session, distribution: str) -> list[pytest.Item]:
    suite = importlib.import_module(".suite", __name__)
    module = _SuiteModule.from_parent(session, path=Path(suite.__file__), nodeid=f"ganzoo-conformance[{distribution}]")
    module.distribution = distribution
    return list(session.genitems(pytest.Class.from_parent(module, name="TestConformance")))


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselection, so those select among these tests too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    for distribution in requested(config):
        items.extend(_suite_items(session, distribution))
