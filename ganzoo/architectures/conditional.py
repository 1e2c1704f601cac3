"""Class-conditional GANs: label concatenation (cGAN), projection discriminator, auxiliary classifier.

All three need a labelled dataset and provide ``conditional``. The default :meth:`GANModel.views`
already gives the generator the batch's labels and shows them to the discriminator with both the
real and the fake images; the families differ only in where the label enters the networks.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import IMAGES, LABELS, DInput, DOut, Discriminator, GANModel, Generator, Side, StepContext, TrainDefaults
from ..errors import ConfigError
from .blocks import one_hot
from .common import data_shape, dcgan_init, flatten_maps, positive
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .resnet import ResNetDiscriminator, ResNetGenerator, check_args

CONDITIONAL = "conditional"


def _need_labels(y: Tensor | None, who: str) -> Tensor:
    if y is None:
        raise ValueError(f"the {who} is class-conditional and needs labels y")
    return y


class ConcatGenerator(Generator):
    """A generator body fed ``[z, one_hot(y)]``: the conditioning of Mirza & Osindero (2014)."""

    def __init__(self, body: nn.Module, latent_dim: int, num_classes: int) -> None:
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.body = body

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        y = _need_labels(y, "generator")
        return self.body(torch.cat([z, one_hot(y, self.num_classes, z.dtype)], dim=1))


class ConcatConvDiscriminator(Discriminator):
    """DCGAN discriminator whose input is the image with one constant one-hot map per class."""

    def __init__(self, channels: int, image_size: int, width: int, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        net = DCGANDiscriminator(channels + num_classes, image_size, width)
        self.body, self.out = net.body, net.out

    def features(self, inp: DInput) -> Tensor:
        x = inp.x
        y = one_hot(_need_labels(inp.y, "discriminator"), self.num_classes, x.dtype)
        maps = y[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return flatten_maps(self.body(torch.cat([x, maps], dim=1)))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


class ConcatMLPDiscriminator(Discriminator):
    """Fully connected discriminator on ``[flatten(x), one_hot(y)]``."""

    def __init__(self, hidden: tuple[int, ...], data_dim: int, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        net = MLPDiscriminator(hidden, data_dim + num_classes)
        self.body, self.out = net.body, net.out

    def features(self, inp: DInput) -> Tensor:
        x = inp.x.flatten(1)
        y = one_hot(_need_labels(inp.y, "discriminator"), self.num_classes, x.dtype)
        return self.body(torch.cat([x, y], dim=1))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1))


class CGAN(GANModel):
    """cGAN: one-hot labels concatenated to G's noise and D's input (Mirza & Osindero 2014).

    Images get DCGAN-style convolutional networks (D sees one constant one-hot map per class next
    to the image); 2D points (or ``body=mlp``) get fully connected networks on ``[x, one_hot(y)]``.
    Without data dimensions it builds the 28 px grayscale (MNIST) networks.
    """

    requires = frozenset({LABELS})
    provides = frozenset({CONDITIONAL})
    paper = "Mirza, Osindero 2014, Conditional Generative Adversarial Nets. arXiv:1411.1784"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        num_classes: int = 10,
        data_dim: int | None = None,
        channels: int | None = None,
        image_size: int | None = None,
        latent_dim: int = 100,
        body: Literal["auto", "conv", "mlp"] = "auto",
        g_width: int = 64,
        d_width: int = 64,
        g_hidden: tuple[int, ...] = (256, 512),
        d_hidden: tuple[int, ...] = (512, 256),
    ) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("latent_dim", latent_dim), ("g_width", g_width), ("d_width", d_width)):
            positive(name, value)
        shape = data_shape(data_dim, channels, image_size, "cgan")
        is_image = len(shape) == 3
        if body == "conv" and not is_image:
            raise ConfigError("cgan body=conv needs image data (channels and image_size); use body=mlp for points")
        if is_image and body != "mlp":
            g_body: nn.Module = DCGANGenerator(latent_dim + num_classes, shape[0], shape[1], g_width)
            self.generator = ConcatGenerator(g_body, latent_dim, num_classes)
            self.discriminator = ConcatConvDiscriminator(shape[0], shape[1], d_width, num_classes)
            dcgan_init(self)
        else:
            g_body = MLPGenerator(latent_dim + num_classes, tuple(g_hidden), shape, bounded=is_image)
            self.generator = ConcatGenerator(g_body, latent_dim, num_classes)
            self.discriminator = ConcatMLPDiscriminator(tuple(d_hidden), math.prod(shape), num_classes)


class ProjectionCGAN(GANModel):
    """Projection cGAN: conditional batch norm in G, projection D (Miyato & Koyama 2018).

    The SNGAN ResNet pair of :mod:`ganzoo.architectures.resnet` with per-class batch-norm scales and
    shifts in every generator block and a discriminator score ``psi(h) + <embed(y), h>``. Paper
    defaults: Adam lr 2e-4, betas (0, 0.9), 5 D steps per G step, spectral norm in D.
    """

    requires = frozenset({IMAGES, LABELS})
    provides = frozenset({CONDITIONAL})
    paper = "Miyato, Koyama 2018, cGANs with Projection Discriminator, ICLR. arXiv:1802.05637"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9), n_critic=5)

    def __init__(
        self,
        num_classes: int = 10,
        channels: int = 3,
        image_size: int = 32,
        latent_dim: int = 128,
        g_width: int = 256,
        d_width: int = 128,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        check_args(num_classes=num_classes, channels=channels, latent_dim=latent_dim, g_width=g_width, d_width=d_width)
        self.generator = ResNetGenerator(latent_dim, channels, image_size, g_width, num_classes)
        self.discriminator = ResNetDiscriminator(channels, image_size, d_width, num_classes, sn=spectral_norm)


class ACGANDiscriminator(Discriminator):
    """DCGAN discriminator with two heads: real/fake score and class logits (``extras["class_logits"]``)."""

    def __init__(self, channels: int, image_size: int, width: int, num_classes: int) -> None:
        super().__init__()
        net = DCGANDiscriminator(channels, image_size, width)
        self.body, self.out = net.body, net.out
        self.classifier = nn.Linear(net.out.in_features, num_classes)

    def features(self, inp: DInput) -> Tensor:
        return flatten_maps(self.body(inp.x))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        return DOut(self.out(h).squeeze(1), extras={"class_logits": self.classifier(h)})


class ACGAN(GANModel):
    """ACGAN: D also classifies images, G is rewarded for fakes of the intended class (Odena et al. 2017).

    G is a DCGAN generator fed ``[z, one_hot(y)]``; D is a DCGAN discriminator with an auxiliary
    classifier head. The class log-likelihood L_C enters both sides as ``terms(...)["class"]``:
    D maximizes it on real and fake images, G on its fakes, each weighted by ``class_weight``.
    """

    requires = frozenset({IMAGES, LABELS})
    provides = frozenset({CONDITIONAL})
    paper = "Odena, Olah, Shlens 2017, Conditional Image Synthesis with Auxiliary Classifier GANs, ICML. arXiv:1610.09585"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        num_classes: int = 10,
        channels: int = 1,
        image_size: int = 28,
        latent_dim: int = 100,
        g_width: int = 64,
        d_width: int = 64,
        class_weight: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("channels", channels), ("latent_dim", latent_dim), ("g_width", g_width), ("d_width", d_width)):
            positive(name, value)
        if not math.isfinite(class_weight) or class_weight < 0:
            raise ConfigError(f"class_weight must be a finite number >= 0, got {class_weight}")
        self.class_weight = class_weight
        body = DCGANGenerator(latent_dim + num_classes, channels, image_size, g_width)
        self.generator = ConcatGenerator(body, latent_dim, num_classes)
        self.discriminator = ACGANDiscriminator(channels, image_size, d_width, num_classes)
        dcgan_init(self)

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        # -L_C: cross-entropy of the auxiliary classifier against the labels each side was built with
        loss = F.cross_entropy(ctx.fake.extras["class_logits"].float(), ctx.views.fake.y)
        if side == "d" and ctx.real is not None:
            loss = loss + F.cross_entropy(ctx.real.extras["class_logits"].float(), ctx.views.real.y)
        return {"class": self.class_weight * loss}
