"""Tricks on the discriminator's penultimate features (appended to ``feature_transforms``).

The head after ``feature_transforms`` has a fixed input width, so a trick that computes extra
per-sample features (minibatch discrimination, minibatch stddev) cannot concatenate them as the
papers do. It *injects* them instead: ``h + Linear(extra)``, a learned projection of the extra
features added to the feature vector, which gives the head the same information through the
same kind of linear map a concatenation would feed it.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..contracts import GANModel, Loss, Trick
from ._probe import probe_features


def _projection(in_features: int, width: int) -> nn.Linear:
    # Small random init: near-identity at the start, and never all-zero (spectral norm divides
    # by the largest singular value).
    layer = nn.Linear(in_features, width)
    nn.init.normal_(layer.weight, 0.0, 0.02)
    nn.init.zeros_(layer.bias)
    return layer


class _MinibatchLayer(nn.Module):
    def __init__(self, width: int, kernels: int, kernel_dim: int) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        # Scaled by 1/sqrt(width) so the L1 distances start O(1) whatever the feature width
        # (with a fixed scale wide features make every exp(-distance) vanish).
        self.T = nn.Parameter(torch.randn(width, kernels * kernel_dim) / width**0.5)
        self.project = _projection(kernels, width)

    def forward(self, h: Tensor) -> Tensor:
        n = h.shape[0]
        m = (h.flatten(1) @ self.T).view(n, self.kernels, self.kernel_dim)
        distance = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)  # [N, N, kernels], L1 per kernel
        # Closeness to the *other* samples (exp(0) = 1 for the sample itself is removed), averaged
        # rather than summed so the scale does not depend on the batch size.
        o = (torch.exp(-distance).sum(1) - 1.0) / max(n - 1, 1)
        return h + self.project(o).view_as(h)


class MinibatchDiscrimination(Trick):
    """Minibatch discrimination (Salimans et al. 2016): D sees how close each sample is to the rest.

    Features f(x_i) are multiplied by a learned tensor T into ``kernels`` rows of ``kernel_dim``;
    o(x_i)_b = mean_{j != i} exp(-||M_i,b - M_j,b||_1). The paper concatenates o to the features;
    here it is injected as ``h + Linear(o)`` because the head's width is fixed (see module doc),
    and o is a mean rather than a sum over the batch (batch-size independent). Defaults: 100
    kernels of dimension 5, as in the authors' CIFAR-10 model.
    """

    paper = "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen 2016, Improved Techniques for Training GANs, NeurIPS. arXiv:1606.03498"

    def __init__(self, kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        if kernels < 1 or kernel_dim < 1:
            raise ValueError(f"kernels and kernel_dim must be >= 1, got {kernels} and {kernel_dim}")
        self.kernels, self.kernel_dim = kernels, kernel_dim

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        width = probe_features(model).flatten(1).shape[1]
        model.discriminator.feature_transforms.append(_MinibatchLayer(width, self.kernels, self.kernel_dim))


class _StddevLayer(nn.Module):
    def __init__(self, width: int, group_size: int) -> None:
        super().__init__()
        self.group_size = group_size
        self.project = _projection(1, width)

    def forward(self, h: Tensor) -> Tensor:
        n = h.shape[0]
        g = min(self.group_size, n)
        while n % g:  # the largest group size <= group_size that divides the batch
            g -= 1
        flat = h.flatten(1).float()
        groups = flat.view(g, n // g, -1)  # sample i belongs to group i % (n // g)
        std = (groups.var(0, unbiased=False) + 1e-8).sqrt().mean(1)  # one value per group
        s = std.repeat(g).unsqueeze(1).to(h.dtype)  # back to one value per sample
        return h + self.project(s).view_as(h)


class MinibatchStddev(Trick):
    """Minibatch standard deviation (Karras et al. 2018, progressive GAN): D sees batch variety.

    For groups of ``group_size`` samples, the standard deviation of every feature over the group
    is averaged into one number, which every sample of the group receives. The paper appends it
    as an extra feature map before the last block; here it is injected into the penultimate
    features as ``h + Linear(s)`` (the head's width is fixed; see module doc). Default group 4.
    """

    paper = "Karras, Aila, Laine, Lehtinen 2018, Progressive Growing of GANs for Improved Quality, Stability, and Variation, ICLR. arXiv:1710.10196"

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 2:
            raise ValueError(f"group_size must be >= 2, got {group_size}")
        self.group_size = group_size

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        width = probe_features(model).flatten(1).shape[1]
        model.discriminator.feature_transforms.append(_StddevLayer(width, self.group_size))


class DDropout(Trick):
    """D dropout: dropout on the discriminator's penultimate features (Srivastava et al. 2014).

    As in the discriminators of Goodfellow et al. 2014 and Salimans et al. 2016. Randomly zeroes features before D's head during training, which keeps D from overfitting the
    current fakes. Default rate 0.5.
    """

    paper = "Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov 2014, Dropout: A Simple Way to Prevent Neural Networks from Overfitting, JMLR 15"

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = float(p)

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        model.discriminator.feature_transforms.append(nn.Dropout(self.p))
