"""Tricks that change how layers normalize: spectral norm on D, virtual batch norm in G."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..contracts import GANModel, Loss, Trick
from ..errors import IncompatibleError

_SN_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Embedding)


class SpectralNorm(Trick):
    """Spectral normalization of every discriminator layer (Miyato et al. 2018, SNGAN).

    Each Linear, Conv and Embedding weight of the discriminator (including layers other tricks
    added before this one) is divided by its largest singular value, estimated by power iteration
    (``torch.nn.utils.parametrizations.spectral_norm``), which makes D roughly 1-Lipschitz.
    Defaults: one power iteration per step, as in the paper.
    """

    paper = "Miyato, Kataoka, Koyama, Yoshida 2018, Spectral Normalization for Generative Adversarial Networks, ICLR. arXiv:1802.05957"

    def __init__(self, n_power_iterations: int = 1) -> None:
        super().__init__()
        if n_power_iterations < 1:
            raise ValueError(f"n_power_iterations must be >= 1, got {n_power_iterations}")
        self.n_power_iterations = n_power_iterations

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        layers = [m for m in model.discriminator.modules() if isinstance(m, _SN_LAYERS)]
        if not layers:
            raise IncompatibleError(f"trick 'spectral-norm' found no Linear/Conv/Embedding layer in the discriminator of {type(model).__name__}")
        for layer in layers:
            if not parametrize.is_parametrized(layer, "weight"):
                spectral_norm(layer, n_power_iterations=self.n_power_iterations)


class _VirtualBatchNorm(nn.Module):
    """Batch norm whose statistics come from a fixed reference batch (plus the example itself).

    The first ``reference_size`` rows of the input are the reference batch: they are normalized
    by their own statistics. Every other example x is normalized by the statistics of the
    reference batch together with x, weighted 1/(R+1) for x, so an example's output does not
    depend on the other examples of its minibatch.
    """

    def __init__(self, bn: _BatchNorm, reference_size: int) -> None:
        super().__init__()
        self.num_features, self.eps, self.reference_size = bn.num_features, bn.eps, reference_size
        if bn.affine:
            self.weight = nn.Parameter(bn.weight.detach().clone())
            self.bias = nn.Parameter(bn.bias.detach().clone())
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _normalize(self, x: Tensor, mean: Tensor, mean_sq: Tensor) -> Tensor:
        var = (mean_sq - mean.pow(2)).clamp(min=0)
        return (x - mean) * torch.rsqrt(var + self.eps)

    def forward(self, x: Tensor) -> Tensor:
        r = self.reference_size
        if x.shape[0] <= r:
            raise RuntimeError("virtual batch norm got no reference batch; call the generator itself, not its forward()")
        spatial = list(range(2, x.dim()))
        ref, ex = x[:r], x[r:]
        ref_mean = ref.mean([0, *spatial], keepdim=True)
        ref_sq = ref.pow(2).mean([0, *spatial], keepdim=True)
        ex_mean = ex.mean(spatial, keepdim=True) if spatial else ex
        ex_sq = ex.pow(2).mean(spatial, keepdim=True) if spatial else ex.pow(2)
        w = 1.0 / (r + 1)
        out = torch.cat([
            self._normalize(ref, ref_mean, ref_sq),
            self._normalize(ex, w * ex_mean + (1 - w) * ref_mean, w * ex_sq + (1 - w) * ref_sq),
        ])
        if self.weight is not None:
            shape = (1, -1) + (1,) * len(spatial)
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


class _ReferenceBatch(nn.Module):
    """The fixed reference latents, prepended to every generator call and cut off its output.

    Its hooks are bound methods of this submodule, so a deep copy of the generator (the EMA
    average) gets hooks bound to its own copy.
    """

    def __init__(self, z: Tensor, y: Tensor | None) -> None:
        super().__init__()
        self.register_buffer("z", z)
        self.register_buffer("y", y)

    def before(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = list(args), dict(kwargs)
        z = args.pop(0) if args else kwargs.pop("z")
        y = args.pop(0) if args else kwargs.pop("y", None)
        z = torch.cat([self.z.to(z.device, z.dtype), z])
        if y is not None and self.y is not None:
            y = torch.cat([self.y.to(y.device, y.dtype), y])
        return (z, y, *args), kwargs

    def after(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        r = self.z.shape[0]
        if isinstance(output, tuple):
            return tuple(o[r:] for o in output)
        return output[r:]


class VirtualBatchNorm(Trick):
    """Virtual batch normalization in the generator (Salimans et al. 2016, "Improved Techniques").

    Every batch-norm layer of the generator is replaced by VBN: each example is normalized with
    the statistics of a reference batch, fixed once (``reference_size`` latents drawn from
    ``seed``, stored as buffers so training, resuming and sampling use the same batch), plus the
    example itself. It works through torch's own module hooks: a forward pre-hook on the
    generator prepends the reference latents to every call and a forward hook removes their
    outputs, so each VBN layer sees the reference activations computed with the current weights
    (gradients flow through them, as in the paper). The cost is a forward pass over
    ``reference_size`` extra samples per generator call. Needs a generator with batch norm.
    """

    paper = "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen 2016, Improved Techniques for Training GANs, NeurIPS. arXiv:1606.03498"

    def __init__(self, reference_size: int = 64, seed: int = 0) -> None:
        super().__init__()
        if reference_size < 2:
            raise ValueError(f"reference_size must be >= 2, got {reference_size}")
        self.reference_size, self.seed = reference_size, seed

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        gen = model.generator
        targets = [(name, m) for name, m in gen.named_modules() if isinstance(m, _BatchNorm)]
        if not targets:
            raise IncompatibleError(f"trick 'virtual-batch-norm' replaces batch norm in the generator, but the generator of {type(model).__name__} has none")
        for name, bn in targets:
            parent_name, _, child = name.rpartition(".")
            parent = gen.get_submodule(parent_name) if parent_name else gen
            setattr(parent, child, _VirtualBatchNorm(bn, self.reference_size))
        g = torch.Generator().manual_seed(self.seed)
        z = gen.sample_latent(self.reference_size, generator=g)
        y = gen.sample_labels(self.reference_size, generator=g)
        gen.vbn_reference = _ReferenceBatch(z, y)
        gen.register_forward_pre_hook(gen.vbn_reference.before, with_kwargs=True)
        gen.register_forward_hook(gen.vbn_reference.after)
