"""The original fully connected GAN, with the options the mode-collapse toys of VEEGAN / PacGAN use
(a batch-normalised generator, a maxout discriminator, N(0, std) initialisation)."""
from __future__ import annotations

import math

from torch import Tensor, nn

from ..contracts import DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults
from ..errors import ConfigError
from .common import positive


class Maxout(nn.Module):
    """``out`` maxout units of ``pieces`` linear pieces each (Goodfellow et al. 2013)."""

    def __init__(self, width: int, out: int, pieces: int) -> None:
        super().__init__()
        self.out, self.pieces = out, pieces
        self.linear = nn.Linear(width, out * pieces)

    def forward(self, x: Tensor) -> Tensor:
        h = self.linear(x)  # rows from h, not x: a trick may swap the linear layer for one that regroups rows (pack)
        return h.view(*h.shape[:-1], self.out, self.pieces).amax(dim=-1)


class MLPGenerator(Generator):
    def __init__(self, latent_dim: int, hidden: tuple[int, ...], shape: tuple[int, ...], bounded: bool,
                 batch_norm: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.shape = latent_dim, shape
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            if batch_norm:  # batch norm's shift makes the linear layer's bias redundant
                layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(inplace=True)]
            else:
                layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            width = h
        layers.append(nn.Linear(width, math.prod(shape)))
        if bounded:  # images live in [-1, 1]; toy points do not
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(Discriminator):
    def __init__(self, hidden: tuple[int, ...], in_features: int, maxout: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [Maxout(width, h, maxout)] if maxout else [nn.Linear(width, h), nn.LeakyReLU(0.2, inplace=True)]
            width = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(width, 1)

    def features(self, inp: DInput) -> Tensor:
        return self.body(inp.x.flatten(1))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


class MLPGAN(GANModel):
    """Vanilla GAN: fully connected G and D (Goodfellow et al. 2014, "Generative Adversarial Nets").

    G maps 100-d Gaussian noise through ReLU layers to a tanh image (linear output for 2D points);
    D mirrors it with LeakyReLU layers and outputs one logit. Works on images and on toy points.
    ``g_batch_norm``, ``d_maxout`` and ``init_std`` give the networks of the VEEGAN / PacGAN toys
    (``ganzoo bench --preset pacgan``).
    """

    paper = "Goodfellow et al. 2014, Generative Adversarial Nets, NeurIPS. arXiv:1406.2661"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        data_dim: int = 784,
        channels: int | None = None,
        image_size: int | None = None,
        latent_dim: int = 100,
        g_hidden: tuple[int, ...] = (256, 512, 1024),
        d_hidden: tuple[int, ...] = (1024, 512, 256),
        g_batch_norm: bool = False,
        d_maxout: int = 0,
        init_std: float | None = None,
    ) -> None:
        """``g_batch_norm``: batch norm before every hidden ReLU of G. ``d_maxout``: 0 for LeakyReLU
        layers in D, k >= 2 for maxout units of k pieces. ``init_std``: draw every linear weight from
        N(0, init_std) with zero biases (None: PyTorch's default initialisation)."""
        super().__init__()
        positive("data_dim", data_dim)
        positive("latent_dim", latent_dim)
        if d_maxout == 1 or d_maxout < 0:
            raise ConfigError(f"d_maxout must be 0 (LeakyReLU) or at least 2 pieces, got {d_maxout}")
        if init_std is not None:
            positive("init_std", init_std)
        is_image = channels is not None and image_size is not None
        shape = (channels, image_size, image_size) if is_image else (data_dim,)
        if math.prod(shape) != data_dim:
            raise ValueError(f"channels*image_size^2 = {math.prod(shape)} does not match data_dim {data_dim}")
        self.generator = MLPGenerator(latent_dim, tuple(g_hidden), shape, bounded=is_image, batch_norm=g_batch_norm)
        self.discriminator = MLPDiscriminator(tuple(d_hidden), data_dim, maxout=d_maxout)
        if init_std is not None:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, init_std)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
