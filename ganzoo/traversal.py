"""Latent traversal: sweep one code of a latent while everything else stays fixed.

    G = ganzoo.load("runs/infogan")                  # a run, a model folder, a zoo name or a Hub id
    grid = ganzoo.traverse(G, "c2", steps=10)        # rows x steps samples; row r = one fixed latent
    # the same: G.traverse("c2", steps=10); any generator sweeps its noise: G.traverse("z17")

The codes are what the generator's :meth:`~ganzoo.contracts.Generator.latent_codes` declares:
every noise dimension ``z1, z2, ...`` by default, InfoGAN's ``c1, c2, ...`` before its noise.
"""
from __future__ import annotations

import math
import re
from typing import Any

import torch
from torch import Tensor

from .contracts import Generator, LatentCode
from .errors import ConfigError

# Runs longer than this are abbreviated in messages ("z1..z100"); shorter ones are listed.
_LISTED_RUN = 3


def describe_codes(codes: tuple[LatentCode, ...]) -> str:
    """The code names for a message, long numbered runs abbreviated: ``c1, c2, c3, z1..z62``."""
    runs: list[list[str]] = []
    previous: tuple[str, int] | None = None
    for c in codes:
        match = re.fullmatch(r"(\D*)(\d+)", c.name)
        key = (match.group(1), int(match.group(2))) if match else None
        if key and previous and key == (previous[0], previous[1] + 1):
            runs[-1].append(c.name)
        else:
            runs.append([c.name])
        previous = key
    return ", ".join(run[0] + ".." + run[-1] if len(run) > _LISTED_RUN else ", ".join(run) for run in runs)


def _find(codes: tuple[LatentCode, ...], code: str | int) -> LatentCode:
    name = str(code).strip().lower()
    if name.isdigit():  # a 1-based position, like the names: 2 is "c2" on InfoGAN, "z2" on DCGAN
        index = int(name) - 1
        if 0 <= index < len(codes):
            return codes[index]
    for c in codes:
        if c.name == name:
            return c
    raise ConfigError(f"unknown latent code {code!r}; this generator has {describe_codes(codes)}")


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
    :class:`~ganzoo.contracts.Generator`. ``code`` is a name from its ``latent_codes()`` ("c1",
    "z17") or a 1-based position in them (InfoGAN's codes come first, so 2 is "c2").
    """
    g: Generator = getattr(generator, "generator", generator)  # unwrap a PretrainedGenerator
    codes = g.latent_codes()
    if not codes:
        raise ConfigError(f"{type(g).__name__} has no latent codes to traverse")
    if steps < 1 or rows < 1:
        raise ConfigError(f"steps and rows must be positive, got steps={steps}, rows={rows}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"the sweep's ends must be finite numbers, got low={low}, high={high}")
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
