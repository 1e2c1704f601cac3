"""Generated from the registry: every installed plugin gets the conformance kit's checks.

The checks are ``ganzoo.testing`` (the kit plugin authors run on their own packages, as
plugins/ganzoo-began/tests/test_conformance.py does); here they cover every distribution at once,
ganzoo's own variants and any plugin package installed next to it, so a plugin added by anyone is
covered without writing a test for it: each plugin loads and is listed without importing torch,
every allowed architecture x loss pair, trick and dataset trains one CPU step with finite losses,
samples have the right shape, save -> load reproduces the generator exactly, and the card renders.
"""
from __future__ import annotations

from ganzoo.testing import PluginConformance


class TestEveryPlugin(PluginConformance):
    distribution = None  # every installed distribution
