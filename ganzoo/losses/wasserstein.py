"""Wasserstein GANs: the critic estimates the earth mover's distance; Lipschitz continuity is
enforced by weight clipping (WGAN) or by a gradient penalty (WGAN-GP)."""
from __future__ import annotations

import torch
from torch import Tensor

from ..contracts import DOut, GANModel, Loss, Side, StepContext, TrainDefaults
from .penalties import gradient_penalty


class _Critic(Loss):
    """The Wasserstein objective shared by both variants; scores are unbounded critic values."""

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        return fake.score.mean() - real.score.mean()

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        loss = -fake.score.mean()
        if real is not None:  # a generator-dependent real side (BiGAN's encoder) plays the other way
            loss = loss + real.score.mean()
        return loss


class Wasserstein(_Critic):
    """WGAN: Wasserstein loss with weight clipping (Arjovsky, Chintala, Bottou 2017).

    The critic maximizes ``E[D(x)] - E[D(G(z))]``; after every critic update all discriminator
    parameters are clipped to [-clip, clip]. Defaults are the paper's Algorithm 1: RMSprop,
    lr 5e-5, clip 0.01, 5 critic updates per generator update. (The paper's extra 100-critic
    bursts early on and every 500 steps are not reproduced.)
    """

    paper = "Arjovsky, Chintala, Bottou 2017, Wasserstein Generative Adversarial Networks, ICML. arXiv:1701.07875"
    train_defaults = TrainDefaults(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, n_critic=5)

    def __init__(self, clip: float = 0.01) -> None:
        super().__init__()
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}; the paper uses 0.01")
        self.clip = float(clip)

    @torch.no_grad()
    def after_d_step(self, model: GANModel) -> None:
        for p in model.d_parameters():
            p.clamp_(-self.clip, self.clip)


class WassersteinGP(_Critic):
    """WGAN-GP: Wasserstein loss with a gradient penalty (Gulrajani et al. 2017).

    Adds ``lambda * E[(||grad D(x_hat)|| - 1)^2]`` on random interpolates x_hat between real and
    fake samples (the paper's Algorithm 1; no clipping). Defaults: lambda 10, Adam, lr 1e-4,
    betas (0, 0.9), 5 critic updates per generator update.
    """

    paper = "Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved Training of Wasserstein GANs, NeurIPS. arXiv:1704.00028"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5)

    def __init__(self, gp_weight: float = 10.0) -> None:
        super().__init__()
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight}; the paper uses 10")
        self.gp_weight = float(gp_weight)

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "d":
            return {}
        return {"penalty": gradient_penalty(ctx.model, ctx.views.real, ctx.views.fake, weight=self.gp_weight, grad_scale=ctx.grad_scale)}
