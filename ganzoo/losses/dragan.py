"""DRAGAN: a gradient penalty around the real data, against sharp discriminator gradients there."""
from __future__ import annotations

from torch import Tensor

from ..contracts import Side, StepContext, TrainDefaults
from .classic import NonSaturating
from .penalties import gradient_penalty, perturb


class DRAGAN(NonSaturating):
    """DRAGAN: non-saturating loss + gradient penalty near real data (Kodali et al. 2017).

    Adds ``lambda * E[(||grad D(x_hat)|| - k)^2]`` where x_hat lies between a real sample x and its
    perturbation ``x + 0.5 * std(x) * U[0, 1]`` (the authors' scheme). Defaults: lambda 10, k 1,
    perturbation scale 0.5; Adam, lr 1e-4, betas (0.5, 0.9). Supports one-sided label smoothing.
    """

    paper = "Kodali, Abernethy, Hays, Kira 2017, On Convergence and Stability of GANs. arXiv:1705.07215"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=1)

    def __init__(self, gp_weight: float = 10.0, k: float = 1.0, perturbation: float = 0.5) -> None:
        super().__init__()
        if gp_weight < 0 or perturbation < 0:
            raise ValueError(f"gp_weight and perturbation must be >= 0, got {gp_weight} and {perturbation}")
        self.gp_weight, self.k, self.perturbation = float(gp_weight), float(k), float(perturbation)

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "d":
            return {}
        real = ctx.views.real
        return {"penalty": gradient_penalty(ctx.model, real, perturb(real, self.perturbation), weight=self.gp_weight, target=self.k, grad_scale=ctx.grad_scale)}
