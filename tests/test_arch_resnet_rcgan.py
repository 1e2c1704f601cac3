"""The ResNet (SNGAN) and recurrent (GRAN) architectures: shapes, structure, and that they learn."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

import ganzoo
from ganzoo import registry
from ganzoo.build import PluginSpec
from ganzoo.contracts import DInput
from ganzoo.data.base import TensorDataset
from ganzoo.errors import ConfigError
from ganzoo.loading import load_run

SMALL = {"resnet": {"g_width": 16, "d_width": 16}, "rcgan": {"g_width": 8, "d_width": 8, "hidden": 16}}


@pytest.mark.parametrize("arch", ["resnet", "rcgan"])
@pytest.mark.parametrize("size", [28, 32, 64])
def test_shapes(arch: str, size: int) -> None:
    model = ganzoo.create(arch, channels=3, image_size=size, **SMALL[arch])
    g = model.generator
    z = g.sample_latent(3)
    x = g(z)
    assert x.shape == (3, 3, size, size)
    assert x.abs().max() <= 1.0
    out = model.discriminator(DInput(x))
    assert out.score.shape == (3,)
    assert out.features.shape[0] == 3


def test_resnet_features_are_sum_pooled_relu_and_head_is_linear() -> None:
    model = ganzoo.create("resnet", channels=1, image_size=32, **SMALL["resnet"])
    d = model.discriminator.eval()
    x = torch.randn(4, 1, 32, 32)
    h = d.features(DInput(x))
    assert h.shape == (4, 16)
    assert torch.equal(h, F.relu(d.blocks(x)).sum(dim=(2, 3)))
    score = d(DInput(x)).score
    torch.testing.assert_close(score, d.linear(h).squeeze(1))
    # spectral norm (SNGAN's D) is on by default, and can be switched off
    assert parametrize.is_parametrized(d.linear, "weight")
    plain = ganzoo.create("resnet", channels=1, image_size=32, spectral_norm=False, **SMALL["resnet"])
    assert not parametrize.is_parametrized(plain.discriminator.linear, "weight")


def test_resnet_64px_halves_widths_above_32px() -> None:
    model = ganzoo.create("resnet", channels=3, image_size=64, g_width=32, d_width=32)
    assert [b.conv2.out_channels for b in model.generator.blocks] == [32, 32, 32, 16]
    assert model.discriminator.blocks[0].conv2.out_channels == 16


def test_bad_image_size_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="image sizes"):
        ganzoo.create("resnet", channels=1, image_size=30)
    with pytest.raises(ConfigError, match="steps"):
        ganzoo.create("rcgan", channels=1, image_size=28, steps=0)


def test_rcgan_output_is_the_squashed_sum_of_its_canvases() -> None:
    model = ganzoo.create("rcgan", channels=1, image_size=28, steps=4, **SMALL["rcgan"])
    g = model.generator.train()  # batch statistics: deterministic for a given batch, and O(1) outputs
    z = g.sample_latent(5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        updates = g.canvases(z)
        # a manual unroll of the recurrence with the generator's own parts
        h_z = torch.tanh(g.project(z))
        canvas = torch.zeros(5, 1, 28, 28)
        manual = []
        for _ in range(4):
            delta = g.decode(torch.cat([h_z, g.encode(canvas)], 1)[:, :, None, None])
            canvas = canvas + delta
            manual.append(delta)
        out = g(z)
    assert len(updates) == 4
    for a, b in zip(updates, manual):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(out, torch.tanh(sum(manual)))
    # every step draws something, and later steps depend on earlier ones (same z, other canvas)
    assert all(u.abs().mean() > 0.01 for u in updates)
    assert (updates[0] - updates[1]).abs().mean() > 0.01


# --- it learns: a tiny image task (a local dataset of 8 px shapes) --------------------------------
SIZE = 8


def shape_templates() -> torch.Tensor:
    """Four 8x8 shapes in [-1, 1]: horizontal bar, vertical bar, diagonal, hollow square."""
    t = torch.full((4, 1, SIZE, SIZE), -1.0)
    a, b, m = SIZE // 4, SIZE - SIZE // 4, SIZE // 2
    t[0, :, m - 1 : m + 1, a:b] = 1.0
    t[1, :, a:b, m - 1 : m + 1] = 1.0
    idx = torch.arange(a, b)
    t[2, :, idx, idx] = 1.0
    t[3, :, a:b, a:b] = 1.0
    t[3, :, a + 1 : b - 1, a + 1 : b - 1] = -1.0
    return t


class Shapes(TensorDataset):
    """Test-only dataset: the four shape templates, labelled, as uint8 images."""

    provides = frozenset({"images", "labels"})

    def __init__(self, n: int = 256) -> None:
        y = torch.arange(n) % 4
        x = ((shape_templates()[y] + 1) * 127.5).round().to(torch.uint8)
        super().__init__(x, y, 4, self.provides)


@pytest.fixture
def shapes_dataset():
    ganzoo.register_dataset(Shapes, name="test-shapes-8px")
    yield PluginSpec("test-shapes-8px")
    registry.datasets.unregister("test-shapes-8px")


def nearest_mse(x: torch.Tensor, templates: torch.Tensor) -> float:
    return float(((x[:, None] - templates[None]) ** 2).mean((2, 3, 4)).min(1).values.mean())


def structure_ratio(x: torch.Tensor) -> float:
    """Distance to the shapes over distance to the same shapes with their pixels shuffled.

    Both sets have the same number of lit pixels, so a blank or gray generator scores ~1; only
    samples that put strokes where the shapes have them score well below 1.
    """
    t = shape_templates()
    g = torch.Generator().manual_seed(0)
    shuffled = torch.stack([s.flatten()[torch.randperm(s.numel(), generator=g)].view_as(s) for s in t])
    return nearest_mse(x, t) / nearest_mse(x, shuffled)


@pytest.mark.parametrize(
    "arch,args,steps",
    [
        ("resnet", {"g_width": 16, "d_width": 16}, 100),
        ("rcgan", {"g_width": 16, "d_width": 16, "hidden": 32}, 60),
    ],
)
def test_it_learns_tiny_shapes(arch, args, steps, shapes_dataset, tmp_path) -> None:
    """Seeded: after a short run the samples draw the training shapes (init: ratio ~1)."""
    start = ganzoo.create(arch, channels=1, image_size=SIZE, **args).generator.eval()
    with torch.no_grad():
        before = structure_ratio(start(start.sample_latent(64, generator=torch.Generator().manual_seed(1))))
    # beta1 0.5 (DCGAN's) rather than SNGAN's 0 with 5 D steps: the paper setting is slower to start
    ganzoo.train(
        PluginSpec(arch, args), "non-saturating", shapes_dataset, tmp_path / "run", steps=steps, batch_size=32,
        n_critic=1, lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.999), seed=0, ema=None, device="cpu", progress=False,
        sample_every=10**6, checkpoint_every=10**6,
    )
    after = structure_ratio(load_run(tmp_path / "run", ema=False).sample(64, seed=1))
    assert before > 0.85 and after < 0.7, (before, after)
