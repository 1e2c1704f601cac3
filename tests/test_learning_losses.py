"""Every loss actually learns: a seeded CPU run through the real engine moves a small MLP generator
from its initial output (a tight blob at the origin) to a 2-D Gaussian target N((2, -1), 0.5^2 I).

A loss with a flipped sign (in D or in G) sends the generator away from the data instead, so the
assertions below fail for it; ``test_a_flipped_generator_loss_fails_the_check`` shows that they do.

Budgets are compressed to about a second per loss: lr 1e-3 for every loss, and for the losses
whose paper defaults need many critic steps, the paper's n_critic with a small number of
generator steps. DRAGAN gets n_critic 5 too: its unit-norm penalty dominates a freshly
initialized D, which first magnifies its random initial slope before the adversarial term
orients it, so with one D step per G step the generator starts in a random direction.
"""
from __future__ import annotations

import pytest
import torch

from ganzoo import registry
from ganzoo.api import train
from ganzoo.build import PluginSpec
from ganzoo.contracts import POINTS, DOut
from ganzoo.data.base import TensorDataset
from ganzoo.losses.classic import NonSaturating
from ganzoo.loading import load_run, rebuild_model
from ganzoo.safeio import read_json

MEAN = torch.tensor([2.0, -1.0])
STD = 0.5
DATASET = "gauss2d-learning-test"
ARCH = PluginSpec("mlp", {"g_hidden": (32, 32), "d_hidden": (32, 32), "latent_dim": 4})

# loss -> (lr, n_critic, generator steps)
BUDGETS = {
    "minimax": (1e-3, 1, 150),
    "non-saturating": (1e-3, 1, 150),
    "least-squares": (1e-3, 1, 150),
    "relativistic": (1e-3, 1, 150),
    "relativistic-average": (1e-3, 1, 150),
    "hinge": (1e-3, 5, 50),
    "wasserstein": (1e-3, 5, 50),
    "wgan-gp": (1e-3, 5, 60),
    "dragan": (1e-3, 5, 75),
}


class Gaussian2D(TensorDataset):
    """One 2-D Gaussian, N((2, -1), 0.5^2 I): the target of the learning tests."""

    provides = frozenset({POINTS})

    def __init__(self, n: int = 4096, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        super().__init__(MEAN + STD * torch.randn(n, 2, generator=g), None, 0, self.provides)


class FlippedNonSaturating(NonSaturating):
    """Non-saturating loss with the generator's sign flipped: a broken loss the check must catch."""

    def g_loss(self, real: DOut | None, fake: DOut) -> torch.Tensor:
        return -super().g_loss(real, fake)


@pytest.fixture(scope="module", autouse=True)
def plugins():
    registry.datasets.register(Gaussian2D, name=DATASET)
    registry.losses.register(FlippedNonSaturating, name="flipped-non-saturating-test")
    yield
    registry.datasets.unregister(DATASET)
    registry.losses.unregister("flipped-non-saturating-test")


def _moments(x: torch.Tensor) -> tuple[float, float]:
    """Distance of the sample mean from the target mean, and the mean per-axis spread."""
    return float((x.mean(0) - MEAN).norm()), float(x.std(0).mean())


def _train_and_measure(tmp_path, loss: str, lr: float, n_critic: int, steps: int):
    torch.set_num_threads(1)
    train(
        ARCH, loss, DATASET, tmp_path, steps=steps, batch_size=64, seed=0, lr_g=lr, lr_d=lr, n_critic=n_critic,
        ema=None, device="cpu", progress=False, checkpoint_every=steps, sample_every=10**6, log_every=steps,
    )
    torch.manual_seed(0)  # the engine seeds the same way before building, so this is the initial G
    initial = rebuild_model(read_json(tmp_path / "config.json", "run config")).generator.eval()
    with torch.no_grad():
        before = initial(initial.sample_latent(2000, generator=torch.Generator().manual_seed(1)))
    after = load_run(tmp_path, ema=False).sample(2000, seed=1)
    return _moments(before), _moments(after)


@pytest.mark.parametrize("loss", sorted(BUDGETS))
def test_loss_moves_the_generator_to_the_target(tmp_path, loss: str) -> None:
    assert loss in registry.losses, f"{loss} is not registered"
    (err0, spread0), (err, spread) = _train_and_measure(tmp_path, loss, *BUDGETS[loss])
    detail = f"{loss}: mean error {err0:.2f} -> {err:.2f}, spread {spread0:.2f} -> {spread:.2f} (target 0, {STD})"
    assert err0 > 2.0, detail  # the untrained generator sits near the origin
    assert err < 0.5 * err0, detail
    assert spread > 2 * spread0, detail


def test_every_registered_builtin_loss_has_a_learning_budget() -> None:
    builtin = {e.name for e in registry.losses.entries() if e.distribution == "ganzoo"}
    assert builtin <= set(BUDGETS), f"no learning test for {sorted(builtin - set(BUDGETS))}"


def test_a_flipped_generator_loss_fails_the_check(tmp_path) -> None:
    (err0, _), (err, _) = _train_and_measure(tmp_path, "flipped-non-saturating-test", *BUDGETS["non-saturating"])
    assert err > err0, f"a generator trained to *fool D less* should drift away: {err0:.2f} -> {err:.2f}"
