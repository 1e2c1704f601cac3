"""``PluginConformance``: the checks of :mod:`ganzoo.testing.checks` as a pytest test class.

Subclass it in a test module, naming the distribution whose plugins to check; pytest generates one
test per pair, trick and dataset (``pytest_generate_tests`` on the class, a pytest feature).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import pytest

from . import checks


@functools.lru_cache(maxsize=None)
def selection(distribution: str | None) -> checks.Selection:
    """What ``distribution`` provides, computed once per session (it imports every plugin)."""
    return checks.select(distribution)


class PluginConformance:
    """The generated checks for one distribution's ganzoo plugins (``None``: all installed)."""

    distribution: ClassVar[str | None] = None
    # Constructor arguments for datasets that need them (a data folder, a small size), by name.
    dataset_args: ClassVar[dict[str, dict[str, Any]]] = {}

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        chosen = selection(self.distribution)
        cases = {
            "ganzoo_pair": [pytest.param(p, id=f"{p[0]}-{p[1]}") for p in chosen.pairs],
            "ganzoo_trick": [pytest.param(t, id=t) for t in chosen.tricks],
            "ganzoo_dataset": [pytest.param(d, id=d) for d in chosen.datasets],
        }
        for name, params in cases.items():
            if name in metafunc.fixturenames:
                # A package without tricks (say) shows one skipped test that says so.
                kind = {"ganzoo_pair": "architecture or loss", "ganzoo_trick": "tricks", "ganzoo_dataset": "datasets"}[name]
                none = pytest.param(None, id="none", marks=pytest.mark.skip(reason=f"{self._who()} registers no {kind}"))
                metafunc.parametrize(name, params or [none])

    def _who(self) -> str:
        return self.distribution or "no installed distribution"

    def test_distribution_registers_plugins(self) -> None:
        checks.check_distribution_known(selection(self.distribution))

    def test_plugins_load(self) -> None:
        checks.check_plugins_load(selection(self.distribution))

    def test_every_architecture_and_loss_has_a_pair(self) -> None:
        checks.check_every_plugin_has_a_partner(selection(self.distribution))

    def test_listed_without_importing_torch(self) -> None:
        checks.check_listed_without_torch(selection(self.distribution))

    def test_pair_trains_and_round_trips(self, ganzoo_pair: tuple[str, str], tmp_path: Path) -> None:
        checks.check_pair(*ganzoo_pair, tmp_path)

    def test_trick_trains_and_round_trips(self, ganzoo_trick: str, tmp_path: Path) -> None:
        checks.check_trick(ganzoo_trick, selection(self.distribution).all_pairs, tmp_path)

    def test_dataset_serves_batches_and_trains(self, ganzoo_dataset: str, tmp_path: Path) -> None:
        args = self.dataset_args.get(ganzoo_dataset, {})
        checks.check_dataset(ganzoo_dataset, args, selection(self.distribution).all_pairs, tmp_path)
