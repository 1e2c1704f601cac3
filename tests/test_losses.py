"""The loss formulas on hand-made critic scores, the shared gradient-penalty math on critics whose
input gradients are known in closed form, and each loss's paper defaults."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import registry
from ganzoo.build import PluginSpec, build_loss
from ganzoo.contracts import DInput, DOut, Discriminator, GANModel, Generator, StepContext, Views
from ganzoo.errors import ConfigError
from ganzoo.losses.dragan import DRAGAN
from ganzoo.losses.hinge import Hinge
from ganzoo.losses.least_squares import LeastSquares
from ganzoo.losses.penalties import gradient_norm, gradient_penalty, input_gradients, interpolate, perturb
from ganzoo.losses.relativistic import Relativistic, RelativisticAverage
from ganzoo.losses.wasserstein import Wasserstein, WassersteinGP
from ganzoo.tricks.gradient import R1, GradientPenalty


def out(*scores: float) -> DOut:
    return DOut(torch.tensor(scores, dtype=torch.float32))


def num(t: Tensor | float) -> float:
    return float(t.detach()) if isinstance(t, Tensor) else float(t)


def close(a: Tensor | float, b: float) -> bool:
    return abs(num(a) - b) < 1e-5


# --------------------------------------------------------------------------- least squares


def test_lsgan_values_on_known_scores() -> None:
    loss = LeastSquares()  # a=0, b=1, c=1
    assert close(loss.d_loss(out(1.0, 1.0), out(0.0, 0.0)), 0.0)  # D hits both codes
    # 1/2 mean((0.5-1)^2) + 1/2 mean((0.5-0)^2) = 0.125 + 0.125
    assert close(loss.d_loss(out(0.5), out(0.5)), 0.25)
    # real 2 -> (2-1)^2/2 = 0.5; fake -1 -> (-1-0)^2/2 = 0.5
    assert close(loss.d_loss(out(2.0), out(-1.0)), 1.0)
    assert close(loss.g_loss(None, out(0.0, 1.0)), 0.25)  # 1/2 mean((0-1)^2, 0)


def test_lsgan_custom_codes_and_generator_dependent_real_side() -> None:
    loss = LeastSquares(a=-1.0, b=1.0, c=0.0)
    assert close(loss.d_loss(out(1.0), out(-1.0)), 0.0)
    assert close(loss.g_loss(None, out(0.0)), 0.0)
    # BiGAN's encoder side: G wants the real pair scored as fake (a = -1): (1 - (-1))^2 / 2 = 2
    assert close(loss.g_loss(out(1.0), out(0.0)), 2.0)


def test_lsgan_refuses_equal_codes() -> None:
    with pytest.raises(ConfigError, match="must differ"):
        build_loss(PluginSpec("least-squares", {"a": 1.0, "b": 1.0}))


# --------------------------------------------------------------------------- hinge


def test_hinge_is_zero_when_margins_hold_and_linear_inside() -> None:
    loss = Hinge()
    assert close(loss.d_loss(out(1.0, 3.0), out(-1.0, -2.0)), 0.0)
    assert close(loss.d_loss(out(0.0), out(0.0)), 2.0)
    assert close(loss.d_loss(out(0.5), out(0.5)), 0.5 + 1.5)
    assert close(loss.g_loss(None, out(2.0, 4.0)), -3.0)  # -E[D(G(z))], not a hinge
    assert close(loss.g_loss(out(1.0), out(2.0)), -1.0)  # + E[D(real)] when the real side depends on G


# --------------------------------------------------------------------------- wasserstein


def test_wasserstein_signs() -> None:
    loss = Wasserstein()
    # The critic is rewarded (negative loss) for scoring real above fake.
    assert close(loss.d_loss(out(3.0, 1.0), out(0.0, -2.0)), -1.0 - 2.0)
    assert close(loss.g_loss(None, out(0.0, 2.0)), -1.0)
    real = torch.tensor([0.5], requires_grad=True)
    fake = torch.tensor([0.5], requires_grad=True)
    loss.d_loss(DOut(real), DOut(fake)).backward()
    assert real.grad.item() < 0 < fake.grad.item()  # descent raises real scores, lowers fake ones
    assert close(WassersteinGP().d_loss(out(3.0), out(1.0)), -2.0)


class _TinyG(Generator):
    def __init__(self) -> None:
        super().__init__()
        self.latent_dim = 2
        self.net = nn.Linear(2, 2)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z)


class _LinearD(Discriminator):
    """D(x, z) = w.x (+ v.z): the input gradient is w (and v) everywhere."""

    def __init__(self, w: list[float], v: list[float] | None = None) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.v = nn.Parameter(torch.tensor(v)) if v is not None else None

    def features(self, inp: DInput) -> Tensor:
        h = (inp.x.flatten(1) * self.w).sum(1, keepdim=True)
        if self.v is not None:
            h = h + (inp.z * self.v).sum(1, keepdim=True)
        return h

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(h.squeeze(1))


class _QuadraticD(Discriminator):
    """D(x) = ||x||^2 / 2: the input gradient at x is x itself."""

    def features(self, inp: DInput) -> Tensor:
        return 0.5 * inp.x.pow(2).sum(1, keepdim=True)

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(h.squeeze(1))


class _Model(GANModel):
    def __init__(self, d: Discriminator) -> None:
        super().__init__()
        self.generator = _TinyG()
        self.discriminator = d


def test_wgan_clipping_clips_every_discriminator_parameter_and_nothing_else() -> None:
    model = _Model(_LinearD([0.5, -0.3], [0.002, -2.0]))
    with torch.no_grad():
        model.generator.net.weight.fill_(5.0)
        g_before = [p.detach().clone() for p in model.generator.parameters()]
    Wasserstein(clip=0.01).after_d_step(model)
    assert torch.equal(model.discriminator.w.detach(), torch.tensor([0.01, -0.01]))
    assert torch.equal(model.discriminator.v.detach(), torch.tensor([0.002, -0.01]))  # inside the box: kept
    assert all(torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))


def test_wgan_refuses_nonpositive_clip() -> None:
    with pytest.raises(ConfigError, match="clip"):
        build_loss(PluginSpec("wasserstein", {"clip": 0.0}))


# --------------------------------------------------------------------------- relativistic


def test_relativistic_on_equal_scores_is_log2() -> None:
    rs, ra = Relativistic(), RelativisticAverage()
    same = out(0.3, -1.2, 2.0)
    assert close(rs.d_loss(same, same), math.log(2))
    assert close(rs.g_loss(same, same), math.log(2))
    assert close(ra.d_loss(out(1.0, 1.0), out(1.0, 1.0)), 2 * math.log(2))
    assert close(ra.g_loss(out(1.0, 1.0), out(1.0, 1.0)), 2 * math.log(2))


def test_rsgan_pairs_samples_and_ragan_uses_the_other_sides_mean() -> None:
    real, fake = out(1.0, 3.0), out(0.0, 2.0)
    sp = lambda t: F.softplus(torch.tensor(t)).item()  # noqa: E731  -log sigmoid(-t)
    # RSGAN: differences (1, 1) -> -log sigmoid(1) = softplus(-1)
    assert close(Relativistic().d_loss(real, fake), sp(-1.0))
    assert close(Relativistic().g_loss(real, fake), sp(1.0))
    # RaGAN: mean fake 1, mean real 2: real - 1 = (0, 2), fake - 2 = (-2, 0)
    d = (sp(0.0) + sp(-2.0)) / 2 + (sp(-2.0) + sp(0.0)) / 2
    g = (sp(2.0) + sp(0.0)) / 2 + (sp(0.0) + sp(2.0)) / 2
    assert close(Relativistic(average=True).d_loss(real, fake), d)
    assert close(RelativisticAverage().g_loss(real, fake), g)
    assert RelativisticAverage().average and not Relativistic().average


def test_relativistic_label_smoothing_changes_only_the_real_target() -> None:
    loss = Relativistic()
    real, fake = out(2.0), out(0.0)
    plain = loss.d_loss(real, fake)
    loss.real_label = 0.9
    smoothed = loss.d_loss(real, fake)
    expected = 0.9 * F.softplus(torch.tensor(-2.0)) + 0.1 * F.softplus(torch.tensor(2.0))
    assert close(smoothed, num(expected)) and num(smoothed) > num(plain)
    assert close(loss.g_loss(real, fake), num(F.softplus(torch.tensor(2.0))))  # G untouched


def test_relativistic_needs_the_real_side_in_the_generator_step() -> None:
    assert Relativistic.g_uses_real and RelativisticAverage.g_uses_real
    with pytest.raises(ValueError):
        Relativistic().g_loss(None, out(0.0))


# --------------------------------------------------------------------------- gradient penalties


def _ctx(model: GANModel, real: DInput, fake: DInput, step: int = 0) -> StepContext:
    return StepContext(model, Views(real, fake), model.critic(real), model.critic(fake), step)


def _points(n: int, seed: int, shift: float = 0.0) -> DInput:
    return DInput(torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) + shift)


def test_gp_is_zero_for_a_unit_slope_critic_and_lambda_times_excess_squared_otherwise() -> None:
    torch.manual_seed(0)
    real, fake = _points(64, 1), _points(64, 2, shift=3.0)
    unit, steep, flat = _Model(_LinearD([0.6, 0.8])), _Model(_LinearD([0.0, 2.0])), _Model(_LinearD([0.3, 0.4]))
    assert num(WassersteinGP().terms("d", _ctx(unit, real, fake))["penalty"]) < 1e-8
    assert close(WassersteinGP().terms("d", _ctx(steep, real, fake))["penalty"], 10.0 * (2.0 - 1.0) ** 2)
    assert close(WassersteinGP(gp_weight=2.0).terms("d", _ctx(flat, real, fake))["penalty"], 2.0 * 0.25)
    # One-sided: a slope below the target is free, above it is penalised as before.
    one_sided = GradientPenalty(one_sided=True)
    assert num(one_sided.terms("d", _ctx(flat, real, fake))["gradient_penalty"]) == 0.0
    assert close(one_sided.terms("d", _ctx(steep, real, fake))["gradient_penalty"], 10.0)
    assert close(GradientPenalty().terms("d", _ctx(flat, real, fake))["gradient_penalty"], 2.5)


def test_gp_is_taken_at_interpolates_not_at_either_side() -> None:
    """With D = ||x||^2/2 the gradient at x is x: reals at 0 and fakes at (2, 0) give norms 2*eps
    on the segment, so E[(2 eps - 1)^2] = 1/3; at either end alone it would be 1."""
    torch.manual_seed(0)
    n = 20000
    model = _Model(_QuadraticD())
    real, fake = DInput(torch.zeros(n, 2)), DInput(torch.tensor([2.0, 0.0]).expand(n, 2).clone())
    value = num(gradient_penalty(model, real, fake, weight=1.0))
    assert abs(value - 1 / 3) < 0.02, value


def test_gp_norm_is_joint_over_all_sample_tensors_and_keeps_conditioning() -> None:
    # D(x, z) = 0.6 x1 + 0.8 z1: per-tensor norms 0.6 and 0.8, joint norm 1.
    model = _Model(_LinearD([0.6, 0.0], [0.8, 0.0]))
    y = torch.arange(8)
    real = DInput(torch.randn(8, 2), z=torch.randn(8, 2), y=y)
    fake = DInput(torch.randn(8, 2), z=torch.randn(8, 2), y=y + 100)
    assert num(gradient_penalty(model, real, fake, weight=10.0)) < 1e-8
    mixed = interpolate(real, fake)
    assert mixed.y is y  # conditioning comes from the real side, untouched
    t = (mixed.x - real.x) / (fake.x - real.x)  # one eps per example, shared by x and z
    tz = (mixed.z - real.z) / (fake.z - real.z)
    assert torch.allclose(t[:, 0], t[:, 1], atol=1e-4) and torch.allclose(t[:, 0], tz[:, 0], atol=1e-4)
    assert num(t.min()) >= 0 and num(t.max()) <= 1


def test_penalty_backpropagates_into_the_discriminator() -> None:
    model = _Model(_LinearD([0.0, 2.0]))
    gradient_penalty(model, _points(16, 1), _points(16, 2), weight=10.0).backward()
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w|| = (0, 20)
    assert torch.allclose(model.discriminator.w.grad, torch.tensor([0.0, 20.0]), atol=1e-4)


def test_r1_is_half_gamma_squared_norm_on_reals_and_lazy() -> None:
    model = _Model(_LinearD([0.0, 2.0]))
    real, fake = _points(16, 1), _points(16, 2)
    assert close(R1().terms("d", _ctx(model, real, fake))["r1"], 0.5 * 10.0 * 4.0)
    lazy = R1(gamma=1.0, interval=4)
    assert lazy.terms("d", _ctx(model, real, fake, step=1)) == {}
    assert close(lazy.terms("d", _ctx(model, real, fake, step=8))["r1"], 0.5 * 1.0 * 4.0 * 4)
    # R1 looks only at the real side: D = ||x||^2/2 with reals at 0 has zero gradient there.
    quad = _Model(_QuadraticD())
    assert num(R1().terms("d", _ctx(quad, DInput(torch.zeros(8, 2)), _points(8, 3, shift=5.0)))["r1"]) < 1e-8


def test_dragan_penalty_lives_near_real_data() -> None:
    torch.manual_seed(0)
    real = DInput(torch.zeros(64, 2) + torch.randn(64, 2) * 0.1)
    fake = _points(64, 2, shift=50.0)  # far away: must not matter
    assert num(DRAGAN().terms("d", _ctx(_Model(_LinearD([0.6, 0.8])), real, fake))["penalty"]) < 1e-8
    assert close(DRAGAN().terms("d", _ctx(_Model(_LinearD([3.0, 0.0])), real, fake))["penalty"], 10.0 * 4.0)
    assert close(DRAGAN(k=3.0).terms("d", _ctx(_Model(_LinearD([3.0, 0.0])), real, fake))["penalty"], 0.0)
    # The perturbation is x + 0.5 std(x) U[0, 1]: non-negative and at most half a batch std.
    moved = perturb(real, 0.5).x - real.x
    assert num(moved.min()) >= 0 and num(moved.max()) <= 0.5 * num(real.x.std()) + 1e-6


def test_gradients_helpers_agree() -> None:
    model = _Model(_LinearD([3.0, 4.0]))
    _, grads = input_gradients(model, _points(4, 0))
    assert torch.allclose(gradient_norm(grads), torch.full((4,), 5.0))


# --------------------------------------------------------------------------- defaults and registry


@pytest.mark.parametrize(
    "name, optimizer, lr, betas, n_critic",
    [
        ("least-squares", "adam", 2e-4, (0.5, 0.999), 1),
        ("wasserstein", "rmsprop", 5e-5, None, 5),
        ("wgan-gp", "adam", 1e-4, (0.0, 0.9), 5),
        ("hinge", "adam", 2e-4, (0.0, 0.9), 5),
        ("relativistic", "adam", 2e-4, (0.5, 0.999), 1),
        ("relativistic-average", "adam", 2e-4, (0.5, 0.999), 1),
        ("dragan", "adam", 1e-4, (0.5, 0.9), 1),
    ],
)
def test_paper_defaults(name: str, optimizer: str, lr: float, betas, n_critic: int) -> None:
    cls = registry.losses.get(name)
    d = cls.train_defaults
    assert (d.optimizer, d.lr_g, d.lr_d, d.betas, d.n_critic) == (optimizer, lr, lr, betas, n_critic)
    assert cls.paper and "arXiv" in cls.paper and cls.__doc__


def test_log_loss_family_offers_label_smoothing_and_critics_do_not() -> None:
    for name in ("relativistic", "relativistic-average", "dragan"):
        assert "label_smoothing" in registry.losses.get(name).provides
    for name in ("least-squares", "wasserstein", "wgan-gp", "hinge"):
        assert "label_smoothing" not in registry.losses.get(name).provides
    loss = DRAGAN()
    loss.real_label = 0.9
    assert num(loss.d_loss(out(5.0), out(-5.0))) > num(DRAGAN().d_loss(out(5.0), out(-5.0)))
