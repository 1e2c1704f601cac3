"""Every trick attaches and trains through the real engine, does what it says, refuses pairs it
cannot serve, and (when it changes the networks) survives save -> rebuild -> load."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils import parametrize

from ganzoo import registry
from ganzoo.api import create
from ganzoo.build import PluginSpec, instantiate
from ganzoo.contracts import DInput, DOut, StepContext, Views
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import ConfigError, IncompatibleError
from ganzoo.losses.classic import NonSaturating
from ganzoo.losses.wasserstein import WassersteinGP
from ganzoo.loading import load_run
from ganzoo.tricks.features import MinibatchDiscrimination, MinibatchStddev
from ganzoo.tricks.gradient import GradientPenalty
from ganzoo.tricks.inputs import DiffAugment, InstanceNoise
from ganzoo.tricks.labels import LabelSmoothing
from ganzoo.tricks.matching import FeatureMatching
from ganzoo.tricks.packing import PackedInput
from ganzoo.tricks.weights import AdaptiveL2, HistoricalAveraging

SMALL_DCGAN = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
FAKE = PluginSpec("fake", {"image_size": 32, "channels": 1, "num_classes": 10, "n": 32})
SMALL_MLP = PluginSpec("mlp", {"g_hidden": (16,), "d_hidden": (16,), "latent_dim": 4})
STRUCTURAL = ("spectral-norm", "virtual-batch-norm", "minibatch-discrimination", "minibatch-stddev", "d-dropout", "pack")


def _trainer(tmp_path, tricks, *, arch=SMALL_DCGAN, loss="non-saturating", dataset=FAKE, steps=1, **settings) -> Trainer:
    torch.set_num_threads(1)
    config = TrainConfig(
        arch=arch, loss=PluginSpec(loss), dataset=dataset, tricks=[t if isinstance(t, PluginSpec) else PluginSpec(t) for t in tricks],
        steps=steps, batch_size=8, device="cpu", sample_every=10**6, log_every=1, **settings,
    )
    return Trainer(config, tmp_path, progress=False)


def _check_effect(name: str, trainer: Trainer, logs: dict[str, float]) -> None:
    model, trick = trainer.model, trainer.tricks[0]
    d_layers = [m for m in model.discriminator.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if name == "spectral-norm":
        assert d_layers and all(parametrize.is_parametrized(m, "weight") for m in d_layers)
    elif name == "virtual-batch-norm":
        assert not any(isinstance(m, _BatchNorm) for m in model.generator.modules())
        assert model.generator.vbn_reference.z.shape[0] == 64
    elif name in ("minibatch-discrimination", "minibatch-stddev", "d-dropout"):
        assert len(model.discriminator.feature_transforms) == 1
    elif name == "pack":  # the input layer takes pairs: 2 channels instead of 1
        assert isinstance(model.discriminator.body[0], PackedInput) and model.discriminator.body[0].layer.in_channels == 2
    elif name == "unroll":  # the generator step is lent D advanced 5 updates, on 5 more batches
        assert trainer.lookahead == 5 and trainer.images_per_step == 8 * 6
    elif name == "label-smoothing":
        assert trainer.loss.real_label == 0.9
    elif name in ("instance-noise", "diffaugment"):
        x = torch.zeros(4, 1, 32, 32)
        assert not torch.equal(trick.d_input(DInput(x), 0).x, x)
    else:
        key = {
            "gradient-penalty": "d_gradient_penalty",
            "r1": "d_r1",
            "feature-matching": "g_feature_matching",
            "historical-averaging": "g_historical_averaging",
            "adaptive-l2": "adaptive_l2_coef",
        }[name]
        assert key in logs, sorted(logs)


@pytest.mark.parametrize("name", sorted(registry.tricks.names()))
def test_trick_attaches_and_trains_one_step(tmp_path, name: str) -> None:
    trainer = _trainer(tmp_path, [name])
    result = trainer.fit()
    assert result.step == 1
    assert all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())
    if registry.tricks.entry(name).distribution == "ganzoo":
        _check_effect(name, trainer, result.last_losses)
    if name in STRUCTURAL:  # save -> rebuild (attach(model, None)) -> strict load -> same outputs
        loaded = load_run(tmp_path, ema=False, discriminator=True)
        model = trainer.model.eval()
        z = torch.randn(5, 16, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            assert torch.allclose(loaded(z), model.generator(z), atol=1e-6)
            x = torch.rand(6, 1, 32, 32) * 2 - 1
            assert torch.allclose(loaded.discriminator(DInput(x)).score, model.discriminator(DInput(x)).score, atol=1e-5)
        assert load_run(tmp_path).sample(2, seed=0).shape == (2, 1, 32, 32)  # the EMA weights load too


def test_every_trick_has_a_paper_and_a_summary() -> None:
    for entry in registry.tricks.entries():
        cls = registry.tricks.get(entry.name)
        assert cls.paper and entry.summary, entry.name


# --------------------------------------------------------------------------- refusals


def test_label_smoothing_is_refused_for_a_loss_without_labels(tmp_path) -> None:
    with pytest.raises(IncompatibleError, match="label-smoothing.*wasserstein"):
        _trainer(tmp_path, ["label-smoothing"], loss="wasserstein")


def test_diffaugment_is_refused_on_points(tmp_path) -> None:
    with pytest.raises(IncompatibleError, match="diffaugment.*toy-ring"):
        _trainer(tmp_path, ["diffaugment"], arch=SMALL_MLP, dataset=PluginSpec("toy-ring"))


def test_virtual_batch_norm_needs_batch_norm_in_the_generator() -> None:
    with pytest.raises(IncompatibleError, match="virtual-batch-norm.*MLPGAN"):
        create("mlp", data_dim=2, tricks=["virtual-batch-norm"])


def test_bad_trick_arguments_are_config_errors() -> None:
    for name, args in [("r1", {"interval": 0}), ("label-smoothing", {"real_label": 1.5}), ("diffaugment", {"policy": "rotate"}),
                       ("d-dropout", {"p": 1.0}), ("instance-noise", {"anneal_steps": 0})]:
        with pytest.raises(ConfigError, match=name):
            instantiate(registry.tricks, PluginSpec(name, args))


# --------------------------------------------------------------------------- behaviour


def test_virtual_batch_norm_makes_each_sample_independent_of_its_batch() -> None:
    torch.manual_seed(0)
    plain = create("dcgan", image_size=32, g_width=8, d_width=8, latent_dim=16).train()
    torch.manual_seed(0)
    vbn = create("dcgan", image_size=32, g_width=8, d_width=8, latent_dim=16, tricks=["virtual-batch-norm"]).train()
    z = torch.randn(6, 16)
    with torch.no_grad():
        assert not torch.allclose(plain.generator(z)[:2], plain.generator(z[:2]), atol=1e-4)  # batch norm couples
        assert torch.allclose(vbn.generator(z)[:2], vbn.generator(z[:2]), atol=1e-5)
        assert vbn.generator(z).shape == (6, 1, 32, 32)


def test_virtual_batch_norm_survives_the_ema_copy(tmp_path) -> None:
    trainer = _trainer(tmp_path, ["virtual-batch-norm"], ema=0.9)
    average = trainer.ema.average
    hooks = list(average._forward_pre_hooks.values()) + list(average._forward_hooks.values())
    assert hooks and all(h.__self__ is average.vbn_reference for h in hooks)


def _mlp_model(tricks):
    torch.manual_seed(0)
    return create("mlp", data_dim=2, g_hidden=(8,), d_hidden=(8,), latent_dim=4, tricks=tricks).eval()


@pytest.mark.parametrize("name", ["minibatch-discrimination", "minibatch-stddev"])
def test_minibatch_features_let_d_see_the_rest_of_the_batch(name: str) -> None:
    x = torch.randn(8, 2)
    others = torch.cat([x[:4], 5 * torch.randn(4, 2)])  # same first half, different company
    with_trick, without = _mlp_model([name]), _mlp_model([])
    with torch.no_grad():
        assert torch.allclose(without.critic(DInput(x)).score[:4], without.critic(DInput(others)).score[:4])
        assert not torch.allclose(with_trick.critic(DInput(x)).score[:4], with_trick.critic(DInput(others)).score[:4])
    layer_type = MinibatchDiscrimination if name == "minibatch-discrimination" else MinibatchStddev
    assert registry.tricks.get(name) is layer_type


def test_stddev_layer_uses_groups_that_divide_the_batch() -> None:
    model = _mlp_model(["minibatch-stddev"])
    layer = model.discriminator.feature_transforms[0]
    h = torch.randn(6, 8)  # 6 is not a multiple of the default group of 4: groups of 3
    assert layer(h).shape == h.shape
    same = torch.ones(4, 8)  # no variety: the injected term is the projection of ~0
    assert torch.allclose(layer(same), same + layer.project(torch.full((4, 1), 1e-4)), atol=1e-4)


def test_dropout_is_active_only_in_training() -> None:
    model = create("mlp", data_dim=2, d_hidden=(64,), tricks=["d-dropout"])
    x = DInput(torch.randn(16, 2))
    with torch.no_grad():
        model.train()
        assert not torch.equal(model.critic(x).score, model.critic(x).score)
        model.eval()
        assert torch.equal(model.critic(x).score, model.critic(x).score)
    assert isinstance(model.discriminator.feature_transforms[0], nn.Dropout)


def test_label_smoothing_sets_the_losss_real_target() -> None:
    loss = NonSaturating()
    real, fake = DOut(torch.tensor([4.0])), DOut(torch.tensor([-4.0]))
    before = float(loss.d_loss(real, fake))
    LabelSmoothing().attach(_mlp_model([]), loss)
    assert loss.real_label == 0.9 and float(loss.d_loss(real, fake)) > before + 0.3
    LabelSmoothing(0.7).attach(_mlp_model([]), None)  # rebuilding for sampling: nothing to do


def test_gradient_penalty_trick_matches_wgan_gp() -> None:
    model = _mlp_model([])
    views = Views(DInput(torch.randn(16, 2)), DInput(torch.randn(16, 2) + 2))
    ctx = StepContext(model, views, model.critic(views.real), model.critic(views.fake), 0)
    torch.manual_seed(5)
    a = GradientPenalty().terms("d", ctx)["gradient_penalty"]
    torch.manual_seed(5)
    b = WassersteinGP().terms("d", ctx)["penalty"]
    assert float(a.detach()) > 0 and torch.equal(a, b)


def test_feature_matching_compares_mean_features_and_trains_only_g() -> None:
    real = DOut(torch.zeros(4), features=torch.tensor([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0], [2.0, 2.0]], requires_grad=True))
    fake_features = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    ctx = StepContext(None, None, real, DOut(torch.zeros(4), features=fake_features), 0)  # type: ignore[arg-type]
    value = FeatureMatching(weight=0.5).terms("g", ctx)["feature_matching"]
    assert abs(float(value.detach()) - 0.5 * (2.0**2 + 2.0**2)) < 1e-6  # ||(2, 2) - (0, 0)||^2
    value.backward()
    assert real.features.grad is None and fake_features.grad is not None
    assert FeatureMatching.g_uses_real


def test_historical_averaging_keeps_a_running_mean_of_past_parameters() -> None:
    model = _mlp_model([])
    trick = HistoricalAveraging(weight=2.0)
    trick.attach(model, NonSaturating())
    w = model.discriminator.out.bias  # a single number, easy to follow
    history = [float(w.detach())]
    for value in (1.0, 4.0):
        with torch.no_grad():
            w.fill_(value)
        trick.end_step(StepContext(model, None, None, None, 0), {})  # type: ignore[arg-type]
        history.append(value)
    index = [i for i, p in enumerate(trick._params["d"]) if p is w][0]
    average = getattr(trick, f"d_average_{index}")
    assert abs(float(average) - sum(history) / 3) < 1e-6 and int(trick.count) == 3
    with torch.no_grad():  # now only this parameter differs from its average
        for i, p in enumerate(trick._params["d"]):
            if i != index:
                p.copy_(getattr(trick, f"d_average_{i}"))
    expected = 2.0 * (4.0 - sum(history) / 3) ** 2
    assert abs(float(trick.terms("d", None)["historical_averaging"].detach()) - expected) < 1e-5  # type: ignore[arg-type]


def test_historical_averaging_resumes_with_its_history(tmp_path) -> None:
    toy = PluginSpec("toy-ring", {"n": 256})
    _trainer(tmp_path, ["historical-averaging"], arch=SMALL_MLP, dataset=toy, steps=2, ema=None).fit()
    resumed = Trainer(
        TrainConfig(arch=SMALL_MLP, loss=PluginSpec("non-saturating"), dataset=toy, tricks=[PluginSpec("historical-averaging")],
                    steps=3, batch_size=8, device="cpu", sample_every=10**6, log_every=1, ema=None),
        tmp_path, resume=True, progress=False,
    )
    resumed.fit()
    assert int(resumed.tricks[0].count) == 4  # 1 + three steps, the first two from the checkpoint


def test_adaptive_l2_rises_while_d_dominates_and_falls_when_g_catches_up() -> None:
    model = _mlp_model([])
    trick = AdaptiveL2(initial=1e-3, rate=0.5, minimum=1e-4, maximum=2e-3)
    views = Views(DInput(torch.zeros(4, 2)), DInput(torch.zeros(4, 2)))

    def step(real: list[float], fake: list[float]) -> dict[str, float]:
        ctx = StepContext(model, views, DOut(torch.tensor(real)), DOut(torch.tensor(fake)), 0)
        penalty = trick.terms("d", ctx)["adaptive_l2"]
        l2 = sum(float(p.detach().pow(2).sum()) for p in model.d_parameters())
        assert abs(float(penalty.detach()) - 0.5 * float(trick.coef) * l2) < 1e-6
        return trick.end_step(ctx, {})

    stats = step([3.0, 2.0], [-1.0, 0.0])  # D ranks every pair right: dominance 1
    assert stats["d_dominance"] == 1.0 and abs(stats["adaptive_l2_coef"] - 1.5e-3) < 1e-9
    assert abs(step([3.0, 2.0], [-1.0, 0.0])["adaptive_l2_coef"] - 2e-3) < 1e-9  # clipped at maximum
    stats = step([0.0, 1.0], [0.5, 2.0])  # 1 of 4 pairs right: G has caught up
    assert stats["d_dominance"] == 0.25 and abs(stats["adaptive_l2_coef"] - 2e-3 / 1.5) < 1e-9


def test_instance_noise_anneals_to_zero() -> None:
    trick = InstanceNoise(sigma=0.2, anneal_steps=100)
    assert trick.sigma_at(0) == 0.2 and abs(trick.sigma_at(50) - 0.1) < 1e-12 and trick.sigma_at(100) == 0.0
    y = torch.arange(4000)
    inp = DInput(torch.zeros(4000, 2), z=torch.zeros(4000, 3), y=y)
    torch.manual_seed(0)
    noisy = trick.d_input(inp, 50)
    assert abs(float(noisy.x.std()) - 0.1) < 0.01 and abs(float(noisy.z.std()) - 0.1) < 0.01 and noisy.y is y
    assert trick.d_input(inp, 100) is inp


def test_diffaugment_is_differentiable_and_leaves_latents_alone() -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16, requires_grad=True)
    z = torch.randn(8, 4)
    out = DiffAugment().d_input(DInput(x, z=z), 0)
    assert out.x.shape == x.shape and out.z is z
    out.x.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_diffaugment_translation_and_cutout_geometry() -> None:
    torch.manual_seed(0)
    dot = torch.zeros(64, 1, 16, 16)
    dot[:, :, 8, 8] = 1.0
    moved = DiffAugment("translation").d_input(DInput(dot), 0).x
    rows, cols = torch.nonzero(moved[:, 0] == 1.0, as_tuple=True)[1:]
    assert len(rows) == 64 and int((rows - 8).abs().max()) <= 2 and int((cols - 8).abs().max()) <= 2  # 1/8 of 16
    assert int(((rows != 8) | (cols != 8)).sum()) > 0
    holes = (DiffAugment("cutout").d_input(DInput(torch.ones(64, 1, 16, 16)), 0).x == 0).float().mean((1, 2, 3))
    assert float(holes.max()) <= 0.25 + 1e-6 and float(holes.mean()) > 0.1  # an 8x8 square, clipped at borders
    bright = DiffAugment("color").d_input(DInput(torch.zeros(64, 3, 4, 4)), 0).x
    assert float(bright.std()) > 0.05  # brightness/saturation/contrast vary per sample
