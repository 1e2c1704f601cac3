"""Penalties on the discriminator's input gradients; the math is in ganzoo.losses.penalties."""
from __future__ import annotations

from torch import Tensor

from ..contracts import Side, StepContext, Trick
from ..losses.penalties import gradient_penalty, squared_gradient_norm


class GradientPenalty(Trick):
    """Gradient penalty on real/fake interpolates, two- or one-sided (Gulrajani et al. 2017).

    Adds ``weight * E[(||grad D(x_hat)|| - target)^2]`` to the discriminator loss, x_hat uniform on
    the segments between real and fake samples; ``one_sided`` penalises only norms above
    ``target`` (the paper's appendix; Petzka et al. 2018). Any loss can use it, e.g. for
    WGAN-GP-style regularization of the non-saturating or hinge loss (Lucic et al. 2018; Kurach
    et al. 2019). Defaults: weight 10, target 1, two-sided.
    """

    paper = "Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved Training of Wasserstein GANs, NeurIPS. arXiv:1704.00028"

    def __init__(self, weight: float = 10.0, target: float = 1.0, one_sided: bool = False) -> None:
        super().__init__()
        if weight < 0 or target < 0:
            raise ValueError(f"weight and target must be >= 0, got {weight} and {target}")
        self.weight, self.target, self.one_sided = float(weight), float(target), bool(one_sided)

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "d":
            return {}
        penalty = gradient_penalty(
            ctx.model, ctx.views.real, ctx.views.fake, weight=self.weight, target=self.target, one_sided=self.one_sided,
            grad_scale=ctx.grad_scale,
        )
        return {"gradient_penalty": penalty}


class R1(Trick):
    """R1 regularization: (gamma/2) E||grad D(x_real)||^2 (Mescheder, Geiger, Nowozin 2018).

    Penalises the discriminator's gradient on real data only, which makes simple GANs converge
    locally. ``interval`` > 1 applies it lazily every ``interval`` steps, scaled by ``interval``
    so its average strength is unchanged (Karras et al. 2020, StyleGAN2, use 16). Defaults:
    gamma 10, every step.
    """

    paper = "Mescheder, Geiger, Nowozin 2018, Which Training Methods for GANs do actually Converge?, ICML. arXiv:1801.04406"

    def __init__(self, gamma: float = 10.0, interval: int = 1) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.gamma, self.interval = float(gamma), interval

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "d" or ctx.step % self.interval:
            return {}
        return {"r1": 0.5 * self.gamma * self.interval * squared_gradient_norm(ctx.model, ctx.views.real, ctx.grad_scale)}
