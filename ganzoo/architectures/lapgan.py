"""Laplacian pyramid GANs: a coarse generator and per-level generators of high-pass residuals."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import IMAGES, Batch, DInput, DOut, Discriminator, GANModel, Generator, TrainDefaults, Views
from .common import FlattenMaps, dcgan_init, positive


def downsample(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, 2)


def upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def laplacian_pyramid(x: Tensor, levels: int) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """Coarse to fine: ``(coarsest image, residual_1, ..., residual_L-1)`` and the conditions
    ``(upsample(low_0), ..., upsample(low_L-2))`` the residuals are added to.

    ``upsample(coarse) + residual_1`` is the next finer low-pass image, and so on up to ``x``;
    the residuals are defined as differences, so the reconstruction is exact whatever the filters.
    """
    lows = [x]
    for _ in range(levels - 1):
        lows.append(downsample(lows[-1]))
    lows.reverse()  # coarse to fine
    conds = tuple(upsample(low) for low in lows[:-1])
    residuals = tuple(finer - cond for finer, cond in zip(lows[1:], conds))
    return (lows[0], *residuals), conds


class BaseGenerator(nn.Module):
    """The coarsest level: a fully connected generator of a small image (the paper's CIFAR G)."""

    def __init__(self, latent_dim: int, channels: int, size: int, hidden: int) -> None:
        super().__init__()
        self.shape = (channels, size, size)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(True),
            nn.Linear(hidden, hidden), nn.ReLU(True),
            nn.Linear(hidden, channels * size * size), nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class ResidualGenerator(nn.Module):
    """G_k(z_k, l_k): a high-pass residual given the upsampled coarser image.

    The noise vector is projected to one extra input plane (the paper feeds noise as a fourth
    colour plane); a vector keeps the sampling latent compact and interpolable.
    """

    def __init__(self, latent_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.size = size
        self.noise = nn.Linear(latent_dim, size * size)
        # No batch norm, as in the paper (it predates its use in GANs); the training path calls
        # the levels directly, so batch-level generator tricks (virtual batch norm) do not apply.
        self.net = nn.Sequential(
            nn.Conv2d(channels + 1, width, 5, 1, 2), nn.ReLU(True),
            nn.Conv2d(width, width, 5, 1, 2), nn.ReLU(True),
            nn.Conv2d(width, channels, 5, 1, 2),  # linear: residuals are signed
        )

    def forward(self, z: Tensor, low: Tensor) -> Tensor:
        plane = self.noise(z).view(z.shape[0], 1, self.size, self.size)
        return self.net(torch.cat([low, plane], dim=1))


class LaplacianGenerator(Generator):
    """Samples coarse to fine: the base image, then ``image = upsample(image) + G_k(z_k, ...)``.

    The latent is the concatenation ``[z_base, z_1, ..., z_L-1]`` of every level's noise, drawn
    uniformly from [-1, 1] as in the paper.
    """

    latent_prior = "uniform"

    def __init__(self, channels: int, image_size: int, levels: int, base_latent: int, level_latent: int, base_hidden: int, width: int) -> None:
        super().__init__()
        self.base_latent, self.level_latent = base_latent, level_latent
        self.latent_dim = base_latent + (levels - 1) * level_latent
        base = image_size >> (levels - 1)
        self.base = BaseGenerator(base_latent, channels, base, base_hidden)
        self.refiners = nn.ModuleList(
            ResidualGenerator(level_latent, channels, base << k, width) for k in range(1, levels)
        )

    def split(self, z: Tensor) -> tuple[Tensor, ...]:
        """Per-level noises, coarse to fine."""
        return z.split([self.base_latent] + [self.level_latent] * len(self.refiners), dim=1)

    def stages(self, z: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """The pyramid coarse to fine: ``level 1`` (the base image), then for each finer level k the
        residual G_k draws and ``level k = upsample(level k-1) + residual k``; the last is the sample."""
        z_base, *z_levels = self.split(z)
        image = self.base(z_base)
        out = {f"level 1 ({image.shape[-1]} px)": image}
        for k, (refine, z_k) in enumerate(zip(self.refiners, z_levels), start=2):
            low = upsample(image)
            residual = refine(z_k, low)
            image = low + residual
            out[f"residual {k}"] = residual
            out[f"level {k} ({image.shape[-1]} px)"] = image
        return out

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return list(self.stages(z, y).values())[-1]


class LaplacianDiscriminator(Discriminator):
    """One discriminator per level; ``score`` is ``[B, levels]``, one logit per level and sample.

    ``features`` concatenates every level's penultimate features (so feature-level tricks and
    feature matching see one vector per sample); ``head`` splits them back per level.
    """

    def __init__(self, channels: int, image_size: int, levels: int, base_hidden: int, width: int, dropout: float) -> None:
        super().__init__()
        base = image_size >> (levels - 1)
        # The coarse D is fully connected with dropout, as in the paper.
        bodies: list[nn.Module] = [nn.Sequential(
            FlattenMaps(),
            nn.Linear(channels * base * base, base_hidden), nn.LeakyReLU(0.2, True), nn.Dropout(dropout),
            nn.Linear(base_hidden, base_hidden), nn.LeakyReLU(0.2, True), nn.Dropout(dropout),
        )]
        self.widths = [base_hidden]
        for k in range(1, levels):
            size = base << k
            # D_k sees the residual next to its low-pass condition, two stride-2 convolutions.
            bodies.append(nn.Sequential(
                nn.Conv2d(2 * channels, width, 5, 2, 2), nn.LeakyReLU(0.2, True),
                nn.Conv2d(width, width, 5, 2, 2), nn.LeakyReLU(0.2, True),
                FlattenMaps(),
            ))
            after = ((size + 1) // 2 + 1) // 2  # two stride-2 convolutions, padded
            self.widths.append(width * after * after)
        self.bodies = nn.ModuleList(bodies)
        self.heads = nn.ModuleList(nn.Linear(w, 1) for w in self.widths)

    def features(self, inp: DInput) -> Tensor:
        parts, conds = inp.x, inp.cond
        if not isinstance(parts, tuple) or len(parts) != len(self.bodies) or not isinstance(conds, tuple):
            raise ValueError(f"the LAPGAN discriminator expects a tuple of {len(self.bodies)} pyramid levels in DInput.x and their conditions in DInput.cond")
        feats = [self.bodies[0](parts[0])]
        feats += [body(torch.cat([h, low], dim=1)) for body, h, low in zip(self.bodies[1:], parts[1:], conds)]
        return torch.cat(feats, dim=1)

    def head(self, h: Tensor, inp: DInput) -> DOut:
        chunks = h.split(self.widths, dim=1)
        return DOut(torch.cat([head(c) for head, c in zip(self.heads, chunks)], dim=1))


class LAPGAN(GANModel):
    """LAPGAN: a Laplacian pyramid of conditional GANs, coarse to fine (Denton et al. 2015).

    A fully connected GAN makes the coarsest image (8x8 for 32 px with 3 levels); each finer level
    k has a conditional G_k(z_k, upsample(coarser)) that draws the high-pass residual and a D_k
    on (residual, condition). All levels train jointly in one step; as in the paper, the fake
    residuals are conditioned on the *real* image's coarser level. Sampling chains the levels from
    noise. D's score is ``[B, levels]``, one column per level.

    Paper defaults (CIFAR-10): coarse G/D fully connected with 1200/600 units (D with dropout),
    G_k a 3-layer and D_k a 2-layer convnet, 100-d uniform noise per level. ``image_size`` must be
    divisible by 2^(levels-1) with a base of at least 4 px: 28, 32 and 64 px with 3 levels.
    The paper trained with SGD; Adam (lr 2e-4, beta1 0.5) is the default here.
    """

    requires = frozenset({IMAGES})
    paper = "Denton, Chintala, Szlam, Fergus 2015, Deep Generative Image Models using a Laplacian Pyramid of Adversarial Networks, NeurIPS. arXiv:1506.05751"
    train_defaults = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))

    def __init__(
        self,
        channels: int = 3,
        image_size: int = 32,
        levels: int = 3,
        base_latent_dim: int = 100,
        level_latent_dim: int = 100,
        g_hidden: int = 1200,
        d_hidden: int = 600,
        g_width: int = 64,
        d_width: int = 64,
        d_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("base_latent_dim", base_latent_dim), ("level_latent_dim", level_latent_dim),
                            ("g_hidden", g_hidden), ("d_hidden", d_hidden), ("g_width", g_width), ("d_width", d_width)):
            positive(name, value)
        if not 0.0 <= d_dropout < 1.0:
            raise ValueError(f"d_dropout must be in [0, 1), got {d_dropout}")
        if levels < 2:
            raise ValueError(f"levels must be at least 2 (a base and one refinement), got {levels}")
        factor = 2 ** (levels - 1)
        if image_size % factor or image_size // factor < 4:
            raise ValueError(
                f"image_size {image_size} with {levels} levels needs a multiple of {factor} of at least {4 * factor}; change levels"
            )
        self.levels = levels
        self.generator = LaplacianGenerator(channels, image_size, levels, base_latent_dim, level_latent_dim, g_hidden, g_width)
        self.discriminator = LaplacianDiscriminator(channels, image_size, levels, d_hidden, d_width, d_dropout)
        dcgan_init(self)

    def views(self, batch: Batch, z: Tensor) -> Views:
        real, conds = laplacian_pyramid(batch.x, self.levels)
        g = self.generator
        z_base, *z_levels = g.split(z)
        fake = (g.base(z_base), *(refine(z_k, low) for refine, z_k, low in zip(g.refiners, z_levels, conds)))
        return Views(real=DInput(real, cond=conds), fake=DInput(fake, cond=conds), aux={"z": z})
