"""Shared test setup: small, deterministic, CPU-only, and never reaching the network."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest
import torch

# Two cores are shared by pytest-xdist workers: one thread each avoids oversubscription.
torch.set_num_threads(int(os.environ.get("GANZOO_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def fake_data():
    """The dataset spec every generated pair test trains on: tiny labelled 32 px images."""
    from ganzoo.build import PluginSpec

    return PluginSpec("fake", {"n": 32, "image_size": 32, "channels": 1, "num_classes": 10})
