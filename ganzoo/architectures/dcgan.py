"""Deep convolutional GAN."""
from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from ..contracts import IMAGES, DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults
from .common import dcgan_init, flatten_maps, positive, pyramid_plan


class DCGANGenerator(Generator):
    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        base, stages = pyramid_plan(image_size, "dcgan")
        c = width * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, c, base, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


def critic_norm(kind: str, channels: int) -> nn.Module:
    """The normalization after a D convolution. A gradient penalty is taken per sample, which batch
    norm breaks by mixing the batch, so Gulrajani et al. (2017) use layer norm in the critic."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # one group: normalizes each sample over C, H and W
    return nn.Identity()


class DCGANDiscriminator(Discriminator):
    def __init__(self, channels: int, image_size: int, width: int, norm: str = "batch") -> None:
        super().__init__()
        base, stages = pyramid_plan(image_size, "dcgan")
        # No normalization on D's input layer, as in the paper.
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(stages - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=norm == "none"), critic_norm(norm, c * 2), nn.LeakyReLU(0.2, True)]
            c *= 2
        self.body = nn.Sequential(*layers)
        # The paper's final base x base convolution, written as a linear layer over the flat map.
        self.out = nn.Linear(c * base * base, 1)

    def features(self, inp: DInput) -> Tensor:
        return flatten_maps(self.body(inp.x))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


class DCGAN(GANModel):
    """DCGAN: strided-conv G and D with batch norm (Radford et al. 2016); 28, 32 or 64 px, any channels.

    Defaults are the paper's: Adam, lr 2e-4, beta1 0.5, N(0, 0.02) init, 100-d noise. ``d_norm``
    picks D's normalization: ``batch`` (the paper's), ``layer`` (for a gradient penalty, as in
    WGAN-GP) or ``none``.
    """

    requires = frozenset({IMAGES})
    paper = "Radford, Metz, Chintala 2016, Unsupervised Representation Learning with Deep Convolutional GANs, ICLR. arXiv:1511.06434"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(self, channels: int = 1, image_size: int = 28, latent_dim: int = 100, g_width: int = 64, d_width: int = 64,
                 d_norm: Literal["batch", "layer", "none"] = "batch") -> None:
        super().__init__()
        for name, value in (("channels", channels), ("latent_dim", latent_dim), ("g_width", g_width), ("d_width", d_width)):
            positive(name, value)
        self.generator = DCGANGenerator(latent_dim, channels, image_size, g_width)
        self.discriminator = DCGANDiscriminator(channels, image_size, d_width, d_norm)
        dcgan_init(self)
