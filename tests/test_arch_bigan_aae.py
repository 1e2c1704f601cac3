"""BiGAN / ALI and the adversarial autoencoder: shapes, who trains the encoder, and that they learn."""
from __future__ import annotations

import pytest
import torch

from ganzoo import api
from ganzoo.build import PluginSpec
from ganzoo.contracts import Batch, DInput, StepContext
from ganzoo.data.toy import sample_toy, toy_centers
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import ConfigError
from ganzoo.loading import load_run
from ganzoo.pretrained import PretrainedGenerator

from conftest import Shapes16

SMALL_BIGAN = {"g_width": 8, "e_width": 8, "d_width": 8, "d_hidden": 32, "latent_dim": 16}
SMALL_AAE = {"hidden": (512, 512), "d_hidden": (256, 256), "latent_dim": 4}


@pytest.fixture
def shapes(shapes16):
    return shapes16


def _trainer(tmp_path, arch: str, args: dict, dataset: PluginSpec, loss: str = "non-saturating", **settings) -> Trainer:
    base = dict(steps=1, batch_size=8, seed=0, ema=None, sample_every=10**6, checkpoint_every=10**6, log_every=10**6)
    config = TrainConfig(arch=PluginSpec(arch, args), loss=PluginSpec(loss), dataset=dataset, **{**base, **settings})
    return Trainer(config, tmp_path / "run", progress=False)


def _copy(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Trainable weights only: batch-norm statistics move whenever a network runs."""
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


# --- BiGAN / ALI ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [28, 32, 64])
def test_bigan_conv_shapes(size: int) -> None:
    m = api.create("bigan", channels=3, image_size=size, **SMALL_BIGAN)
    x = torch.rand(4, 3, size, size) * 2 - 1
    z = m.sample_latent(4)
    views = m.views(Batch(x), z)
    assert views.real_depends_on_generator
    assert views.real.x is x and views.real.z.shape == (4, 16)
    assert views.fake.x.shape == x.shape and views.fake.z is z
    assert m.critic(views.real).score.shape == (4,)
    assert m.encode(x).shape == (4, 16)
    assert "encoder" in m.provides


def test_bigan_points_and_gaussian_encoder() -> None:
    m = api.create("bigan", data_dim=2, latent_dim=3, mlp_hidden=(16,), d_hidden=16, encoder="gaussian")
    x = torch.randn(5, 2)
    assert m.generator(m.sample_latent(5)).shape == (5, 2)
    # encode() is the posterior mean; the real view samples from q(z|x).
    torch.testing.assert_close(m.encode(x), m.encode(x), rtol=0, atol=0)
    assert not torch.equal(m.views(Batch(x), m.sample_latent(5)).real.z, m.encode(x))
    with pytest.raises(ValueError, match="pairs"):
        m.critic(DInput(x))


def test_bigan_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="data_dim"):
        api.create("bigan", channels=1, image_size=28, data_dim=100)
    with pytest.raises(ConfigError, match="net=conv"):
        api.create("bigan", data_dim=2, net="conv")


def test_bigan_generator_step_trains_the_encoder(tmp_path) -> None:
    trainer = _trainer(tmp_path, "bigan", SMALL_BIGAN, PluginSpec("fake", {"n": 16, "image_size": 28}))
    enc, gen = trainer.model.encoder, trainer.model.generator
    before_e, before_g = _copy(enc), _copy(gen)
    trainer.train_step(trainer._batches())
    assert _changed(before_e, enc) and _changed(before_g, gen)


def test_bigan_encoder_is_untrained_without_the_real_side(tmp_path) -> None:
    """The counterfactual of the test above: if the engine ignored real_depends_on_generator, the
    generator step would never score (x, E(x)) and E would not move."""
    trainer = _trainer(tmp_path, "bigan", SMALL_BIGAN, PluginSpec("fake", {"n": 16, "image_size": 28}))
    views = trainer.model.views

    def flag_dropped(batch, z):
        out = views(batch, z)
        out.real_depends_on_generator = False
        return out

    trainer.model.views = flag_dropped
    before = _copy(trainer.model.encoder)
    trainer.train_step(trainer._batches())
    assert not _changed(before, trainer.model.encoder)


def test_ali_learns_to_invert_the_generator_on_toy_ring(tmp_path) -> None:
    """After 300 steps on 8 Gaussians, G(E(x)) lands in x's own mode, and the modes' latents
    spread apart; at init the reconstructions all fall near one place."""
    args = {"latent_dim": 2, "mlp_hidden": (128, 128), "d_hidden": 128, "encoder": "gaussian"}
    trainer = _trainer(tmp_path, "bigan", args, PluginSpec("toy-ring", {"n": 2048}), steps=300, batch_size=64)
    x, modes = sample_toy("toy-ring", 512, torch.Generator().manual_seed(1))
    centers = toy_centers("toy-ring")

    def probe() -> tuple[float, float]:
        m = trainer.model.eval()
        with torch.no_grad():
            codes = m.encode(x)
            same_mode = (torch.cdist(m.generator(codes), centers).argmin(1) == modes).float().mean().item()
            means = torch.stack([codes[modes == k].mean(0) for k in range(len(centers))])
            spread = torch.pdist(means).mean().item()
        m.train()
        return same_mode, spread

    same0, spread0 = probe()
    batches = trainer._batches()
    for _ in range(300):
        trainer.train_step(batches)
        trainer.step += 1
    same, spread = probe()
    assert same0 < 0.3, same0
    assert same > 0.8, (same0, same)
    assert spread > 3 * spread0, (spread0, spread)


# --- adversarial autoencoder ------------------------------------------------------------------

def test_aae_views_judge_latents() -> None:
    m = api.create("aae", channels=1, image_size=16, **SMALL_AAE)
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    z = m.sample_latent(6)
    views = m.views(Batch(x), z)
    assert views.real.x is z  # the prior sample the engine drew, so its RNG stays in charge
    torch.testing.assert_close(views.fake.x, m.encode(x))
    assert not views.real_depends_on_generator
    assert m.critic(views.fake).score.shape == (6,)
    out = m.critic(views.fake)
    assert m.terms("d", StepContext(m, views, None, out, 0)) == {}
    recon = m.terms("g", StepContext(m, views, None, out, 0))["recon"]
    torch.testing.assert_close(recon, 10.0 * ((m.generator(views.fake.x) - x) ** 2).mean())
    assert m.generator(z).shape == x.shape


def test_aae_bce_and_mixture_prior() -> None:
    m = api.create("aae", channels=1, image_size=16, recon_loss="bce", recon_weight=1.0, prior="mixture", **SMALL_AAE)
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    views = m.views(Batch(x), m.sample_latent(6))
    recon = m.terms("g", StepContext(m, views, None, m.critic(views.fake), 0))["recon"]
    p, t = (m.generator(views.fake.x) + 1) / 2, (x + 1) / 2
    torch.testing.assert_close(recon, torch.nn.functional.binary_cross_entropy(p, t))
    z = m.sample_latent(4000, generator=torch.Generator().manual_seed(0))
    radius = z[:, :2].norm(dim=1)
    assert abs(radius.mean().item() - 4.0) < 0.2  # components on a circle of radius 4
    assert abs(z[:, 2:].std().item() - 0.5) < 0.05
    with pytest.raises(ConfigError, match="latent_dim"):
        api.create("aae", channels=1, image_size=16, prior="mixture", latent_dim=1)


def test_aae_encoder_is_trained_adversarially_alone(tmp_path, shapes) -> None:
    """With no reconstruction term, the G step still moves the encoder (through D on E(x)), and
    the decoder, which D never sees, stays put."""
    trainer = _trainer(tmp_path, "aae", {**SMALL_AAE, "recon_weight": 0.0}, PluginSpec(shapes))
    before_e, before_d = _copy(trainer.model.encoder), _copy(trainer.model.generator)
    trainer.train_step(trainer._batches())
    assert _changed(before_e, trainer.model.encoder)
    assert not _changed(before_d, trainer.model.generator)


def test_aae_learns_to_reconstruct_and_match_the_prior(tmp_path, shapes) -> None:
    trainer = _trainer(tmp_path, "aae", SMALL_AAE, PluginSpec(shapes), steps=60, batch_size=32)
    x = trainer.data.get_batch(torch.arange(256)).x

    def probe() -> tuple[float, float]:
        m = trainer.model.eval()
        with torch.no_grad():
            codes = m.encode(x)
            error = ((m.generator(codes) - x) ** 2).mean().item()
        m.train()
        # distance of the codes' moments from N(0, I)'s
        return error, (codes.mean(0).abs().mean() + (codes.std(0) - 1).abs().mean()).item()

    error0, gap0 = probe()
    batches = trainer._batches()
    for _ in range(60):
        trainer.train_step(batches)
        trainer.step += 1
    error, gap = probe()
    assert error < 0.3 * error0, (error0, error)
    assert gap < 0.7 * gap0, (gap0, gap)


# --- encode / reconstruct on a saved model ----------------------------------------------------

def test_pretrained_encode_and_reconstruct(tmp_path, shapes) -> None:
    config = TrainConfig(arch=PluginSpec("aae", SMALL_AAE), loss=PluginSpec("non-saturating"), dataset=PluginSpec(shapes),
                         steps=2, batch_size=8, sample_every=2, checkpoint_every=2, log_every=1)
    Trainer(config, tmp_path / "aae", progress=False).fit()
    g = load_run(tmp_path / "aae")
    x = Shapes16.dataset_class()(n=5).get_batch(torch.arange(5)).x
    z = g.encode(x)
    assert z.shape == (5, 4)
    with torch.no_grad():
        expected = g.model.encoder(x)  # eval mode: the loaded model does not stay in training mode
    torch.testing.assert_close(z, expected, rtol=0, atol=0)
    recon = g.reconstruct(x)
    assert recon.shape == x.shape
    torch.testing.assert_close(recon, g(z), rtol=0, atol=0)

    bare = PretrainedGenerator(g.generator, g.config)  # e.g. a generator-only download
    with pytest.raises(ConfigError, match="without its encoder"):
        bare.encode(x)


def test_encode_refuses_a_model_without_an_encoder(tmp_path, shapes) -> None:
    config = TrainConfig(arch=PluginSpec("mlp", {"g_hidden": (8,), "d_hidden": (8,)}), loss=PluginSpec("non-saturating"),
                         dataset=PluginSpec(shapes), steps=1, batch_size=8, sample_every=1, checkpoint_every=1, log_every=1)
    Trainer(config, tmp_path / "mlp", progress=False).fit()
    g = load_run(tmp_path / "mlp")
    with pytest.raises(ConfigError, match="'mlp' has no encoder"):
        g.encode(torch.zeros(1, 1, 16, 16))
    with pytest.raises(ConfigError, match="has no encoder"):
        g.reconstruct(torch.zeros(1, 1, 16, 16))
