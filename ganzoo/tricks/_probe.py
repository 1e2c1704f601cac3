"""Finding the shape of a discriminator's features without knowing the architecture."""
from __future__ import annotations

import torch
from torch import Tensor

from ..contracts import Batch, GANModel


@torch.no_grad()
def probe_features(model: GANModel) -> Tensor:
    """Features ``discriminator.features`` returns for two generated samples.

    Runs in eval mode (so batch-norm statistics are not touched) with a private random
    generator (so the global seed, and with it the run, is not disturbed).
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        g = torch.Generator().manual_seed(0)
        z = model.sample_latent(2, generator=g)
        y = model.generator.sample_labels(2, generator=g)
        x = model.generator(z, y)
        views = model.views(Batch(x, y), z)
        return model.discriminator.features(views.fake)
    finally:
        for m, training in modes:
            m.training = training
