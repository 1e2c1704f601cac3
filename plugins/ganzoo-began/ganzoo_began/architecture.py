"""BEGAN's networks: an autoencoder as the discriminator and a generator shaped like its decoder.

Berthelot et al. (2017), figure 1: 3x3 convolutions with exponential-linear units everywhere,
down-sampling by stride-2 convolutions in the encoder (channels growing n, 2n, 3n, ...), up-sampling
by nearest neighbour in the decoder (n channels throughout), and fully connected layers between the
8x8 feature map and the embedding h. The generator has the decoder's structure with its own weights.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganzoo.contracts import IMAGES, DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults

# Capability this architecture offers; the BEGAN loss requires it (its score must be an energy).
AUTOENCODER_DISCRIMINATOR = "autoencoder_discriminator"

# Adam with lr 1e-4 as in the paper (section 4.1); betas as in DCGAN, which the paper does not change.
BEGAN_DEFAULTS = TrainDefaults(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999), n_critic=1)


def plan(image_size: int) -> tuple[int, int]:
    """(base map size, number of 2x stages): the paper works from an 8x8 map; 28 px uses 7x7."""
    for base in (8, 7):
        stages = math.log2(image_size / base) if image_size > base else 0.0
        if stages >= 1 and stages.is_integer():
            return base, int(stages)
    raise ValueError(f"image_size must be 8*2^k or 7*2^k with k >= 1 (e.g. 28, 32, 64, 128), got {image_size}")


def conv(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride, 1)


class Decoder(nn.Module):
    """h -> image: FC to an n x base x base map, then [conv, ELU, conv, ELU, upsample] per stage."""

    def __init__(self, in_dim: int, hidden: int, channels: int, base: int, stages: int) -> None:
        super().__init__()
        self.hidden, self.base = hidden, base
        self.fc = nn.Linear(in_dim, hidden * base * base)
        layers: list[nn.Module] = []
        for i in range(stages + 1):
            layers += [conv(hidden, hidden), nn.ELU(inplace=True), conv(hidden, hidden), nn.ELU(inplace=True)]
            if i < stages:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        # A linear output, as in the paper: the L1 energy compares it with data in [-1, 1] directly.
        layers.append(conv(hidden, channels))
        self.body = nn.Sequential(*layers)

    def forward(self, h: Tensor) -> Tensor:
        return self.body(self.fc(h).view(h.shape[0], self.hidden, self.base, self.base))


class Encoder(nn.Module):
    """image -> h: [conv, ELU, conv, ELU, stride-2 conv to the next width] per stage, then FC."""

    def __init__(self, channels: int, hidden: int, embedding: int, base: int, stages: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv(channels, hidden), nn.ELU(inplace=True)]
        for i in range(stages):
            c = (i + 1) * hidden
            layers += [conv(c, c), nn.ELU(inplace=True), conv(c, c), nn.ELU(inplace=True)]
            layers += [conv(c, c + hidden, stride=2), nn.ELU(inplace=True)]
        c = (stages + 1) * hidden
        layers += [conv(c, c), nn.ELU(inplace=True), conv(c, c), nn.ELU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c * base * base, embedding)  # no activation: h is a linear bottleneck

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.body(x).flatten(1))


class BEGANGenerator(Generator):
    """G: z ~ U[-1, 1]^N_z -> image, the decoder's structure with its own weights."""

    latent_prior = "uniform"  # the paper samples z uniformly in [-1, 1]

    def __init__(self, latent_dim: int, hidden: int, channels: int, base: int, stages: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = Decoder(latent_dim, hidden, channels, base, stages)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z)


class AutoencoderDiscriminator(Discriminator):
    """D: encoder -> embedding h (``features``) -> decoder; the score is the per-sample L1 energy.

    ``DOut.score`` is ``mean |x - D(x)|`` over pixels, so *low* means "looks like data"; the
    reconstruction itself is returned in ``extras["reconstruction"]`` for inspection.
    """

    def __init__(self, channels: int, hidden: int, embedding: int, base: int, stages: int) -> None:
        super().__init__()
        self.encoder = Encoder(channels, hidden, embedding, base, stages)
        self.decoder = Decoder(embedding, hidden, channels, base, stages)

    def features(self, inp: DInput) -> Tensor:
        return self.encoder(inp.x)

    def head(self, h: Tensor, inp: DInput) -> DOut:
        recon = self.decoder(h)
        energy = (recon - inp.x).abs().flatten(1).mean(1)
        return DOut(energy, extras={"reconstruction": recon})


class BEGAN(GANModel):
    """BEGAN: autoencoder discriminator with an L1 energy, ELU conv nets (Berthelot et al. 2017).

    Encoder -> embedding h -> decoder as D, a decoder-shaped G, nearest-neighbour upsampling,
    stride-2 downsampling; hidden size n=64, embedding 64, z ~ U[-1, 1]^64; 28, 32 or 64 px (any
    8*2^k or 7*2^k). Train it with the `began` loss; other losses read the energy as their score.
    """

    requires = frozenset({IMAGES})
    provides = frozenset({AUTOENCODER_DISCRIMINATOR})
    paper = (
        "Berthelot, Schumm, Metz 2017, BEGAN: Boundary Equilibrium Generative Adversarial Networks. "
        "arXiv:1703.10717"
    )
    train_defaults = BEGAN_DEFAULTS

    def __init__(
        self,
        channels: int = 3,
        image_size: int = 64,
        latent_dim: int = 64,
        embedding: int = 64,
        hidden: int = 64,
    ) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("latent_dim", latent_dim), ("embedding", embedding), ("hidden", hidden)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        base, stages = plan(image_size)
        self.generator = BEGANGenerator(latent_dim, hidden, channels, base, stages)
        self.discriminator = AutoencoderDiscriminator(channels, hidden, embedding, base, stages)
