"""Shared test setup: small, deterministic, CPU-only, and never reaching the network."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest
import torch

from ganzoo.losses.classic import NonSaturating

# Two cores are shared by pytest-xdist workers: one thread each avoids oversubscription.
torch.set_num_threads(int(os.environ.get("GANZOO_TEST_THREADS", "1")))


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``ganzoo ARGV`` in-process as the console script does: (exit code, stdout, stderr)."""
    from ganzoo.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """FID statistics the tests compute go to a folder of the test session, not the user's ~/.cache/ganzoo
    (each test network has its own fingerprint, so every run would leave tens of MB there)."""
    os.environ["GANZOO_CACHE"] = str(tmp_path_factory.mktemp("ganzoo-cache"))


@pytest.fixture
def fake_data():
    """The dataset spec every generated pair test trains on: tiny labelled 32 px images."""
    from ganzoo.build import PluginSpec

    return PluginSpec("fake", {"n": 32, "image_size": 32, "channels": 1, "num_classes": 10})


class Shapes16:
    """Squares, horizontal and vertical bars at seeded random places: 1x16x16 uint8 images.

    A tiny image task with real structure, for tests that an image architecture learns something.
    """

    @staticmethod
    def dataset_class():
        from ganzoo.contracts import IMAGES
        from ganzoo.data.base import TensorDataset

        class Shapes(TensorDataset):
            """Squares and bars, 1x16x16 (a test dataset)."""

            provides = frozenset({IMAGES})

            def __init__(self, n: int = 256, seed: int = 0) -> None:
                g = torch.Generator().manual_seed(seed)
                x = torch.zeros(n, 1, 16, 16, dtype=torch.uint8)
                kinds = torch.randint(3, (n,), generator=g)
                for i, kind in enumerate(kinds.tolist()):
                    a, b = torch.randint(1, 9, (2,), generator=g).tolist()
                    if kind == 0:
                        x[i, 0, a : a + 6, b : b + 6] = 255
                    elif kind == 1:
                        x[i, 0, a + 2 : a + 4, 1:15] = 255
                    else:
                        x[i, 0, 1:15, b + 2 : b + 4] = 255
                super().__init__(x, None, 0, self.provides)

        return Shapes


@pytest.fixture
def shapes16():
    """Registers the 16 px shapes dataset for one test; yields its registry name."""
    from ganzoo import registry

    name = "test-shapes-16px"
    registry.datasets.register(Shapes16.dataset_class(), name=name)
    try:
        yield name
    finally:
        registry.datasets.unregister(name)


class NaNAfterTwo(NonSaturating):
    """Test loss: finite for two calls, then NaN (the non-finite checks and their advice)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def d_loss(self, real, fake):
        self.calls += 1
        loss = super().d_loss(real, fake)
        return loss * float("nan") if self.calls > 2 else loss
