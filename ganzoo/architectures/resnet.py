"""SNGAN-style residual generator and discriminator (Miyato et al. 2018; blocks of Gulrajani et al. 2017).

The same two networks serve the projection cGAN (:mod:`ganzoo.architectures.conditional`): given
``num_classes > 0`` the generator's batch norms become class-conditional and the discriminator adds
the projection term ``<embed(y), h>`` to its score.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import IMAGES, DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults
from .blocks import ResBlockDown, ResBlockUp, maybe_sn, scaled_width, xavier
from .common import positive, pyramid_plan


class ResNetGenerator(Generator):
    """z -> linear to base x base -> residual up-blocks -> BN-ReLU-conv3-tanh."""

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        base, stages = pyramid_plan(image_size, "resnet")
        self.base, self.c0 = base, scaled_width(width, base)
        self.linear = xavier(nn.Linear(latent_dim, base * base * self.c0))
        blocks, c, res = [], self.c0, base
        for _ in range(stages):
            res *= 2
            blocks.append(ResBlockUp(c, scaled_width(width, res), num_classes))
            c = scaled_width(width, res)
        self.blocks = nn.ModuleList(blocks)
        self.bn = nn.BatchNorm2d(c)  # unconditional, as in the projection-cGAN generator
        self.out = xavier(nn.Conv2d(c, channels, 3, 1, 1))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.linear(z).view(z.shape[0], self.c0, self.base, self.base)
        for block in self.blocks:
            h = block(h, y if self.num_classes else None)
        return torch.tanh(self.out(F.relu(self.bn(h))))


class ResNetDiscriminator(Discriminator):
    """Residual down-blocks to 8x8 (7x7 for 28 px), two more blocks, ReLU, global sum pooling.

    ``features`` are the sum-pooled ReLU activations; the head is one linear unit, plus the
    projection term ``<embed(y), h>`` when ``num_classes > 0`` (Miyato & Koyama 2018).
    """

    def __init__(self, channels: int, image_size: int, width: int, num_classes: int = 0, sn: bool = True) -> None:
        super().__init__()
        pyramid_plan(image_size, "resnet")  # same size check as the generator
        blocks, c, res = [], channels, image_size
        while res > 8 and res % 2 == 0:
            c_out = scaled_width(width, res)
            blocks.append(ResBlockDown(c, c_out, down=True, first=not blocks, sn=sn))
            c, res = c_out, res // 2
        for _ in range(2):  # SNGAN's two full-resolution blocks at the end
            c_out = scaled_width(width, res)
            blocks.append(ResBlockDown(c, c_out, down=False, first=not blocks, sn=sn))
            c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.width = c
        self.linear = maybe_sn(xavier(nn.Linear(c, 1)), sn)
        self.num_classes = num_classes
        if num_classes:
            embed = nn.Embedding(num_classes, c)
            nn.init.xavier_uniform_(embed.weight)
            self.embed = maybe_sn(embed, sn)

    def features(self, inp: DInput) -> Tensor:
        return F.relu(self.blocks(inp.x)).sum(dim=(2, 3))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        score = self.linear(h).squeeze(1)
        if self.num_classes:
            if inp.y is None:
                raise ValueError("the projection discriminator needs class labels y")
            score = score + (self.embed(inp.y) * h).sum(1)
        return DOut(score)


def check_args(**values: int) -> None:
    for name, value in values.items():
        positive(name, value)


class ResNetGAN(GANModel):
    """ResNet (SNGAN): residual G and D with spectral-normalized D (Miyato et al. 2018; Gulrajani et al. 2017).

    The CIFAR network of SNGAN at 32 px (G width 256, D width 128, 128-d noise); 28 and 64 px use
    the same blocks (64 px halves the widths above 32 px). D features are globally sum-pooled ReLU
    activations and its head is linear. Paper defaults: Adam lr 2e-4, betas (0, 0.9), 5 D steps per
    G step (they suit the hinge and Wasserstein losses).
    """

    requires = frozenset({IMAGES})
    paper = (
        "Miyato, Kataoka, Koyama, Yoshida 2018, Spectral Normalization for Generative Adversarial Networks, ICLR. "
        "arXiv:1802.05957; blocks from Gulrajani et al. 2017, Improved Training of Wasserstein GANs. arXiv:1704.00028"
    )
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9), n_critic=5)

    def __init__(
        self,
        channels: int = 3,
        image_size: int = 32,
        latent_dim: int = 128,
        g_width: int = 256,
        d_width: int = 128,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        check_args(channels=channels, latent_dim=latent_dim, g_width=g_width, d_width=d_width)
        self.generator = ResNetGenerator(latent_dim, channels, image_size, g_width)
        self.discriminator = ResNetDiscriminator(channels, image_size, d_width, sn=spectral_norm)
