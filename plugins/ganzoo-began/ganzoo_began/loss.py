"""BEGAN's objective: match the autoencoder losses' distributions, balanced by the control k_t.

With L(v) = mean |v - D(v)| (the discriminator's score)::

    L_D = L(x) - k_t L(G(z))        L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
    M_global = L(x) + |gamma L(x) - L(G(z))|      (the paper's convergence measure)

k_t is a buffer, so the engine saves it in every checkpoint (``loss.k``) and a resume continues
from it. The engine calls :meth:`BEGANLoss.end_step` once per step with the detached scores of the
last discriminator step; those are the L(x) and L(G(z)) that drive the update (the paper uses the
generator step's fresh batch for L(G(z)); both are estimates of the same expectation).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ganzoo.contracts import DOut, Loss, StepContext

from .architecture import AUTOENCODER_DISCRIMINATOR, BEGAN_DEFAULTS


def k_update(k: Tensor, l_real: Tensor, l_fake: Tensor, gamma: float, lambda_k: float) -> Tensor:
    """One step of proportional control: k moves towards keeping L(G(z)) = gamma L(x)."""
    return (k + lambda_k * (gamma * l_real - l_fake)).clamp(0.0, 1.0)


def convergence(l_real: Tensor, l_fake: Tensor, gamma: float) -> Tensor:
    """M_global: falls as the reconstruction of data improves and the equilibrium holds."""
    return l_real + (gamma * l_real - l_fake).abs()


class BEGANLoss(Loss):
    """BEGAN loss: L1 autoencoder energies balanced by the equilibrium term k_t (Berthelot et al. 2017).

    gamma is the diversity ratio E[L(G(z))] / E[L(x)] the controller aims for (lower: sharper, less
    varied samples); lambda_k is the gain of the k_t update. Needs an architecture whose
    discriminator score is an autoencoder's reconstruction energy (`began`).
    """

    requires = frozenset({AUTOENCODER_DISCRIMINATOR})
    paper = (
        "Berthelot, Schumm, Metz 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks. "
        "arXiv:1703.10717"
    )
    train_defaults = BEGAN_DEFAULTS

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001) -> None:
        super().__init__()
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1] (the paper uses 0.3 to 0.7), got {gamma}")
        if lambda_k < 0.0:
            raise ValueError(f"lambda_k must be >= 0 (the paper uses 0.001), got {lambda_k}")
        self.gamma, self.lambda_k = gamma, lambda_k
        self.register_buffer("k", torch.zeros(()))  # k_0 = 0: D first learns to reconstruct data

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        return real.score.mean() - self.k * fake.score.mean()

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        # BEGAN's generator objective has no real-side term, so ``real`` is ignored. Only an
        # architecture whose real view depends on generator-side weights (an encoder on x) would
        # need one, and the natural "raise L(x)" term is unbounded above, so it would be a new
        # loss rather than this one; no `autoencoder_discriminator` architecture has such a view.
        return fake.score.mean()

    @torch.no_grad()
    def end_step(self, ctx: StepContext, stats: dict[str, float]) -> dict[str, float]:
        l_real, l_fake = ctx.real.score.float().mean(), ctx.fake.score.float().mean()
        self.k.copy_(k_update(self.k, l_real, l_fake, self.gamma, self.lambda_k))
        m_global = convergence(l_real, l_fake, self.gamma)
        return {
            "k": float(self.k),
            "convergence": float(m_global),
            "l_real": float(l_real),
            "l_fake": float(l_fake),
        }
