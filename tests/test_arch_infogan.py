"""InfoGAN: structured latents, the Q head, the mutual-information terms, and latent traversal."""
from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.build import PluginSpec
from ganzoo.cli import cli, main
from ganzoo.contracts import Batch, DInput, DOut, StepContext
from ganzoo.data.toy import toy_centers
from ganzoo.errors import ConfigError
from ganzoo.loading import load_run
from ganzoo.traversal import traverse

SMALL = {"g_width": 8, "d_width": 8}


@pytest.mark.parametrize("size", [28, 32, 64])
def test_image_shapes_and_q_head(size: int) -> None:
    model = ganzoo.create("infogan", channels=1, image_size=size, data_dim=size * size, **SMALL)
    g = model.generator
    assert (g.noise_dim, g.categorical, g.continuous, g.latent_dim) == (62, (10,), 2, 74)  # the paper's MNIST latent
    z = g.sample_latent(4)
    x = g(z)
    assert x.shape == (4, 1, size, size)
    out = model.discriminator(DInput(x))
    assert out.score.shape == (4,)
    assert out.extras["q_logits"].shape == (4, 10) and out.extras["q_mu"].shape == (4, 2)
    assert "q_logvar" not in out.extras  # fixed unit variance by default


def test_defaults_build_the_papers_mnist_network() -> None:
    model = ganzoo.create("infogan")
    assert model.generator(model.generator.sample_latent(2)).shape == (2, 1, 28, 28)
    fc = model.generator.body.fc
    assert (fc[0].out_features, fc[3].out_features) == (1024, 7 * 7 * 128)


def test_latent_layout() -> None:
    g = ganzoo.create("infogan", data_dim=2, noise_dim=3, categorical=(4, 5), continuous=2, hidden=(8,)).generator
    z = g.sample_latent(500, generator=torch.Generator().manual_seed(0))
    assert z.shape == (500, 3 + 4 + 5 + 2)
    codes = g.latent_codes()
    assert [(c.name, c.kind, c.start, c.size) for c in codes] == [
        ("c1", "categorical", 3, 4), ("c2", "categorical", 7, 5), ("c3", "continuous", 12, 1), ("c4", "continuous", 13, 1),
        ("z1", "continuous", 0, 1), ("z2", "continuous", 1, 1), ("z3", "continuous", 2, 1),  # the noise, after the codes
    ]
    for c in codes[:2]:
        block = z[:, c.start : c.start + c.size]
        assert torch.equal(block.sum(1), torch.ones(500)) and set(block.unique().tolist()) == {0.0, 1.0}
        assert len(block.argmax(1).unique()) == c.size  # every category is drawn
    cont = z[:, 12:]
    assert cont.min() >= -1 and cont.max() <= 1 and cont.min() < -0.9 and cont.max() > 0.9
    # any other generator: every noise value is a code, z1..z{latent_dim}
    dcgan_codes = ganzoo.create("dcgan").generator.latent_codes()
    assert [(c.name, c.kind, c.start, c.size) for c in dcgan_codes] == [(f"z{i + 1}", "continuous", i, 1) for i in range(100)]


def test_bad_codes_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="at least 2 categories"):
        ganzoo.create("infogan", data_dim=2, categorical=(1,))
    with pytest.raises(ConfigError, match="at least one code"):
        ganzoo.create("infogan", data_dim=2, categorical=(), continuous=0)


def test_mutual_information_terms_match_the_formulas() -> None:
    model = ganzoo.create("infogan", data_dim=2, noise_dim=2, categorical=(3,), continuous=2, hidden=(8,))
    z = model.generator.sample_latent(6, generator=torch.Generator().manual_seed(0))
    logits, mu = torch.randn(6, 3), torch.randn(6, 2)
    terms = model.mutual_information(z, DOut(torch.zeros(6), extras={"q_logits": logits, "q_mu": mu}))
    torch.testing.assert_close(terms["mi_cat"], F.cross_entropy(logits, z[:, 2:5].argmax(1)))
    torch.testing.assert_close(terms["mi_cont"], 0.1 * (0.5 * (z[:, 5:] - mu) ** 2).sum(1).mean())
    # learned variance: the Gaussian negative log-likelihood (up to a constant)
    learned = ganzoo.create("infogan", data_dim=2, noise_dim=2, categorical=(3,), continuous=2, hidden=(8,), q_variance="learned")
    logvar = torch.randn(6, 2)
    terms = learned.mutual_information(z, DOut(torch.zeros(6), extras={"q_logits": logits, "q_mu": mu, "q_logvar": logvar}))
    nll = -torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z[:, 5:]) - 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(terms["mi_cont"], 0.1 * nll.sum(1).mean())
    # both players get the same bound (Q on D's side, G on its own)
    views = model.views(Batch(torch.zeros(6, 2)), z)
    out = model.critic(views.fake)
    d_terms, g_terms = model.terms("d", StepContext(model, views, None, out, 0)), model.terms("g", StepContext(model, views, None, out, 0))
    assert d_terms.keys() == g_terms.keys() == {"mi_cat", "mi_cont"}


def test_the_code_becomes_predictive_of_the_mode_on_the_ring(tmp_path) -> None:
    """Seeded, 200 steps on toy-ring with one 8-way code: the MI term falls and each category of c1
    picks out one mode (predicting the mode from c1 beats predicting it without c1)."""
    nd = 2
    ganzoo.train(
        PluginSpec("infogan", {"hidden": (64, 64), "noise_dim": nd, "categorical": (8,), "continuous": 0}),
        "non-saturating", PluginSpec("toy-ring", {"n": 4096}), tmp_path / "run", steps=200, batch_size=64,
        lr_g=2e-3, lr_d=2e-3, seed=0, ema=None, device="cpu", progress=False, log_every=10,
        sample_every=10**6, checkpoint_every=10**6,
    )
    logs = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    mi = [rec["g_mi_cat"] for rec in logs]
    assert sum(mi[-3:]) / 3 < 0.25 * sum(mi[:2]) / 2, mi  # starts near log 8 = 2.08

    G = load_run(tmp_path / "run", ema=False)
    code = torch.arange(8).repeat(100)
    z = G.latents(len(code), seed=1)
    z[:, nd : nd + 8] = F.one_hot(code, 8).float()
    mode = torch.cdist(G(z), toy_centers("toy-ring")).argmin(1)
    joint = torch.zeros(8, 8).index_put_((code, mode), torch.ones(len(code)), accumulate=True)
    with_code = float(joint.max(1).values.sum()) / len(code)
    without_code = float(joint.sum(0).max()) / len(code)
    assert with_code > 0.8 and with_code - without_code > 0.4, joint


# --- traversal -----------------------------------------------------------------------------------
def small_infogan():
    torch.manual_seed(0)
    return ganzoo.create("infogan", channels=1, image_size=28, data_dim=784, **SMALL).generator


def test_traverse_continuous_code_varies_only_that_code() -> None:
    g = small_infogan()
    seen = []
    hook = g.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    grid = traverse(g, "c2", steps=5, rows=3, seed=4)
    hook.remove()
    assert grid.shape == (15, 1, 28, 28)
    z = seen[0].view(3, 5, -1)
    c2 = g.latent_codes()[1].start
    torch.testing.assert_close(z[:, :, c2], torch.linspace(-1, 1, 5).expand(3, 5))
    others = torch.cat([z[:, :, :c2], z[:, :, c2 + 1 :]], dim=2)
    assert torch.equal(others, others[:, :1].expand_as(others))  # everything else fixed along a row
    assert not torch.equal(z[0, 0], z[1, 0])  # rows are different latents
    images = grid.view(3, 5, -1)
    assert ((images[:, 1:] - images[:, :-1]).abs().amax(2) > 1e-6).all()  # each step changes the image
    # the same latent with the code held still gives the same image in every column
    held = traverse(g, "c2", steps=4, rows=2, seed=4, low=0.3, high=0.3).view(2, 4, -1)
    assert torch.equal(held, held[:, :1].expand_as(held))
    assert torch.equal(traverse(g, 2, steps=5, rows=3, seed=4), grid)  # code by number, deterministic


def test_traverse_categorical_code_cycles_categories() -> None:
    g = small_infogan()
    seen = []
    hook = g.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    grid = traverse(g, "c1", steps=12, rows=2)
    hook.remove()
    assert grid.shape == (24, 1, 28, 28)
    z = seen[0].view(2, 12, -1)
    assert z[:, :, 62:72].argmax(2).tolist() == [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]] * 2
    images = grid.view(2, 12, -1)
    assert torch.equal(images[:, 0], images[:, 10])  # category 0 again: the same image
    assert not torch.equal(images[:, 0], images[:, 1])


def test_traverse_refuses_what_it_cannot_sweep() -> None:
    with pytest.raises(ConfigError, match=r"'c1'; this generator has z1\.\.z100$"):
        traverse(ganzoo.create("dcgan").generator, "c1")
    with pytest.raises(ConfigError, match=r"c1, c2, c3, z1\.\.z62$"):
        traverse(small_infogan(), "c9")


@pytest.fixture(scope="module")
def infogan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("infogan") / "run"
    ganzoo.train(
        PluginSpec("infogan", dict(SMALL)), "non-saturating",
        PluginSpec("fake", {"n": 16, "image_size": 28, "channels": 1}), out,
        steps=2, batch_size=4, device="cpu", progress=False, sample_every=2, checkpoint_every=2,
    )
    return out


def test_pretrained_generator_traverses(infogan_run) -> None:
    G = load_run(infogan_run)
    grid = G.traverse("c3", steps=6, rows=2)
    assert grid.shape == (12, 1, 28, 28)
    assert torch.equal(grid, ganzoo.traverse(G, "c3", steps=6, rows=2))  # the public name is the function
    assert callable(ganzoo.traverse) and ganzoo.traverse is traverse


def test_cli_traverse_writes_a_png(infogan_run, tmp_path) -> None:
    png = tmp_path / "c2.png"
    result = CliRunner().invoke(cli, ["traverse", str(infogan_run), "--code", "c2", "--steps", "5", "--rows", "3", "--out", str(png)])
    assert result.exit_code == 0, result.output
    with Image.open(png) as img:
        assert img.size == (5 * 30 + 2, 3 * 30 + 2)  # 28 px tiles with 2 px padding


def test_cli_traverse_of_a_code_a_dcgan_lacks_is_a_one_line_error(tmp_path, capsys) -> None:
    run = tmp_path / "dcgan"
    ganzoo.train(
        PluginSpec("dcgan", {"g_width": 8, "d_width": 8}), "non-saturating",
        PluginSpec("fake", {"n": 8, "image_size": 28, "channels": 1}), run,
        steps=1, batch_size=4, device="cpu", progress=False,
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["traverse", str(run), "--out", str(tmp_path / "x.png")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'c1'" in err and "z1..z100" in err, err  # c1, the default, is InfoGAN's
    assert not (tmp_path / "x.png").exists()
