"""Least-squares GAN: the discriminator regresses its output onto target codes."""
from __future__ import annotations

from torch import Tensor

from ..contracts import DOut, Loss, TrainDefaults


class LeastSquares(Loss):
    """LSGAN: least-squares loss with a-b-c coding (Mao et al. 2017, "Least Squares GANs").

    D minimizes ``1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]``; G minimizes
    ``1/2 E[(D(G(z)) - c)^2]``. The default is the paper's 0-1 coding (a=0, b=1, c=1) used in its
    experiments; a=-1, b=1, c=0 is the Pearson chi^2 variant of its section 3.2. The critic output
    is used raw (no sigmoid). Defaults: Adam, lr 2e-4, betas (0.5, 0.999).
    """

    paper = "Mao, Li, Xie, Lau, Wang, Smolley 2017, Least Squares Generative Adversarial Networks, ICCV. arXiv:1611.04076"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1)

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        super().__init__()
        if a == b:
            raise ValueError(f"the fake code a and the real code b must differ (both are {a}); the paper uses a=0, b=1")
        self.a, self.b, self.c = float(a), float(b), float(c)

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        return 0.5 * (real.score - self.b).pow(2).mean() + 0.5 * (fake.score - self.a).pow(2).mean()

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        loss = 0.5 * (fake.score - self.c).pow(2).mean()
        if real is not None:  # a generator-dependent real side (BiGAN's encoder) wants the fake code
            loss = loss + 0.5 * (real.score - self.a).pow(2).mean()
        return loss
