"""Recurrent generator: the image is drawn over T steps onto a shared canvas (GRAN, Im et al. 2016)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..contracts import IMAGES, GANModel, Generator, TrainDefaults
from ..errors import ConfigError
from .common import FlattenMaps, dcgan_init, positive, pyramid_plan
from .dcgan import DCGANDiscriminator


class RecurrentGenerator(Generator):
    """At each step t: ``h_c = encode(C_{t-1})``, ``dC_t = decode([h_z, h_c])``, ``C_t = C_{t-1} + dC_t``.

    ``h_z = tanh(W z)`` is computed once and fed at every step (GRAN keeps one noise sample per
    image); the recurrent state is the canvas itself, read back by a convolutional encoder. The
    sample is ``tanh(C_T) = tanh(sum_t dC_t)`` (the paper squashes the summed canvases with a
    sigmoid; tanh is the same map onto ganzoo's [-1, 1] range).
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int, steps: int, width: int, hidden: int) -> None:
        super().__init__()
        self.latent_dim, self.steps, self.channels, self.image_size = latent_dim, steps, channels, image_size
        base, stages = pyramid_plan(image_size, "rcgan")
        top = width * 2 ** (stages - 1)
        self.project = nn.Linear(latent_dim, hidden)
        # encoder g: canvas -> h_c (a DCGAN-style strided-conv stack)
        enc: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(stages - 1):
            enc += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, True)]
            c *= 2
        enc += [FlattenMaps(), nn.Linear(c * base * base, hidden), nn.Tanh()]
        self.encode = nn.Sequential(*enc)
        # decoder f: [h_z, h_c] -> canvas update (a DCGAN-style transposed-conv stack, linear output)
        dec: list[nn.Module] = [nn.ConvTranspose2d(2 * hidden, top, base, 1, 0, bias=False), nn.BatchNorm2d(top), nn.ReLU(True)]
        c = top
        for _ in range(stages - 1):
            dec += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        dec.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.decode = nn.Sequential(*dec)

    def canvases(self, z: Tensor) -> list[Tensor]:
        """The T canvas updates dC_1..dC_T; the sample is tanh of their sum."""
        h_z = torch.tanh(self.project(z))
        canvas = z.new_zeros(z.shape[0], self.channels, self.image_size, self.image_size)
        updates = []
        for _ in range(self.steps):
            h_c = self.encode(canvas)
            delta = self.decode(torch.cat([h_z, h_c], dim=1)[:, :, None, None])
            canvas = canvas + delta
            updates.append(delta)
        return updates

    def stages(self, z: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """Per drawing step t, the update ``tanh(dC_t)`` and the canvas so far ``tanh(dC_1 + ... + dC_t)``;
        the last canvas is the sample."""
        out: dict[str, Tensor] = {}
        canvas = None
        for t, delta in enumerate(self.canvases(z), start=1):
            canvas = delta if canvas is None else canvas + delta
            out[f"update {t}"] = torch.tanh(delta)
            out[f"canvas {t}"] = torch.tanh(canvas)
        return out

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return torch.tanh(torch.stack(self.canvases(z)).sum(0))


class RCGAN(GANModel):
    """RCGAN/GRAN: a recurrent generator sums T drawn canvases (Im et al. 2016, "Generating images with recurrent adversarial networks").

    G unrolls ``steps`` times (default 3) a convolutional encoder of the current canvas and a
    transposed-convolution decoder that adds to it; D is the DCGAN discriminator. 28, 32 or 64 px.
    """

    requires = frozenset({IMAGES})
    paper = "Im, Kim, Jiang, Memisevic 2016, Generating images with recurrent adversarial networks. arXiv:1602.05110"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 28,
        latent_dim: int = 100,
        steps: int = 3,
        hidden: int = 100,
        g_width: int = 64,
        d_width: int = 64,
    ) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("latent_dim", latent_dim), ("hidden", hidden), ("g_width", g_width), ("d_width", d_width)):
            positive(name, value)
        if steps < 1:
            raise ConfigError(f"steps (the number of drawing steps T) must be >= 1, got {steps}")
        self.generator = RecurrentGenerator(latent_dim, channels, image_size, steps, g_width, hidden)
        self.discriminator = DCGANDiscriminator(channels, image_size, d_width)
        dcgan_init(self)
