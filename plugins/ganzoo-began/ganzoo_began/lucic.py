"""BEGAN as Lucic et al. 2018 trained it: the study's shared generator and a small autoencoder critic.

Their loss comparison ("Are GANs Created Equal?", google/compare_gan's ``BEGAN.py``) does not use
the BEGAN paper's networks (this package's ``began``). G is the InfoGAN-style generator that every
loss in the study shares (ganzoo's ``lucic``), and D is an autoencoder built from the same kind of
layers. For 28 px images:

- encoder: conv 64 (4x4, stride 2), leaky ReLU - conv 128 (4x4, stride 2) - FC 64 (BN), leaky ReLU;
- decoder: FC 7x7x128 (BN), leaky ReLU - deconv 64 (4x4, stride 2, BN), leaky ReLU - deconv C (4x4, stride 2).

The leaky slope is 0.2 and the batch norms are present only with ``d_batch_norm`` (off in the
study's BEGAN defaults). Their encoder has no activation after its second convolution; neither
does this one, so that the figures compare with theirs.

Their images are on [0, 1] and their decoder ends in a sigmoid. ganzoo's images are on [-1, 1] and
the decoder here ends in tanh. The energy is half the mean |x - D(x)| on [-1, 1], which is exactly
their mean L1 on [0, 1], so ``gamma`` and ``lambda_k`` act as they do in the study.
"""
from __future__ import annotations

from torch import Tensor, nn

from ganzoo.architectures.common import FlattenMaps, dcgan_init, positive
from ganzoo.architectures.lucic import SLOPE, LucicGenerator
from ganzoo.contracts import IMAGES, DInput, DOut, Discriminator, GANModel
from ganzoo.errors import ConfigError

from .architecture import AUTOENCODER_DISCRIMINATOR


def _norm(kind: type[nn.Module], size: int, on: bool) -> nn.Module:
    return kind(size) if on else nn.Identity()


class SmallAutoencoderDiscriminator(Discriminator):
    """D: two stride-2 convolutions down to a ``embedding``-d code, and two transposed ones back up.

    ``features`` is the code; ``DOut.score`` is the per-sample energy (low: looks like data), and the
    reconstruction is in ``extras["reconstruction"]``.
    """

    def __init__(self, channels: int, image_size: int, width: int, embedding: int, batch_norm: bool) -> None:
        super().__init__()
        if image_size % 4:
            raise ConfigError(f"lucic-began halves the image twice, so image_size must be a multiple of 4, got {image_size}")
        side = image_size // 4
        self.shape = (2 * width, side, side)
        flat = 2 * width * side * side
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(SLOPE, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1), FlattenMaps(),
            nn.Linear(flat, embedding), _norm(nn.BatchNorm1d, embedding, batch_norm), nn.LeakyReLU(SLOPE, True),
        )
        self.expand = nn.Sequential(nn.Linear(embedding, flat), _norm(nn.BatchNorm1d, flat, batch_norm), nn.LeakyReLU(SLOPE, True))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), _norm(nn.BatchNorm2d, width, batch_norm), nn.LeakyReLU(SLOPE, True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh(),
        )

    def features(self, inp: DInput) -> Tensor:
        return self.encoder(inp.x)

    def head(self, h: Tensor, inp: DInput) -> DOut:
        recon = self.decoder(self.expand(h).view(h.shape[0], *self.shape))
        # Half the L1 on [-1, 1] is the L1 on [0, 1], the scale the study's gamma and lambda_k were set for.
        energy = (recon - inp.x).abs().flatten(1).mean(1) / 2
        return DOut(energy, extras={"reconstruction": recon})


class LucicBEGAN(GANModel):
    """BEGAN in Lucic et al. 2018's comparison: their shared InfoGAN-style G, a small conv autoencoder as D.

    Train it with the `began` loss; `ganzoo bench --preset lucic --arch lucic-began --loss began`
    sets the study's BEGAN defaults (Adam 1e-4, beta1 0.5, 5 D steps per G step, gamma 0.75, no D
    batch norm). ``width`` is D's first convolution and G's last (64), ``hidden`` G's fully
    connected width (1024), ``embedding`` D's code (64). 28, 32 or 64 px, any channels.
    """

    requires = frozenset({IMAGES})
    provides = frozenset({AUTOENCODER_DISCRIMINATOR})
    paper = ("Lucic, Kurach, Michalski, Gelly, Bousquet 2018, Are GANs Created Equal? A Large-Scale Study, "
             "NeurIPS. arXiv:1711.10337 (BEGAN: Berthelot, Schumm, Metz 2017, arXiv:1703.10717)")

    def __init__(self, channels: int = 1, image_size: int = 28, latent_dim: int = 64, width: int = 64, hidden: int = 1024,
                 embedding: int = 64, d_batch_norm: bool = False) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("latent_dim", latent_dim), ("width", width), ("hidden", hidden),
                            ("embedding", embedding)):
            positive(name, value)
        self.generator = LucicGenerator(latent_dim, channels, image_size, width, hidden)
        self.discriminator = SmallAutoencoderDiscriminator(channels, image_size, width, embedding, d_batch_norm)
        dcgan_init(self)
