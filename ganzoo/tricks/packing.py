"""PacGAN's packing: the discriminator judges m samples at once, so a collapsed generator shows."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm, spectral_norm

from ..contracts import Batch, DInput, GANModel, Loss, Trick
from ..errors import ConfigError, IncompatibleError

_WIDENABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def pack(x: Tensor, m: int) -> Tensor:
    """``[B, C, ...]`` samples as ``[B/m, m*C, ...]``: each group of m consecutive samples
    concatenated along the channel (or feature) dimension."""
    if x.shape[0] % m:
        raise ConfigError(f"trick 'pack' (m={m}) packs {m} samples into one discriminator input, but got a batch of "
                          f"{x.shape[0]}; use a --batch-size divisible by {m}")
    packed = x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])
    if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        packed = packed.contiguous(memory_format=torch.channels_last)  # keep the layout conv nets run fastest in
    return packed


class PackedInput(nn.Module):
    """A discriminator input layer widened m times. It takes packed inputs (m times its original
    width, what the engine feeds it) or plain samples, which it packs itself, so a discriminator
    loaded for fine-tuning judges ordinary batches (one verdict per m samples)."""

    def __init__(self, layer: nn.Module, m: int, width: int) -> None:
        super().__init__()
        self.layer, self.m, self.width = layer, m, width

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] != self.width:  # already packed
            return self.layer(x)
        if x.shape[0] % self.m:
            raise IncompatibleError(f"this discriminator was packed by trick 'pack' (m={self.m}) and judges groups of {self.m} "
                                    f"samples, but got {x.shape[0]}; give it a multiple of {self.m} (list --trick pack after "
                                    "tricks that probe the discriminator, such as minibatch-stddev)")
        return self.layer(pack(x, self.m))


class Pack(Trick):
    """PacGAN packing: D judges m samples jointly, which penalizes mode collapse (Lin et al. 2018).

    Every discriminator input of B real or B generated samples becomes B/m packs, each m samples
    concatenated along the channel (images) or feature (points) dimension, and D's input layer
    is widened m times to take them (the layers that read the input, e.g. a residual block's
    convolution and its shortcut). Packing happens on what D sees (``d_input``), so gradient
    penalties interpolate and differentiate whole packs, D's actual inputs. The added input
    weights are the layer's own initial weights, shuffled, and all are scaled by 1/sqrt(m) so the
    layer's output keeps its scale. List it after tricks that change samples one by one
    (instance-noise, diffaugment) and after those that probe D (minibatch-discrimination,
    minibatch-stddev). Refused for a discriminator that also reads labels, latents or
    other conditioning, or has extra heads (ACGAN, InfoGAN); the batch size must be a multiple of
    m. Default m=2 (the paper tries 2, 3 and 4).
    """

    paper = "Lin, Khetan, Fanti, Oh 2018, PacGAN: The power of two samples in generative adversarial networks, NeurIPS. arXiv:1712.04086"

    def __init__(self, m: int = 2) -> None:
        super().__init__()
        if m < 2:
            raise ValueError(f"m must be >= 2 (the number of samples per pack), got {m}")
        self.m = m

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        name = type(model).__name__
        if any(isinstance(module, PackedInput) for module in model.discriminator.modules()):
            raise IncompatibleError(f"trick 'pack' is listed twice for {name}; pass it once, with the m you want")
        inp, has_extras, layers = _probe_input_layers(model, self.m)
        refusal = _refusal(inp, has_extras)
        if refusal:
            raise IncompatibleError(f"trick 'pack' concatenates plain samples, but the discriminator of {name} {refusal}")
        if not layers:
            raise IncompatibleError(f"trick 'pack' found no Linear/Conv layer reading the input in the discriminator of {name}")
        generator = torch.Generator().manual_seed(0)  # private: attaching must not move the run's random stream
        for path, layer in layers.items():
            parent_path, _, child = path.rpartition(".")
            parent = model.discriminator.get_submodule(parent_path) if parent_path else model.discriminator
            setattr(parent, child, PackedInput(_widened(layer, self.m, name, generator), self.m, _in_width(layer)))
        _check_packed(model, inp, self.m, name)

    def d_input(self, inp: DInput, step: int) -> DInput:
        return inp.with_samples([pack(p, self.m) for p in inp.samples()])


def _in_width(layer: nn.Module) -> int:
    return layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (batch-norm statistics untouched), restored afterwards module by module."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _probe_input_layers(model: GANModel, m: int) -> tuple[DInput, bool, dict[str, nn.Module]]:
    """A fake DInput of 2m samples, whether D's verdict on it has extra heads, and the Linear/Conv
    layers of D that read it directly.

    The probe samples carry no gradient while D's weights do (frozen ones too, for the probe), so
    a layer whose input does not require grad has seen the input through parameter-free
    operations only (pooling, flattening).
    """
    found: dict[str, nn.Module] = {}
    frozen = [p for p in model.discriminator.parameters() if not p.requires_grad]
    handles = []
    for path, layer in model.discriminator.named_modules():
        if isinstance(layer, _WIDENABLE):
            def record(module: nn.Module, args: tuple, path: str = path) -> None:
                if args and isinstance(args[0], Tensor) and not args[0].requires_grad:
                    found.setdefault(path, module)
            handles.append(layer.register_forward_pre_hook(record))
    try:
        for p in frozen:
            p.requires_grad_(True)
        with _eval_mode(model):
            g = torch.Generator().manual_seed(0)
            with torch.no_grad():
                z = model.sample_latent(2 * m, generator=g)
                y = model.generator.sample_labels(2 * m, generator=g)
                inp = model.views(Batch(model.generator(z, y), y), z).fake
            with torch.enable_grad():
                out = model.critic(inp)
    finally:
        for handle in handles:
            handle.remove()
        for p in frozen:
            p.requires_grad_(False)
    return inp, bool(out.extras), found


def _refusal(inp: DInput, has_extras: bool) -> str:
    """Why packing cannot serve this discriminator ("" when it can)."""
    if inp.y is not None:
        return "also reads class labels y"
    if inp.z is not None:
        return "also reads latents z (an encoder pair)"
    if inp.cond is not None or isinstance(inp.x, tuple):
        return "reads several tensors per sample (conditioning or a pyramid)"
    if has_extras:
        return "has extra heads whose outputs are paired with single samples"
    return ""


def _widened(layer: nn.Module, m: int, name: str, generator: torch.Generator) -> nn.Module:
    """A copy of ``layer`` taking m times its input width; spectral normalization is kept."""
    sn = None
    if parametrize.is_parametrized(layer):
        chain = list(getattr(layer.parametrizations, "weight", []))
        if len(chain) != 1 or not isinstance(chain[0], _SpectralNorm) or len(layer.parametrizations) != 1:
            raise IncompatibleError(f"trick 'pack' can widen a spectral-normalized input layer, but the discriminator of "
                                    f"{name} has another parametrization there; list --trick pack before the trick that adds it")
        sn = chain[0]
        weight = layer.parametrizations.weight.original
    else:
        weight = layer.weight
    if getattr(layer, "groups", 1) != 1:
        raise IncompatibleError(f"trick 'pack' cannot widen the grouped convolution that reads the input in the discriminator of {name}")
    wide = _copy_with_width(layer, m * _in_width(layer))
    with torch.no_grad():
        w = weight.detach()
        parts = [w] + [w.flatten()[torch.randperm(w.numel(), generator=generator)].view_as(w) for _ in range(m - 1)]
        wide.weight.copy_(torch.cat(parts, dim=1) / m**0.5)
        if layer.bias is not None:
            wide.bias.copy_(layer.bias.detach())
    if sn is not None:
        spectral_norm(wide, n_power_iterations=sn.n_power_iterations, eps=sn.eps, dim=sn.dim)
    return wide


def _copy_with_width(layer: nn.Module, width: int) -> nn.Module:
    bias = layer.bias is not None
    factory = {"device": layer.weight.device, "dtype": layer.weight.dtype}
    if isinstance(layer, nn.Linear):
        return nn.Linear(width, layer.out_features, bias=bias, **factory)
    return parametrize.type_before_parametrizations(layer)(
        width, layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
        bias=bias, padding_mode=layer.padding_mode, **factory,
    )


def _check_packed(model: GANModel, inp: DInput, m: int, name: str) -> None:
    """The widened discriminator gives one verdict per pack, packed by the trick or by itself."""
    try:
        with _eval_mode(model), torch.no_grad():
            packed = model.critic(inp.with_samples([pack(p, m) for p in inp.samples()]))
            plain = model.critic(inp)
    except (RuntimeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise IncompatibleError(f"trick 'pack' cannot pack the discriminator of {name}: it uses its input beyond the layers "
                                f"that read it ({reason})") from None
    if packed.score.shape[0] != 2 or plain.score.shape[0] != 2:
        raise IncompatibleError(f"trick 'pack' cannot pack the discriminator of {name}: it does not give one verdict per pack")
