"""Latent traversal: sweep one code of a structured latent while everything else stays fixed.

    G = ganzoo.pretrained.from_run("runs/infogan")   # or ganzoo.load(...) for a published model
    grid = ganzoo.traverse(G, "c2", steps=10)        # rows x steps samples; row r = one fixed latent
    # the same: G.traverse("c2", steps=10)
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .architectures.infogan import LatentCode, latent_codes
from .errors import ConfigError


def _find(codes: tuple[LatentCode, ...], code: str | int) -> LatentCode:
    names = ", ".join(c.name for c in codes)
    if isinstance(code, int) and not isinstance(code, bool):
        name = f"c{code}"  # 1-based, like the names: code=2 is "c2"
    else:
        name = str(code).strip().lower()
        if name.isdigit():
            name = f"c{name}"
    for c in codes:
        if c.name == name:
            return c
    raise ConfigError(f"unknown latent code {code!r}; this generator has {names}")


@torch.no_grad()
def traverse(
    generator: Any,
    code: str | int,
    *,
    steps: int = 10,
    rows: int = 8,
    seed: int = 0,
    low: float = -1.0,
    high: float = 1.0,
    labels: int | Tensor | None = None,
) -> Tensor:
    """Samples ``[rows * steps, ...]``: row ``r`` holds one seeded latent, column ``j`` sets ``code``
    to its ``j``-th value (``low..high`` for a continuous code; categories 0, 1, ... cycling for a
    categorical one). Save with ``nrow=steps`` for one row per latent.

    ``generator`` is a :class:`~ganzoo.pretrained.PretrainedGenerator` or a bare
    :class:`~ganzoo.contracts.Generator` whose latent layout is announced by ``noise_dim``,
    ``categorical`` and ``continuous`` (InfoGAN's). ``code`` is a name ("c1") or its number (1).
    """
    g = getattr(generator, "generator", generator)  # unwrap a PretrainedGenerator
    codes = latent_codes(g)
    if not codes:
        raise ConfigError(
            f"{type(g).__name__} has no latent codes to traverse; traversal needs a structured latent such as InfoGAN's"
        )
    if steps < 1 or rows < 1:
        raise ConfigError(f"steps and rows must be positive, got steps={steps}, rows={rows}")
    target = _find(codes, code)
    device = next(g.parameters()).device
    dtype = next(g.parameters()).dtype
    base = g.sample_latent(rows, generator=torch.Generator().manual_seed(seed), device=device).to(dtype)
    z = base.repeat_interleave(steps, dim=0)  # row-major: latent r occupies rows r*steps .. r*steps+steps-1
    column = torch.arange(steps, device=device).repeat(rows)
    if target.kind == "continuous":
        values = torch.linspace(low, high, steps, device=device, dtype=dtype)
        z[:, target.start] = values[column]
    else:
        z[:, target.start : target.start + target.size] = torch.nn.functional.one_hot(column % target.size, target.size).to(dtype)
    y = None
    if getattr(g, "num_classes", 0):
        if labels is None:
            y = g.sample_labels(rows, generator=torch.Generator().manual_seed(seed + 1), device=device)
        else:
            y = torch.as_tensor(labels, device=device).long().flatten()
            y = y.expand(rows) if y.numel() == 1 else y
            if y.numel() != rows:
                raise ConfigError(f"labels: give one label or one per row ({rows}), got {y.numel()}")
        y = y.repeat_interleave(steps)
    was_training = g.training
    g.eval()  # batch statistics would let one sample's code leak into the others
    try:
        out = g(z, y)
    finally:
        g.train(was_training)
    return out.float()
