"""LAPGAN: the pyramid, per-level scores, sampling coarse to fine, and that it learns."""
from __future__ import annotations

import math

import pytest
import torch

from ganzoo import api, registry
from ganzoo.architectures.lapgan import laplacian_pyramid, upsample
from ganzoo.build import PluginSpec
from ganzoo.contracts import Batch
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import ConfigError

SMALL = {"g_width": 8, "d_width": 8, "g_hidden": 32, "d_hidden": 32, "base_latent_dim": 6, "level_latent_dim": 4}


@pytest.fixture
def bars(shapes16):
    return shapes16


def test_pyramid_sums_back_to_the_image() -> None:
    x = torch.rand(3, 2, 32, 32) * 2 - 1
    parts, conds = laplacian_pyramid(x, 3)
    assert [tuple(p.shape[-2:]) for p in parts] == [(8, 8), (16, 16), (32, 32)]
    image = parts[0]
    for h, cond in zip(parts[1:], conds):
        torch.testing.assert_close(cond, upsample(image))
        image = cond + h
    torch.testing.assert_close(image, x)
    # the coarse image is the 4x4 block average
    torch.testing.assert_close(parts[0], x.unfold(2, 4, 4).unfold(3, 4, 4).mean((-1, -2)))


@pytest.mark.parametrize("size,levels", [(32, 3), (64, 3), (64, 4), (28, 3)])
def test_sample_is_the_coarse_to_fine_sum(size: int, levels: int) -> None:
    m = api.create("lapgan", channels=3, image_size=size, levels=levels, **SMALL).eval()
    g = m.generator
    z = m.sample_latent(4, generator=torch.Generator().manual_seed(0))
    assert z.shape == (4, 6 + 4 * (levels - 1)) and g.latent_dim == z.shape[1]
    assert z.min() >= -1 and z.max() <= 1  # the paper's uniform noise
    with torch.no_grad():
        out = g(z)
        image = g.base(z[:, :6])
        assert image.shape == (4, 3, size >> (levels - 1), size >> (levels - 1))
        for k, refine in enumerate(g.refiners):
            low = upsample(image)
            image = low + refine(z[:, 6 + 4 * k : 10 + 4 * k], low)
    assert out.shape == (4, 3, size, size)
    torch.testing.assert_close(out, image, rtol=0, atol=0)


def test_views_and_per_level_scores() -> None:
    m = api.create("lapgan", channels=1, image_size=32, **SMALL)
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    z = m.sample_latent(5)
    views = m.views(Batch(x), z)
    real_parts, conds = laplacian_pyramid(x, 3)
    for got, want in zip(views.real.x, real_parts):
        torch.testing.assert_close(got, want)
    # fake residuals are conditioned on the real image's coarser levels (the paper's training)
    assert views.fake.cond is views.real.cond and len(views.fake.cond) == 2
    for fake, real in zip(views.fake.x, views.real.x):
        assert fake.shape == real.shape
    g = m.generator
    z_base, *z_levels = g.split(z)
    torch.testing.assert_close(views.fake.x[0], g.base(z_base), rtol=0, atol=0)
    for k, (refine, z_k, cond) in enumerate(zip(g.refiners, z_levels, conds)):
        torch.testing.assert_close(views.fake.x[k + 1], refine(z_k, cond), rtol=0, atol=0)
    out = m.critic(views.real)
    assert out.score.shape == (5, 3)
    assert out.features.shape == (5, sum(m.discriminator.widths))
    # one D per level: changing the finest residual moves only the last column
    m.eval()
    with torch.no_grad():
        a = m.critic(views.real).score
        b = m.critic(views.real.with_samples([*views.real.x[:2], views.real.x[2] + 0.5])).score
    torch.testing.assert_close(a[:, :2], b[:, :2], rtol=0, atol=0)
    assert not torch.allclose(a[:, 2], b[:, 2])


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ConfigError, match="levels"):
        api.create("lapgan", image_size=30)
    with pytest.raises(ConfigError, match="levels"):
        api.create("lapgan", image_size=32, levels=5)
    with pytest.raises(ConfigError, match="at least 2"):
        api.create("lapgan", levels=1)


@pytest.mark.parametrize("loss", ["non-saturating", "wgan-gp"])
def test_trains_with_the_generic_losses(loss: str, tmp_path) -> None:
    if loss not in registry.losses:
        pytest.skip(f"loss {loss!r} is not installed")
    config = TrainConfig(
        arch=PluginSpec("lapgan", SMALL), loss=PluginSpec(loss), dataset=PluginSpec("fake", {"n": 16, "image_size": 32}),
        steps=2, batch_size=4, n_critic=2, sample_every=2, checkpoint_every=2, log_every=1, seed=1,
    )
    trainer = Trainer(config, tmp_path / "run", progress=False)
    before = [p.detach().clone() for p in trainer.model.generator.refiners.parameters()]
    result = trainer.fit()
    assert all(math.isfinite(v) for v in result.last_losses.values()), result.last_losses
    if loss == "wgan-gp":
        assert result.last_losses["d_penalty"] > 0  # the penalty differentiates every level
    after = list(trainer.model.generator.refiners.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after)), "a level generator was not trained"


def test_lapgan_learns_the_bars(tmp_path, bars) -> None:
    """After 250 steps the (averaged) generator's pixels are distributed like the data's (which are
    all -1 or 1), and the finest level draws residuals with real energy; at init it draws ~0."""
    args = {"g_width": 16, "d_width": 16, "g_hidden": 128, "d_hidden": 128, "base_latent_dim": 16, "level_latent_dim": 16}
    config = TrainConfig(arch=PluginSpec("lapgan", args), loss=PluginSpec("non-saturating"), dataset=PluginSpec(bars),
                         steps=250, batch_size=32, seed=0, ema=0.99, sample_every=10**6, checkpoint_every=10**6, log_every=10**6)
    trainer = Trainer(config, tmp_path / "run", progress=False)
    x = trainer.data.get_batch(torch.arange(256)).x
    real_fine = laplacian_pyramid(x, 3)[0][2].pow(2).mean().sqrt()

    def probe(g: torch.nn.Module) -> tuple[float, float]:
        with torch.no_grad():
            s = g(g.sample_latent(256, generator=torch.Generator().manual_seed(5))).clamp(-1, 1)
        w1 = (s.flatten().sort().values - x.flatten().sort().values).abs().mean().item()  # 1-D Wasserstein
        fine = laplacian_pyramid(s, 3)[0][2].pow(2).mean().sqrt() / real_fine
        return w1, fine.item()

    w1_0, fine_0 = probe(trainer.model.generator.eval())
    trainer.model.generator.train()
    batches = trainer._batches()
    for _ in range(250):
        trainer.train_step(batches)
        trainer.step += 1
    w1, fine = probe(trainer.ema.average)
    assert w1_0 > 0.9 and fine_0 < 0.01, (w1_0, fine_0)
    assert w1 < 0.4, (w1_0, w1)
    assert fine > 0.03, (fine_0, fine)
