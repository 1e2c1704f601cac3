"""PacGAN packing and the unrolled GAN: packed shapes, widened input layers that survive save ->
rebuild -> load, penalties on packs, the engine's look-ahead (D advanced for the generator step,
then restored exactly), step-exact resume, refusals, and short runs through ganzoo.train and the CLI."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import registry
from ganzoo.api import create
from ganzoo.build import PluginSpec, build_model, instantiate
from ganzoo.cli import main
from ganzoo.contracts import DInput
from ganzoo.engine import checkpoint
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import ConfigError, IncompatibleError
from ganzoo.loading import load_run
from ganzoo.losses.penalties import gradient_penalty
from ganzoo.tricks.packing import Pack, PackedInput, pack
from ganzoo.tricks.unrolling import Unroll

TOY = PluginSpec("toy-ring", {"n": 64})
SMALL_MLP = PluginSpec("mlp", {"g_hidden": (16,), "d_hidden": (16,), "latent_dim": 4})
SMALL_DCGAN = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
FAKE = PluginSpec("fake", {"image_size": 32, "channels": 1, "n": 32})


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _trainer(run, tricks, *, arch=SMALL_MLP, dataset=TOY, loss="non-saturating", steps=1, **settings) -> Trainer:
    values = dict(batch_size=8, device="cpu", sample_every=10**6, log_every=1, seed=1)
    values.update(settings)
    config = TrainConfig(arch=arch, loss=PluginSpec(loss), dataset=dataset, steps=steps,
                         tricks=[t if isinstance(t, PluginSpec) else PluginSpec(t) for t in tricks], **values)
    return Trainer(config, run, progress=False)


def build(arch: str, tricks: list, **kwargs):
    """The architecture with tricks given as names or PluginSpecs (``create`` takes names only)."""
    specs = [t if isinstance(t, PluginSpec) else PluginSpec(t) for t in tricks]
    return build_model(PluginSpec(arch, kwargs), specs, None)[0]


def _input_layers(model) -> dict[str, PackedInput]:
    return {name: m for name, m in model.discriminator.named_modules() if isinstance(m, PackedInput)}


# --------------------------------------------------------------------------- pack: shapes and layers


def test_pack_concatenates_consecutive_samples_along_channels() -> None:
    x = torch.arange(6 * 2 * 3 * 3, dtype=torch.float32).view(6, 2, 3, 3)
    packed = pack(x, 3)
    assert packed.shape == (2, 6, 3, 3)
    assert torch.equal(packed[1], torch.cat([x[3], x[4], x[5]]))
    points = torch.randn(8, 2)
    assert torch.equal(pack(points, 2)[3], torch.cat([points[6], points[7]]))
    with pytest.raises(ConfigError, match="batch of 8.*divisible by 3"):
        pack(points, 3)


@pytest.mark.parametrize("arch,kwargs,widened", [
    ("mlp", dict(data_dim=2, g_hidden=(8,), d_hidden=(8,), latent_dim=4), {"body.0": (2, 6)}),
    ("dcgan", dict(image_size=32, g_width=8, d_width=8, latent_dim=16), {"body.0": (1, 3)}),
    ("resnet", dict(image_size=32, channels=1, g_width=8, d_width=8, latent_dim=16), {"blocks.0.conv1": (1, 3), "blocks.0.shortcut": (1, 3)}),
])
def test_pack_widens_every_layer_that_reads_the_input(arch, kwargs, widened) -> None:
    torch.manual_seed(0)
    model = build(arch, [PluginSpec("pack", {"m": 3})], **kwargs).eval()
    layers = _input_layers(model)
    assert {name: (layer.width, _width(layer.layer)) for name, layer in layers.items()} == widened
    shape = (12, 2) if arch == "mlp" else (12, 1, 32, 32)
    x = torch.randn(shape)
    with torch.no_grad():
        plain = model.critic(DInput(x)).score  # plain samples: D packs them itself
        packed = model.critic(Pack(3).d_input(DInput(x), 0)).score  # what the engine feeds it
    assert plain.shape == (4,) and torch.allclose(plain, packed)
    with torch.no_grad():  # a pack is judged as a whole: changing one member changes its verdict only
        other = x.clone()
        other[4] = torch.randn(shape[1:])
        changed = model.critic(DInput(other)).score
    assert not torch.allclose(changed[1], plain[1]) and torch.allclose(changed[[0, 2, 3]], plain[[0, 2, 3]])


def _width(layer: nn.Module) -> int:
    return layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels


def test_widened_weights_keep_the_layers_own_init_and_scale() -> None:
    torch.manual_seed(0)
    plain = create("dcgan", image_size=32, g_width=8, d_width=8, latent_dim=16)
    torch.manual_seed(0)
    packed = build("dcgan", [PluginSpec("pack", {"m": 4})], image_size=32, g_width=8, d_width=8, latent_dim=16)
    w = plain.discriminator.body[0].weight.detach()
    wide = packed.discriminator.body[0].layer.weight.detach() * 2  # undo the 1/sqrt(4)
    assert wide.shape == (w.shape[0], 4, *w.shape[2:])
    assert torch.equal(wide[:, :1], w)  # the first member's weights are the original ones
    for i in range(1, 4):  # the others are the same values, shuffled
        assert torch.equal(wide[:, i : i + 1].flatten().sort().values, w.flatten().sort().values)
        assert not torch.equal(wide[:, i : i + 1], w)


def test_spectral_norm_on_the_input_layer_is_kept() -> None:
    for tricks in (["spectral-norm", "pack"], ["pack", "spectral-norm"]):
        model = build("dcgan", tricks, image_size=32, g_width=8, d_width=8, latent_dim=16)
        layer = model.discriminator.body[0].layer
        assert torch.nn.utils.parametrize.is_parametrized(layer, "weight") and layer.in_channels == 2


def test_pack_round_trip_through_a_saved_run(tmp_path) -> None:
    trainer = _trainer(tmp_path, [PluginSpec("pack", {"m": 4})], steps=2, checkpoint_every=2)
    trainer.fit()
    loaded = load_run(tmp_path, ema=False, discriminator=True)
    model = trainer.model.eval()
    x = torch.randn(8, 2)
    with torch.no_grad():
        assert torch.equal(loaded.discriminator(DInput(x)).score, model.discriminator(DInput(x)).score)
        z = torch.randn(5, 4)
        assert torch.equal(loaded(z), model.generator(z))
    assert set(_input_layers(loaded.model)) == {"body.0"}


def test_resnet_with_packing_rebuilds_into_the_same_shapes() -> None:
    args = dict(image_size=32, channels=1, g_width=8, d_width=8, latent_dim=16)
    trained = build("resnet", ["pack"], **args)
    rebuilt = build("resnet", ["pack"], **args)
    rebuilt.load_state_dict(trained.state_dict(), strict=True)
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(rebuilt.eval().critic(DInput(x)).score, trained.eval().critic(DInput(x)).score)


# --------------------------------------------------------------------------- pack: training and penalties


def test_the_engine_feeds_d_packs(tmp_path) -> None:
    trainer = _trainer(tmp_path, [PluginSpec("pack", {"m": 4})])
    batch = trainer.data.get_batch(torch.arange(8))
    views = trainer._views(batch)
    assert views.real.x.shape == (2, 8) and views.fake.x.shape == (2, 8)
    result = trainer.fit()
    assert result.step == 1 and all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())


def test_gradient_penalty_is_taken_on_whole_packs() -> None:
    torch.manual_seed(0)
    model = build("mlp", [PluginSpec("pack", {"m": 2})], data_dim=2, g_hidden=(8,), d_hidden=(8,), latent_dim=4)
    real, fake = Pack(2).d_input(DInput(torch.randn(8, 2)), 0), Pack(2).d_input(DInput(torch.randn(8, 2) + 2), 0)
    torch.manual_seed(1)
    penalty = gradient_penalty(model, real, fake, weight=1.0)
    # By hand: one mixing weight per pack, the gradient norm over the whole packed input.
    torch.manual_seed(1)
    eps = torch.rand(4, 1)
    x_hat = (real.x + eps * (fake.x - real.x)).requires_grad_(True)
    grad, = torch.autograd.grad(model.critic(DInput(x_hat)).score.sum(), x_hat)
    expected = ((grad.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    assert torch.allclose(penalty, expected)


@pytest.mark.parametrize("loss,trick,term", [
    ("wgan-gp", None, "d_penalty"), ("dragan", None, "d_penalty"), ("non-saturating", "r1", "d_r1"),
])
def test_penalties_train_with_packing(tmp_path, loss, trick, term) -> None:
    tricks = [PluginSpec("pack", {"m": 2})] + ([PluginSpec(trick)] if trick else [])
    result = _trainer(tmp_path, tricks, loss=loss, n_critic=1).fit()
    assert term in result.last_losses and result.last_losses[term] > 0
    assert all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())


# --------------------------------------------------------------------------- pack: refusals


@pytest.mark.parametrize("arch,kwargs,reason", [
    ("cgan", dict(image_size=32, num_classes=10), "CGAN also reads class labels"),
    ("bigan", dict(image_size=32), "BiGAN also reads latents"),
    ("infogan", dict(image_size=32), "InfoGAN has extra heads"),
    ("lapgan", dict(image_size=32), "LAPGAN reads several tensors"),
])
def test_pack_refuses_discriminators_that_read_more_than_samples(arch, kwargs, reason) -> None:
    with pytest.raises(IncompatibleError, match=f"trick 'pack'.*{reason}"):
        build(arch, ["pack"], **kwargs)


def test_pack_refuses_bad_arguments_and_orders() -> None:
    with pytest.raises(ConfigError, match="trick 'pack'.*m must be >= 2"):
        instantiate(registry.tricks, PluginSpec("pack", {"m": 1}))
    with pytest.raises(IncompatibleError, match="listed twice"):
        build("mlp", ["pack", "pack"], data_dim=2)
    with pytest.raises(IncompatibleError, match="judges groups of 3 samples, but got 2.*minibatch-stddev"):
        build("mlp", [PluginSpec("pack", {"m": 3}), "minibatch-stddev"], data_dim=2)
    build("mlp", ["minibatch-stddev", PluginSpec("pack", {"m": 3})], data_dim=2)  # the order that works


def test_pack_refuses_a_batch_size_it_cannot_divide(tmp_path) -> None:
    trainer = _trainer(tmp_path, [PluginSpec("pack", {"m": 3})])
    with pytest.raises(ConfigError, match="batch of 8; use a --batch-size divisible by 3"):
        trainer.fit()


# --------------------------------------------------------------------------- unroll: the look-ahead


def _state(model, trainer) -> dict[str, torch.Tensor]:
    state = {f"d.{k}": v.detach().clone() for k, v in model.discriminator.state_dict().items()}
    for i, p in enumerate(trainer.opt_d.state.values()):
        state.update({f"opt.{i}.{k}": v.clone() for k, v in p.items()})
    return state


def test_generator_steps_against_an_advanced_d_which_is_then_restored(tmp_path, monkeypatch) -> None:
    trainer = _trainer(tmp_path, [PluginSpec("unroll", {"k": 2}), "adaptive-l2"], steps=3)
    trainer.fit()  # a few real steps first, so D's optimizer has state to restore
    seen: dict[str, dict[str, torch.Tensor]] = {}
    discriminator_step, generator_step = trainer.discriminator_step, trainer.generator_step

    def spy_d(fetched):
        result = discriminator_step(fetched)
        seen["after D step"] = _state(trainer.model, trainer) | {"dominance": trainer.tricks[1].dominance.clone()}
        return result

    def spy_g(views):
        seen["in G step"] = _state(trainer.model, trainer)
        return generator_step(views)

    monkeypatch.setattr(trainer, "discriminator_step", spy_d)
    monkeypatch.setattr(trainer, "generator_step", spy_g)
    g_before = [p.detach().clone() for p in trainer.g_params]
    position = trainer.batch_pos
    trainer.train_step(trainer._batches())
    after = _state(trainer.model, trainer) | {"dominance": trainer.tricks[1].dominance.clone()}
    stored, lent = seen["after D step"], seen["in G step"]
    assert any(not torch.equal(stored[k], lent[k]) for k in lent if k.startswith("d."))  # G saw another D
    assert after.keys() == stored.keys()
    assert all(torch.equal(after[k], stored[k]) for k in stored), [k for k in stored if not torch.equal(after[k], stored[k])]
    assert any(not torch.equal(a, p) for a, p in zip(g_before, trainer.g_params))  # G itself did step
    assert trainer.batch_pos - position == 1 + 2  # the look-ahead drew k fresh real batches
    assert trainer.lookahead == 2 and trainer.images_per_step == 8 * 3


def test_unroll_and_pack_under_bf16_autocast(tmp_path) -> None:
    result = _trainer(tmp_path, [PluginSpec("pack", {"m": 2}), PluginSpec("unroll", {"k": 2})], steps=2, precision="bf16").fit()
    assert result.step == 2 and all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_look_ahead_uses_and_restores_ds_grad_scaler(tmp_path, monkeypatch) -> None:
    trainer = _trainer(tmp_path, [PluginSpec("pack", {"m": 2}), PluginSpec("unroll", {"k": 3})], arch=SMALL_DCGAN, dataset=FAKE,
                       steps=2, device="cuda", precision="fp16")
    trainer.fit()
    seen = {}
    discriminator_step = trainer.discriminator_step

    def spy(fetched):
        result = discriminator_step(fetched)
        seen["scaler"] = trainer.scaler_d.state_dict()
        return result

    monkeypatch.setattr(trainer, "discriminator_step", spy)
    logs, _ = trainer.train_step(trainer._batches())
    assert trainer.scaler_d.is_enabled() and trainer.scaler_d.state_dict() == seen["scaler"]
    assert all(torch.isfinite(v).all() for v in logs.values())


def test_without_unroll_nothing_is_lent(tmp_path) -> None:
    trainer = _trainer(tmp_path, [])
    assert trainer.lookahead == 0 and trainer.images_per_step == 8


def test_unroll_resumes_step_for_step(tmp_path) -> None:
    tricks = [PluginSpec("unroll", {"k": 2})]
    _trainer(tmp_path / "straight", tricks, steps=4, checkpoint_every=2).fit()
    _trainer(tmp_path / "resumed", tricks, steps=2, checkpoint_every=2).fit()
    config = _trainer(tmp_path / "other", tricks, steps=4, checkpoint_every=2).config
    Trainer(config, tmp_path / "resumed", resume=True, progress=False).fit()
    _, a, state_a = checkpoint.load(checkpoint.latest(tmp_path / "straight"))
    _, b, state_b = checkpoint.load(checkpoint.latest(tmp_path / "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (state_a["epoch"], state_a["batch_pos"]) == (state_b["epoch"], state_b["batch_pos"])


def test_unroll_refuses_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="trick 'unroll'.*k must be >= 1"):
        instantiate(registry.tricks, PluginSpec("unroll", {"k": 0}))
    assert Unroll(3).lookahead_steps() == 3


# --------------------------------------------------------------------------- both: short runs


def test_both_train_on_images_through_ganzoo_train(tmp_path) -> None:
    result = ganzoo.train(SMALL_DCGAN, "hinge", FAKE, tmp_path, steps=2, batch_size=8, device="cpu", progress=False,
                          tricks=[PluginSpec("pack", {"m": 2}), PluginSpec("unroll", {"k": 1})])
    assert result.step == 2
    config = json.loads((tmp_path / "config.json").read_text())
    assert [t["name"] for t in config["tricks"]] == ["pack", "unroll"]
    assert load_run(tmp_path).sample(3, seed=0).shape == (3, 1, 32, 32)


@pytest.mark.parametrize("trick", ["pack:m=2", "unroll:k=2"])
def test_cli_trains_with_each_trick(tmp_path, capsys, trick) -> None:
    run = tmp_path / "run"
    main(["train", "--arch", "mlp", "--arch-arg", "g_hidden=16", "--arch-arg", "d_hidden=16", "--loss", "non-saturating",
          "--dataset", "toy-ring", "--data-arg", "n=64", "--batch-size", "8", "--steps", "2", "--device", "cpu",
          "--trick", trick, "--out", str(run), "--quiet"])
    config = json.loads((run / "config.json").read_text())
    name, _, arg = trick.partition(":")
    key, _, value = arg.partition("=")
    assert config["tricks"][0]["name"] == name and config["tricks"][0]["args"][key] == int(value)
    assert checkpoint.latest(run).name == checkpoint.step_name(2)


def test_cli_bad_pack_settings_are_one_line_errors(tmp_path, capsys) -> None:
    base = ["train", "--arch", "mlp", "--loss", "non-saturating", "--dataset", "toy-ring", "--data-arg", "n=64", "--steps", "1",
            "--device", "cpu", "--quiet"]
    for extra, expected in [(["--trick", "pack:m=3", "--batch-size", "8"], "divisible by 3"),
                            (["--trick", "pack:m=1"], "m must be >= 2"), (["--trick", "unroll:k=0"], "k must be >= 1")]:
        with pytest.raises(SystemExit) as exit_:
            main([*base, *extra, "--out", str(tmp_path / extra[1])])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == 1 and len(err) == 1 and expected in err[0], err
