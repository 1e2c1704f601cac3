"""Class-conditional architectures: cGAN (concatenation), projection cGAN, ACGAN."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.build import PluginSpec
from ganzoo.contracts import Batch, DInput, DOut, StepContext
from ganzoo.data.toy import toy_centers
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import ConfigError, IncompatibleError
from ganzoo.loading import load_run

CONDITIONAL = ["cgan", "cgan-projection", "acgan"]
SMALL = {"cgan": {"g_width": 8, "d_width": 8}, "cgan-projection": {"g_width": 16, "d_width": 16}, "acgan": {"g_width": 8, "d_width": 8}}


def build(arch: str, size: int = 32, channels: int = 1, num_classes: int = 10):
    args = dict(SMALL[arch], channels=channels, image_size=size, num_classes=num_classes)
    if arch == "cgan":
        args["data_dim"] = channels * size * size
    return ganzoo.create(arch, **args)


@pytest.mark.parametrize("arch", CONDITIONAL)
@pytest.mark.parametrize("size", [28, 32, 64])
def test_shapes(arch: str, size: int) -> None:
    model = build(arch, size, channels=3)
    g = model.generator
    assert g.num_classes == 10
    z, y = g.sample_latent(3), g.sample_labels(3)
    x = g(z, y)
    assert x.shape == (3, 3, size, size)
    out = model.discriminator(DInput(x, y=y))
    assert out.score.shape == (3,)


@pytest.mark.parametrize("arch", CONDITIONAL)
def test_labels_change_the_output(arch: str) -> None:
    g = build(arch).generator.eval()
    if arch == "cgan-projection":  # per-class BN scales start at exactly 1 (shifts 0): move them as training would
        for name, p in g.named_parameters():
            if name.endswith(("gamma.weight", "beta.weight")):
                p.data.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 0.1)
    z = g.sample_latent(4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = g(z, torch.full((4,), 2))
        b = g(z, torch.full((4,), 7))
        again = g(z, torch.full((4,), 2))
    assert torch.equal(a, again)
    assert (a - b).abs().max() > 1e-4
    with pytest.raises(ValueError, match="labels"):
        g(z)


@pytest.mark.parametrize("arch", ["cgan", "cgan-projection"])
def test_discriminator_reads_the_label(arch: str) -> None:
    model = build(arch)
    d = model.discriminator.eval()
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        s1 = d(DInput(x, y=torch.full((4,), 1))).score
        s2 = d(DInput(x, y=torch.full((4,), 5))).score
    assert (s1 - s2).abs().max() > 1e-6


def test_projection_score_is_psi_plus_inner_product() -> None:
    d = build("cgan-projection").discriminator.eval()
    x, y = torch.randn(5, 1, 32, 32), torch.tensor([0, 3, 3, 9, 1])
    with torch.no_grad():
        h = d.features(DInput(x, y=y))
        expected = d.linear(h).squeeze(1) + (d.embed(y) * h).sum(1)
        score = d(DInput(x, y=y)).score
    torch.testing.assert_close(score, expected)


def test_cgan_mlp_body_for_points() -> None:
    model = ganzoo.create("cgan", data_dim=2, num_classes=8, g_hidden=(16,), d_hidden=(16,))
    g = model.generator
    x = g(g.sample_latent(5), g.sample_labels(5))
    assert x.shape == (5, 2)
    with pytest.raises(ConfigError, match="body=conv"):
        ganzoo.create("cgan", data_dim=2, num_classes=8, body="conv")


def test_conditional_needs_a_labelled_dataset() -> None:
    from ganzoo.build import check_compatible
    from ganzoo.contracts import DataSpec

    unlabelled = DataSpec((1, 28, 28), 0, frozenset({"images"}))
    for arch in CONDITIONAL:
        with pytest.raises(IncompatibleError, match="labels"):
            check_compatible(arch, "non-saturating", [], unlabelled, "plain")


def test_acgan_aux_loss_on_both_sides() -> None:
    model = build("acgan")
    y_real, y_fake = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    real_logits, fake_logits = torch.randn(3, 10), torch.randn(3, 10)
    views = model.views(Batch(torch.zeros(3, 1, 32, 32), y_real), model.generator.sample_latent(3))
    views.fake.y = y_fake
    real = DOut(torch.zeros(3), extras={"class_logits": real_logits})
    fake = DOut(torch.zeros(3), extras={"class_logits": fake_logits})
    d = model.terms("d", StepContext(model, views, real, fake, 0))["class"]
    g = model.terms("g", StepContext(model, views, None, fake, 0))["class"]
    torch.testing.assert_close(d, F.cross_entropy(real_logits, y_real) + F.cross_entropy(fake_logits, y_fake))
    torch.testing.assert_close(g, F.cross_entropy(fake_logits, y_fake))


def test_acgan_classifier_learns_a_fixed_batch() -> None:
    """30 discriminator steps on the class loss alone fit a tiny fixed batch."""
    torch.manual_seed(0)
    model = build("acgan")
    x, y = torch.rand(8, 1, 32, 32) * 2 - 1, torch.arange(8) % 10
    views = model.views(Batch(x, y), model.generator.sample_latent(8, generator=torch.Generator().manual_seed(0)))
    views.fake = views.fake.detach()
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    losses = []
    for _ in range(30):
        loss = model.terms("d", StepContext(model, views, model.critic(views.real), model.critic(views.fake), 0))["class"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert 0 < losses[-1] < 0.5 * losses[0], losses
    with torch.no_grad():
        predicted = model.critic(views.real).extras["class_logits"].argmax(1)
    assert (predicted == y).float().mean() >= 0.75  # chance is 1/10


def test_projection_discriminator_learns_which_label_goes_with_which_image() -> None:
    """Trained to accept (shape, its label) and reject (shape, the next label), the projection
    discriminator separates them on every pair: the label really enters through <embed(y), h>."""
    torch.manual_seed(0)
    x = torch.full((4, 1, 8, 8), -1.0)  # horizontal bar, vertical bar, diagonal, hollow square
    x[0, :, 3:5, 2:6] = 1.0
    x[1, :, 2:6, 3:5] = 1.0
    x[2, :, torch.arange(2, 6), torch.arange(2, 6)] = 1.0
    x[3, :, 2:6, 2:6] = 1.0
    x[3, :, 3:5, 3:5] = -1.0
    y = torch.arange(4)
    wrong = (y + 1) % 4
    d = ganzoo.create("cgan-projection", channels=1, image_size=8, num_classes=4, g_width=16, d_width=16).discriminator
    opt = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(40):
        loss = F.softplus(-d(DInput(x, y=y)).score).mean() + F.softplus(d(DInput(x, y=wrong)).score).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        margin = d(DInput(x, y=y)).score - d(DInput(x, y=wrong)).score
    assert (margin > 1.0).all(), margin


@pytest.mark.parametrize("arch", CONDITIONAL)
def test_two_steps_then_sample_with_labels(arch: str, tmp_path) -> None:
    config = TrainConfig(
        arch=PluginSpec(arch, dict(SMALL[arch])), loss=PluginSpec("non-saturating"),
        dataset=PluginSpec("fake", {"n": 16, "image_size": 32, "channels": 1, "num_classes": 10}),
        steps=2, batch_size=4, n_critic=1, sample_every=2, checkpoint_every=2, device="cpu",
    )
    trainer = Trainer(config, tmp_path / "run", progress=False)
    # the trainer's sample grid shows every class: 10 classes, more than its 8 rows, so one per column
    assert trainer.grid_nrow == 10 and trainer.fixed_y[:10].tolist() == list(range(10)) == trainer.fixed_y[10:20].tolist()
    trainer.fit()
    G = load_run(tmp_path / "run")
    threes = G.sample(6, seed=0, labels=3)
    assert threes.shape == (6, 1, 32, 32)
    assert torch.equal(threes, G.sample(6, seed=0, labels=3))
    assert not torch.equal(threes, G.sample(6, seed=0, labels=4))
    with pytest.raises(ConfigError, match="labels must be in"):
        G.sample(2, labels=10)


def test_cgan_learns_the_label_to_mode_map_on_the_ring(tmp_path) -> None:
    """Seeded: labels are the ring's mode index; after 200 steps label k lands nearest centre k."""
    ganzoo.train(
        PluginSpec("cgan", {"g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8}), "non-saturating",
        PluginSpec("toy-ring", {"n": 4096}), tmp_path / "run", steps=200, batch_size=64, lr_g=2e-3, lr_d=2e-3,
        seed=0, ema=None, device="cpu", progress=False, sample_every=10**6, checkpoint_every=10**6,
    )
    G = load_run(tmp_path / "run", ema=False)
    y = torch.arange(8).repeat(32)
    nearest = torch.cdist(G.sample(len(y), seed=1, labels=y), toy_centers("toy-ring")).argmin(1)
    accuracy = float((nearest == y).float().mean())
    assert accuracy > 0.6, accuracy  # chance is 1/8
