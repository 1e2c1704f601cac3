"""The hinge loss of geometric GAN and SNGAN."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ..contracts import DOut, Loss, TrainDefaults


class Hinge(Loss):
    """Hinge loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, SNGAN).

    D minimizes ``E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]``; G minimizes ``-E[D(G(z))]``.
    Defaults are SNGAN's for the hinge loss: Adam, lr 2e-4, betas (0, 0.9) and 5 discriminator
    updates per generator update (n_dis = 5). Pair it with the ``spectral-norm`` trick for SNGAN.
    """

    paper = (
        "Lim, Ye 2017, Geometric GAN, arXiv:1705.02894; Miyato, Kataoka, Koyama, Yoshida 2018, "
        "Spectral Normalization for Generative Adversarial Networks, ICLR. arXiv:1802.05957"
    )
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9), n_critic=5)

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        return F.relu(1.0 - real.score).mean() + F.relu(1.0 + fake.score).mean()

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        loss = -fake.score.mean()
        if real is not None:  # a generator-dependent real side (BiGAN's encoder) plays the other way
            loss = loss + real.score.mean()
        return loss
