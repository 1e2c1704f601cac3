"""InfoGAN: a structured latent whose codes a Q head must recover from the generated sample.

The latent is laid out as ``[noise | one-hot categorical codes | continuous codes]``, from three
attributes of the generator: ``noise_dim``, ``categorical`` (a tuple of category counts) and
``continuous`` (a count). Its :meth:`~InfoGANGenerator.latent_codes` names the codes ``c1, c2,
...`` (categorical first, as in the paper's MNIST experiment: c1 = digit, c2 and c3 = style), and
:func:`ganzoo.traversal.traverse` sweeps any of them.
"""
from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import DInput, DOut, Discriminator, GANModel, Generator, LatentCode, Side, StepContext, TrainDefaults, noise_codes
from ..errors import ConfigError
from .common import FlattenMaps, data_shape, positive, pyramid_plan

Q_HEAD = "q_head"


class InfoGANGenerator(Generator):
    """Gaussian noise, one-hot categorical codes and Uniform(-1, 1) continuous codes, fed to ``body``."""

    def __init__(self, body: nn.Module, noise_dim: int, categorical: tuple[int, ...], continuous: int) -> None:
        super().__init__()
        self.noise_dim, self.categorical, self.continuous = noise_dim, tuple(categorical), continuous
        self.latent_dim = noise_dim + sum(self.categorical) + continuous
        self.body = body

    def latent_codes(self) -> tuple[LatentCode, ...]:
        """The codes ``c1, c2, ...`` (categorical first), then the noise dimensions ``z1, z2, ...``."""
        codes: list[LatentCode] = []
        start = self.noise_dim
        for k in self.categorical:
            codes.append(LatentCode(f"c{len(codes) + 1}", "categorical", start, k))
            start += k
        for _ in range(self.continuous):
            codes.append(LatentCode(f"c{len(codes) + 1}", "continuous", start, 1))
            start += 1
        return (*codes, *noise_codes(self.noise_dim))

    def describe_latent(self) -> str:
        parts = [f"{self.noise_dim}-d standard normal noise"]
        parts += [f"a {k}-way one-hot categorical code" for k in self.categorical]
        if self.continuous:
            parts.append(f"{self.continuous} continuous code{'s' if self.continuous > 1 else ''} Uniform(-1, 1)")
        return f"{self.latent_dim}-d: " + ", ".join(parts)

    def sample_latent(self, n: int, *, generator: torch.Generator | None = None, device: Any = None) -> Tensor:
        device = device if device is not None else next(self.parameters()).device
        parts = [torch.randn(n, self.noise_dim, generator=generator)]
        for k in self.categorical:
            parts.append(F.one_hot(torch.randint(k, (n,), generator=generator), k).float())
        parts.append(torch.rand(n, self.continuous, generator=generator) * 2 - 1)
        return torch.cat(parts, dim=1).to(device)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.body(z)


def _activation(slope: float) -> nn.Module:
    return nn.LeakyReLU(slope, True) if slope else nn.ReLU(True)


class ConvGenerator(nn.Module):
    """The paper's MNIST generator: FC ``hidden`` - FC base^2 x C - upconvs (BN, ReLU) - tanh.

    ``slope`` > 0 puts leaky ReLUs in place of the ReLUs (Lucic et al.'s variant of these networks).
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int, hidden: int = 1024, slope: float = 0.0,
                 family: str = "infogan") -> None:
        super().__init__()
        base, stages = pyramid_plan(image_size, family)
        c = width * 2 ** (stages - 1)
        self.shape = (c, base, base)
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.BatchNorm1d(hidden), _activation(slope),
            nn.Linear(hidden, c * base * base), nn.BatchNorm1d(c * base * base), _activation(slope),
        )
        layers: list[nn.Module] = []
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), _activation(slope)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.deconv(self.fc(z).view(z.shape[0], *self.shape))


class ConvTrunk(nn.Module):
    """The paper's MNIST discriminator trunk: conv 64 - conv 128 (BN) - FC ``hidden`` (BN), LeakyReLU 0.1.

    ``batch_norm=False`` leaves the batch norms out (Lucic et al. switch them per loss).
    """

    def __init__(self, channels: int, image_size: int, width: int, hidden: int = 1024, slope: float = 0.1,
                 batch_norm: bool = True, family: str = "infogan") -> None:
        super().__init__()
        base, stages = pyramid_plan(image_size, family)

        def norm(kind: type[nn.Module], size: int) -> nn.Module:
            return kind(size) if batch_norm else nn.Identity()

        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(slope, True)]
        c = width
        for _ in range(stages - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1), norm(nn.BatchNorm2d, c * 2), nn.LeakyReLU(slope, True)]
            c *= 2
        layers += [FlattenMaps(), nn.Linear(c * base * base, hidden), norm(nn.BatchNorm1d, hidden), nn.LeakyReLU(slope, True)]
        self.net = nn.Sequential(*layers)
        self.out_features = hidden

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def _mlp(sizes: list[int], act: nn.Module, out_act: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if out_act or i < len(sizes) - 2:
            layers.append(act)
    return nn.Sequential(*layers)


class InfoGANDiscriminator(Discriminator):
    """A trunk shared by D's real/fake score and the Q head that predicts the codes.

    ``extras``: ``q_logits`` (all categorical codes' logits side by side), ``q_mu`` and, with a
    learned variance, ``q_logvar`` for the continuous codes.
    """

    def __init__(self, trunk: nn.Module, features: int, categorical: tuple[int, ...], continuous: int, learn_variance: bool, q_hidden: int = 128) -> None:
        super().__init__()
        self.trunk = trunk
        self.categorical, self.continuous, self.learn_variance = tuple(categorical), continuous, learn_variance
        self.out = nn.Linear(features, 1)
        q_out = sum(self.categorical) + continuous * (2 if learn_variance else 1)
        self.q = nn.Sequential(nn.Linear(features, q_hidden), nn.BatchNorm1d(q_hidden), nn.LeakyReLU(0.1, True), nn.Linear(q_hidden, q_out))

    def features(self, inp: DInput) -> Tensor:
        x = inp.x
        return self.trunk(x if x.dim() > 2 else x.flatten(1))

    def head(self, h: Tensor, inp: DInput) -> DOut:
        q = self.q(h)
        n_cat = sum(self.categorical)
        extras = {"q_logits": q[:, :n_cat], "q_mu": q[:, n_cat : n_cat + self.continuous]}
        if self.learn_variance:
            # bounded so one confident prediction cannot drive the likelihood to infinity
            extras["q_logvar"] = q[:, n_cat + self.continuous :].clamp(-5.0, 5.0)
        return DOut(self.out(h).squeeze(1), extras=extras)


class InfoGAN(GANModel):
    """InfoGAN: latent codes recovered by a Q head, maximizing mutual information (Chen et al. 2016).

    The latent is 62-d Gaussian noise, one 10-way categorical code and two Uniform(-1, 1)
    continuous codes (the paper's MNIST setting). Q shares D's trunk and predicts the codes of a
    fake; the variational lower bound of I(c; G(z, c)) enters both sides as ``terms``
    (``mi_cat`` weighted 1, ``mi_cont`` weighted 0.1; continuous codes as a Gaussian of fixed unit
    variance unless ``q_variance=learned``). Images use the paper's MNIST networks (28 px; 32 and
    64 px add up/down-sampling stages; with no data dimensions, 28 px grayscale); 2D points use
    fully connected networks (``hidden``).
    Paper defaults: Adam, lr 1e-3 for G and 2e-4 for D, beta1 0.5.
    """

    provides = frozenset({Q_HEAD})
    paper = (
        "Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel 2016, InfoGAN: Interpretable Representation "
        "Learning by Information Maximizing Generative Adversarial Nets, NeurIPS. arXiv:1606.03657"
    )
    train_defaults = TrainDefaults(optimizer="adam", lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        data_dim: int | None = None,
        channels: int | None = None,
        image_size: int | None = None,
        noise_dim: int = 62,
        categorical: tuple[int, ...] = (10,),
        continuous: int = 2,
        lambda_cat: float = 1.0,
        lambda_cont: float = 0.1,
        q_variance: Literal["fixed", "learned"] = "fixed",
        g_width: int = 64,
        d_width: int = 64,
        hidden: tuple[int, ...] = (256, 256),
    ) -> None:
        super().__init__()
        positive("g_width", g_width)
        positive("d_width", d_width)
        if noise_dim < 0 or continuous < 0:
            raise ConfigError(f"noise_dim and continuous must be >= 0, got {noise_dim} and {continuous}")
        if any(k < 2 for k in categorical):
            raise ConfigError(f"every categorical code needs at least 2 categories, got {tuple(categorical)}")
        if not categorical and not continuous:
            raise ConfigError("InfoGAN needs at least one code: set categorical (e.g. 10) or continuous (e.g. 2)")
        for name, value in (("lambda_cat", lambda_cat), ("lambda_cont", lambda_cont)):
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number >= 0, got {value}")
        self.lambda_cat, self.lambda_cont = lambda_cat, lambda_cont
        categorical = tuple(categorical)
        latent_dim = noise_dim + sum(categorical) + continuous
        shape = data_shape(data_dim, channels, image_size, "infogan")
        if len(shape) == 3:
            g_body: nn.Module = ConvGenerator(latent_dim, shape[0], shape[1], g_width)
            trunk: nn.Module = ConvTrunk(shape[0], shape[1], d_width)
            features = trunk.out_features
        else:  # points: fully connected networks, linear output
            g_body = _mlp([latent_dim, *hidden, shape[0]], nn.ReLU(True), out_act=False)
            trunk = _mlp([shape[0], *hidden], nn.LeakyReLU(0.1, True), out_act=True)
            features = hidden[-1] if hidden else shape[0]
        self.generator = InfoGANGenerator(g_body, noise_dim, categorical, continuous)
        self.discriminator = InfoGANDiscriminator(trunk, features, categorical, continuous, q_variance == "learned")
        _init(self)

    def mutual_information(self, z: Tensor, out: DOut) -> dict[str, Tensor]:
        """The negated MI lower bound, -E[log Q(c | G(z, c))] (H(c) is constant and left out)."""
        terms: dict[str, Tensor] = {}
        codes = self.generator.latent_codes()
        logits = out.extras["q_logits"].float()
        n_cat = sum(self.generator.categorical)
        offset, cat = 0, []
        for code in codes:
            if code.kind == "categorical":
                target = z[:, code.start : code.start + code.size].argmax(1)
                cat.append(F.cross_entropy(logits[:, offset : offset + code.size], target))
                offset += code.size
        if cat:
            terms["mi_cat"] = self.lambda_cat * torch.stack(cat).sum()
        if self.generator.continuous:
            c = z[:, self.generator.noise_dim + n_cat :].float()
            mu = out.extras["q_mu"].float()
            if "q_logvar" in out.extras:
                logvar = out.extras["q_logvar"].float()
                nll = 0.5 * (logvar + (c - mu) ** 2 * torch.exp(-logvar))
            else:
                nll = 0.5 * (c - mu) ** 2
            terms["mi_cont"] = self.lambda_cont * nll.sum(1).mean()
        return terms

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        # Both players maximize the bound: Q (sharing D's trunk) on the D side, G on its own side.
        return self.mutual_information(ctx.views.aux["z"], ctx.fake)


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
