"""Relativistic GANs: D estimates how much more realistic real data is than fake data."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ..contracts import DOut, Loss, TrainDefaults


def _bce(logit: Tensor, target: float) -> Tensor:
    """Binary cross-entropy on logits with a constant target (softplus form, numerically stable)."""
    return (target * F.softplus(-logit) + (1.0 - target) * F.softplus(logit)).mean()


class Relativistic(Loss):
    """RSGAN: relativistic standard GAN (Jolicoeur-Martineau 2019); with average=true, RaGAN.

    RSGAN: D minimizes ``-E[log sigmoid(C(x_r) - C(x_f))]`` over paired real/fake samples, G the same
    with the roles swapped. RaGAN compares each sample with the *mean* critic value of the other
    side: D minimizes ``-E[log sigmoid(C(x_r) - E C(x_f))] - E[log(1 - sigmoid(C(x_f) - E C(x_r)))]``
    and G the mirror image. The generator step needs the real side (``g_uses_real``); one-sided
    label smoothing sets the real target below 1. Defaults are the paper's standard setting:
    Adam, lr 2e-4, betas (0.5, 0.999), one D step per G step.
    """

    provides = frozenset({"label_smoothing"})
    g_uses_real = True
    paper = "Jolicoeur-Martineau 2019, The relativistic discriminator: a key element missing from standard GAN, ICLR. arXiv:1807.00734"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1)

    def __init__(self, average: bool = False) -> None:
        super().__init__()
        self.average = bool(average)
        self.real_label = 1.0  # set below 1 by the label-smoothing trick

    def _relative(self, a: DOut, b: DOut) -> Tensor:
        """How much more realistic ``a`` looks than ``b``: paired (RSGAN) or against b's mean (RaGAN)."""
        return a.score - (b.score.mean() if self.average else b.score)

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:
        if self.average:
            return _bce(self._relative(real, fake), self.real_label) + _bce(self._relative(fake, real), 0.0)
        return _bce(self._relative(real, fake), self.real_label)

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:
        if real is None:
            raise ValueError("the relativistic loss needs the real side in the generator step")
        if self.average:
            return _bce(self._relative(fake, real), 1.0) + _bce(self._relative(real, fake), 0.0)
        return _bce(self._relative(fake, real), 1.0)


class RelativisticAverage(Relativistic):
    """RaGAN: relativistic average standard GAN (Jolicoeur-Martineau 2019).

    The ``relativistic`` loss with ``average=True`` by default; see :class:`Relativistic`.
    """

    def __init__(self, average: bool = True) -> None:
        super().__init__(average)
