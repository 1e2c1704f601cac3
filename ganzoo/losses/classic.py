"""The log-loss family of the original GAN: saturating (minimax) and non-saturating."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ..contracts import DOut, Loss


class LogLoss(Loss):
    """Shared discriminator side: binary cross-entropy on logits, with optional one-sided smoothing."""

    provides = frozenset({"label_smoothing"})
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets, NeurIPS. arXiv:1406.2661"

    def __init__(self) -> None:
        super().__init__()
        self.real_label = 1.0  # set below 1 by the label-smoothing trick (Salimans et al. 2016)

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        # -[t log D(x) + (1-t) log(1-D(x))] - log(1 - D(G(z))), with log D = -softplus(-logit)
        t = self.real_label
        real_term = t * F.softplus(-real.score) + (1 - t) * F.softplus(real.score)
        return real_term.mean() + F.softplus(fake.score).mean()


class Minimax(LogLoss):
    """Minimax (saturating) GAN loss: G minimizes log(1 - D(G(z))) (Goodfellow et al. 2014)."""

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        loss = -F.softplus(fake.score).mean()  # log(1 - sigmoid(s)) = -softplus(s)
        if real is not None:  # a generator-dependent real side (BiGAN's encoder) plays the other way
            loss = loss - F.softplus(-real.score).mean()
        return loss


class NonSaturating(LogLoss):
    """Non-saturating GAN loss: G minimizes -log D(G(z)) (Goodfellow et al. 2014, section 3)."""

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        loss = F.softplus(-fake.score).mean()
        if real is not None:
            loss = loss + F.softplus(real.score).mean()
        return loss
