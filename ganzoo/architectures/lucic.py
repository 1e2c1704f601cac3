"""The networks of Lucic et al. 2018's large-scale comparison of GAN losses ("Are GANs Created Equal?").

Every loss in that study trains the same pair, InfoGAN's MNIST networks (their
``AbstractGAN.generator`` / ``discriminator`` in google/compare_gan; here infogan.py's
``ConvGenerator`` and ``ConvTrunk`` with leaky ReLUs). For 28 px images:

- G: 64-d Uniform(-1, 1) noise, FC 1024 - FC 7x7x128 - deconv 64 (4x4, stride 2) - deconv C
  (4x4, stride 2), batch norm and leaky ReLU (0.2) after every hidden layer;
- D: conv 64 (4x4, stride 2) - conv 128 (4x4, stride 2) - FC 1024 - FC 1, leaky ReLU (0.2),
  batch norm after the second and third layers when ``d_batch_norm`` (the study's per-loss setting:
  on for the GAN losses, LSGAN, WGAN and DRAGAN by default, off for WGAN-GP).

Their G ends in a sigmoid on [0, 1] images; here it ends in tanh on ganzoo's [-1, 1] images. As
tanh(a) = 2 sigmoid(2a) - 1, both describe the same functions of the pixels once rescaled.
"""
from __future__ import annotations

from torch import Tensor, nn

from ..contracts import IMAGES, DInput, DOut, Discriminator, GANModel, Generator
from .common import dcgan_init, positive
from .infogan import ConvGenerator, ConvTrunk

SLOPE = 0.2  # compare_gan's lrelu default, in G and D alike


class LucicGenerator(Generator):
    latent_prior = "uniform"  # the study's z: U(-1, 1)

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int, hidden: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = ConvGenerator(latent_dim, channels, image_size, width, hidden, slope=SLOPE, family="lucic")

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.body(z)


class LucicDiscriminator(Discriminator):
    def __init__(self, channels: int, image_size: int, width: int, hidden: int, batch_norm: bool) -> None:
        super().__init__()
        self.trunk = ConvTrunk(channels, image_size, width, hidden, slope=SLOPE, batch_norm=batch_norm, family="lucic")
        self.out = nn.Linear(hidden, 1)

    def features(self, inp: DInput) -> Tensor:
        return self.trunk(inp.x)

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


class LucicGAN(GANModel):
    """The shared G and D of Lucic et al. 2018's loss comparison: InfoGAN-style networks, 64-d uniform noise.

    ``d_batch_norm`` is the study's per-loss switch (``ganzoo bench --preset lucic`` sets it per
    loss as their defaults do). 28, 32 or 64 px, any channels; ``width`` is D's first and G's last
    convolution width (64), ``hidden`` the fully connected width (1024).
    The study's optimizer is Adam with per-loss learning rates and beta1; the preset sets them, and
    plain runs get ganzoo's defaults (Adam, lr 2e-4, beta1 0.5).
    """

    requires = frozenset({IMAGES})
    paper = ("Lucic, Kurach, Michalski, Gelly, Bousquet 2018, Are GANs Created Equal? A Large-Scale Study, "
             "NeurIPS. arXiv:1711.10337")

    def __init__(self, channels: int = 1, image_size: int = 28, latent_dim: int = 64, width: int = 64, hidden: int = 1024,
                 d_batch_norm: bool = True) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("latent_dim", latent_dim), ("width", width), ("hidden", hidden)):
            positive(name, value)
        self.generator = LucicGenerator(latent_dim, channels, image_size, width, hidden)
        self.discriminator = LucicDiscriminator(channels, image_size, width, hidden, d_batch_norm)
        dcgan_init(self)
