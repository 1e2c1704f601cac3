"""Bidirectional GANs (BiGAN / ALI): a generator, an encoder, and a discriminator on (x, z) pairs."""
from __future__ import annotations

import itertools
import math
from typing import Iterable, Literal

import torch
from torch import Tensor, nn

from ..contracts import Batch, DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults, Views
from .common import FlattenMaps, dcgan_init, positive, pyramid_plan
from .dcgan import DCGANGenerator
from .mlp import MLPGenerator


def conv_body(channels: int, image_size: int, width: int, family: str, batch_norm: bool) -> tuple[nn.Sequential, int]:
    """Strided 4x4 convolutions down to the base map, flattened; returns the net and its width.

    The DCGAN discriminator's body; the encoder keeps its batch norm, the pair discriminator drops
    it so that gradient-penalty losses see a per-sample critic.
    """
    base, stages = pyramid_plan(image_size, family)
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    c = width
    for _ in range(stages - 1):
        layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=not batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(c * 2))
        layers.append(nn.LeakyReLU(0.2, True))
        c *= 2
    layers.append(FlattenMaps())
    return nn.Sequential(*layers), c * base * base


def mlp_body(in_features: int, hidden: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = [FlattenMaps()]
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(0.2, True)]
        width = h
    return nn.Sequential(*layers), width


class Encoder(nn.Module):
    """x -> z. Deterministic (BiGAN) or a reparameterised Gaussian q(z|x) (ALI)."""

    def __init__(self, body: nn.Module, width: int, latent_dim: int, stochastic: bool) -> None:
        super().__init__()
        self.body, self.stochastic = body, stochastic
        self.out = nn.Linear(width, latent_dim * (2 if stochastic else 1))

    def forward(self, x: Tensor, sample: bool = True) -> Tensor:
        out = self.out(self.body(x))
        if not self.stochastic:
            return out
        mean, log_std = out.chunk(2, dim=1)
        if not sample:
            return mean
        return mean + log_std.clamp(-8.0, 4.0).exp() * torch.randn_like(mean)


class PairDiscriminator(Discriminator):
    """D(x, z): features of x and of z, joined by a hidden layer; one logit per pair."""

    def __init__(self, x_body: nn.Module, x_width: int, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.x_body = x_body
        self.z_body = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2, True))
        self.joint = nn.Sequential(nn.Linear(x_width + hidden, hidden), nn.LeakyReLU(0.2, True))
        self.out = nn.Linear(hidden, 1)

    def features(self, inp: DInput) -> Tensor:
        if inp.z is None:
            raise ValueError("the BiGAN discriminator judges (x, z) pairs; DInput.z is missing")
        return self.joint(torch.cat([self.x_body(inp.x), self.z_body(inp.z.flatten(1))], dim=1))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


def data_shape(data_dim: int | None, channels: int | None, image_size: int | None) -> tuple[int, ...]:
    """(C, H, W) for images, (D,) for points.

    The engine fills all three from the dataset (only ``data_dim`` for points); with none given
    the model is for 1x28x28 images.
    """
    if channels is None and image_size is None and data_dim is not None:
        positive("data_dim", data_dim)
        return (data_dim,)
    channels = 1 if channels is None else channels
    image_size = 28 if image_size is None else image_size
    positive("channels", channels)
    positive("image_size", image_size)
    if data_dim is not None and channels * image_size * image_size != data_dim:
        raise ValueError(f"channels*image_size^2 = {channels * image_size ** 2} does not match data_dim {data_dim}")
    return (channels, image_size, image_size)


def pick_net(net: str, shape: tuple[int, ...], default: str) -> str:
    if net == "auto":
        return default if len(shape) == 3 else "mlp"
    if net == "conv" and len(shape) != 3:
        raise ValueError("net=conv needs images (channels and image_size); use net=mlp for points")
    return net


class BiGAN(GANModel):
    """BiGAN / ALI: G(z), an encoder E(x) and D on (x, z) pairs (Donahue et al. 2017; Dumoulin et al. 2017).

    D tells (x, E(x)) from (G(z), z); G and E are trained together against it, so E learns to
    invert G. Images use DCGAN-style conv nets (28, 32 or 64 px); points (or ``net=mlp``) use MLPs.
    ``encoder=gaussian`` gives ALI's stochastic q(z|x); the default is BiGAN's deterministic E.
    Optimizer defaults are BiGAN's: Adam, lr 2e-4, beta1 0.5; the latent is ALI's 64-d N(0, I).
    """

    provides = frozenset({"encoder"})
    paper = (
        "Donahue, Kraehenbuehl, Darrell 2017, Adversarial Feature Learning, ICLR. arXiv:1605.09782; "
        "Dumoulin et al. 2017, Adversarially Learned Inference, ICLR. arXiv:1606.00704"
    )
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        data_dim: int | None = None,
        channels: int | None = None,
        image_size: int | None = None,
        latent_dim: int = 64,
        net: Literal["auto", "conv", "mlp"] = "auto",
        encoder: Literal["deterministic", "gaussian"] = "deterministic",
        g_width: int = 64,
        e_width: int = 64,
        d_width: int = 64,
        mlp_hidden: tuple[int, ...] = (1024, 1024),
        d_hidden: int = 1024,
    ) -> None:
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("g_width", g_width), ("e_width", e_width), ("d_width", d_width), ("d_hidden", d_hidden)):
            positive(name, value)
        shape = data_shape(data_dim, channels, image_size)
        stochastic = encoder == "gaussian"
        conv = pick_net(net, shape, "conv") == "conv"
        if conv:
            c, size = shape[0], shape[1]
            self.generator: Generator = DCGANGenerator(latent_dim, c, size, g_width)
            e_body, e_out = conv_body(c, size, e_width, "bigan", batch_norm=True)
            x_body, x_out = conv_body(c, size, d_width, "bigan", batch_norm=False)
        else:
            hidden = tuple(mlp_hidden)
            self.generator = MLPGenerator(latent_dim, hidden, shape, bounded=len(shape) == 3)
            e_body, e_out = mlp_body(math.prod(shape), hidden)
            x_body, x_out = mlp_body(math.prod(shape), hidden)
        self.encoder = Encoder(e_body, e_out, latent_dim, stochastic)
        self.discriminator = PairDiscriminator(x_body, x_out, latent_dim, d_hidden)
        if conv:  # the DCGAN init suits the conv nets; the MLPs keep torch's fan-in init
            dcgan_init(self)

    def g_parameters(self) -> Iterable[nn.Parameter]:
        # E is a generator-side player: it is updated with G against D.
        return itertools.chain(self.generator.parameters(), self.encoder.parameters())

    def views(self, batch: Batch, z: Tensor) -> Views:
        real = DInput(batch.x, z=self.encoder(batch.x))
        fake = DInput(self.generator(z), z=z)
        # E(x) makes the real side a function of generator-side parameters, so the G step scores it
        # too and the loss's swapped-role real term trains E.
        return Views(real=real, fake=fake, aux={"z": z}, real_depends_on_generator=True)

    def encode(self, x: Tensor) -> Tensor:
        """E(x); the posterior mean for ALI's Gaussian encoder."""
        return self.encoder(x, sample=False)
