"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019)."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA(nn.Module):
    """An averaged copy of a network. ``decay`` ramps up from 0 so early averages are not stale."""

    def __init__(self, network: nn.Module, decay: float = 0.999, start: int = 0) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.start = decay, start
        self.average = copy.deepcopy(network).eval().requires_grad_(False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, network: nn.Module, step: int) -> None:
        source = list(network.parameters())
        target = list(self.average.parameters())
        if step < self.start:
            torch._foreach_copy_(target, source)
        else:
            n = int(self.updates)
            decay = min(self.decay, (1 + n) / (10 + n))
            torch._foreach_lerp_(target, source, 1.0 - decay)
            self.updates += 1
        for mine, theirs in zip(self.average.buffers(), network.buffers()):
            mine.copy_(theirs)  # batch-norm statistics follow the live network
