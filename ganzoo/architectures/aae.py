"""Adversarial autoencoders: an autoencoder whose code distribution a GAN matches to a prior."""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import Batch, DInput, GANModel, Generator, Side, StepContext, TrainDefaults, Views
from .bigan import Encoder, conv_body, data_shape, mlp_body, pick_net
from .common import dcgan_init, positive
from .dcgan import DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator


class Decoder(Generator):
    """p(x|z), used as the generator: samples are decoded draws from the prior."""

    def __init__(self, net: nn.Module, latent_dim: int, prior: str, components: int, radius: float, std: float) -> None:
        super().__init__()
        self.net, self.latent_dim = net, latent_dim
        self.prior, self.components, self.radius, self.std = prior, components, radius, std

    def mixture_means(self) -> Tensor:
        """Component means evenly spaced on a circle in the first two latent coordinates."""
        angles = torch.arange(self.components, dtype=torch.float32) * (2 * math.pi / self.components)
        means = torch.zeros(self.components, self.latent_dim)
        means[:, 0], means[:, 1] = self.radius * angles.cos(), self.radius * angles.sin()
        return means

    def describe_latent(self) -> str:
        if self.prior == "mixture":
            return (f"{self.latent_dim}-d mixture of {self.components} Gaussians (std {self.std:g}) with means on a circle of "
                    f"radius {self.radius:g} in the first two dimensions")
        return super().describe_latent()

    def sample_latent(self, n: int, *, generator: torch.Generator | None = None, device: Any = None) -> Tensor:
        z = super().sample_latent(n, generator=generator, device="cpu")
        if self.prior == "mixture":
            which = torch.randint(self.components, (n,), generator=generator)
            z = self.mixture_means()[which] + self.std * z
        device = device if device is not None else next(self.parameters()).device
        return z.to(device)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z)


class AAE(GANModel):
    """Adversarial autoencoder: an autoencoder with a GAN on its codes (Makhzani et al. 2016).

    The encoder q(z|x) and the decoder are trained to reconstruct x (an auxiliary generator-side
    loss); a discriminator on latents tells prior samples (real) from codes E(x) (fake), which
    pushes the aggregated posterior onto the prior. The decoder is the generator used for
    sampling. Defaults follow the paper's MNIST model: 8-d Gaussian code, MLPs of 1000 units
    (``net=conv`` or ``auto`` gives DCGAN-style conv nets for 28/32/64 px); ``prior=mixture`` is
    its mixture of Gaussians on a circle. The reconstruction is a per-element mean (MSE, or BCE
    on [0, 1]-scaled pixels) weighted by ``recon_weight`` against the adversarial term; both are
    optimized in one Adam step (lr 1e-3, beta1 0.5) where the paper used two SGD phases.
    """

    provides = frozenset({"encoder"})
    paper = "Makhzani, Shlens, Jaitly, Goodfellow, Frey 2016, Adversarial Autoencoders, ICLR workshop. arXiv:1511.05644"
    # The paper alternates a reconstruction and a regularisation phase, each an SGD step; here one
    # Adam step on their sum, with recon_weight setting the balance the separate steps gave.
    train_defaults = TrainDefaults(optimizer="adam", lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.999))

    def __init__(
        self,
        data_dim: int | None = None,
        channels: int | None = None,
        image_size: int | None = None,
        latent_dim: int = 8,
        net: Literal["auto", "mlp", "conv"] = "mlp",
        hidden: tuple[int, ...] = (1000, 1000),
        width: int = 64,
        d_hidden: tuple[int, ...] = (1000, 1000),
        prior: Literal["gaussian", "mixture"] = "gaussian",
        mixture_components: int = 10,
        mixture_radius: float = 4.0,
        mixture_std: float = 0.5,
        recon_loss: Literal["mse", "bce"] = "mse",
        recon_weight: float = 10.0,
    ) -> None:
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("width", width), ("mixture_components", mixture_components), ("mixture_std", mixture_std)):
            positive(name, value)
        if recon_weight < 0:
            raise ValueError(f"recon_weight must be >= 0, got {recon_weight}")
        if prior == "mixture" and latent_dim < 2:
            raise ValueError("prior=mixture places its components on a circle and needs latent_dim >= 2")
        shape = data_shape(data_dim, channels, image_size)
        if recon_loss == "bce" and len(shape) != 3:
            raise ValueError("recon_loss=bce needs images in [-1, 1]; use recon_loss=mse for points")
        self.recon_loss, self.recon_weight = recon_loss, recon_weight
        chosen = pick_net(net, shape, "conv")
        if chosen == "conv":
            c, size = shape[0], shape[1]
            decoder: nn.Module = DCGANGenerator(latent_dim, c, size, width)
            body, out = conv_body(c, size, width, "aae", batch_norm=True)
        else:
            decoder = MLPGenerator(latent_dim, tuple(hidden), shape, bounded=len(shape) == 3)
            body, out = mlp_body(math.prod(shape), tuple(hidden))
        self.generator = Decoder(decoder, latent_dim, prior, mixture_components, mixture_radius, mixture_std)
        self.encoder = Encoder(body, out, latent_dim, stochastic=False)
        self.discriminator = MLPDiscriminator(tuple(d_hidden), latent_dim)
        if chosen == "conv":
            dcgan_init(self)

    def g_parameters(self) -> Iterable[nn.Parameter]:
        return itertools.chain(self.generator.parameters(), self.encoder.parameters())

    def views(self, batch: Batch, z: Tensor) -> Views:
        # The engine draws z from sample_latent, i.e. from the prior: that is the real side.
        code = self.encoder(batch.x)
        return Views(real=DInput(z), fake=DInput(code), aux={"x": batch.x, "code": code})

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "g" or not self.recon_weight:
            return {}
        # From aux, not views.fake: input tricks may have altered what D sees.
        x, recon = ctx.views.aux["x"], self.generator(ctx.views.aux["code"])
        if self.recon_loss == "bce":
            # Written out: F.binary_cross_entropy refuses to run under autocast.
            p, t = ((recon.float() + 1) / 2).clamp(1e-6, 1 - 1e-6), (x.float() + 1) / 2
            loss = -(t * p.log() + (1 - t) * (1 - p).log()).mean()
        else:
            loss = F.mse_loss(recon, x)
        return {"recon": self.recon_weight * loss}

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)
