"""The discriminator side's state, saved before a look-ahead and put back after it (unrolled GANs).

A hook owner that returns ``lookahead_steps() > 0`` gets the generator step played against a
discriminator advanced that many updates; the updates are real ones (the engine's own critic
update: same loss, terms, optimizer, loss scaler, gradient averaging across processes) on D in
place, so no second copy of the networks has to be kept in step; this snapshot puts D back
exactly afterwards.
Random numbers and the data position are not put back: the look-ahead draws its batches and
noise from the run's checkpointed streams, so a resumed run repeats it step for step.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

import torch
from torch import Tensor, nn


class DiscriminatorSnapshot:
    """D's trainable weights, every buffer of the given modules (D's batch-norm statistics and
    spectral-norm vectors, G's statistics moved by the look-ahead's fakes, loss and trick state),
    D's optimizer state and its loss scaler's state."""

    def __init__(self, params: Iterable[nn.Parameter], modules: Iterable[nn.Module], optimizer: torch.optim.Optimizer,
                 scaler: torch.amp.GradScaler) -> None:
        self.params = list(params)
        self.buffers = _unique_buffers(modules)
        with torch.no_grad():
            self.saved_params = [p.detach().clone() for p in self.params]
            self.saved_buffers = [b.detach().clone() for b in self.buffers]
        self.optimizer, self.scaler = optimizer, scaler
        self.saved_optimizer: dict[str, Any] = copy.deepcopy(optimizer.state_dict())
        self.saved_scaler: dict[str, Any] = scaler.state_dict()

    @torch.no_grad()
    def restore(self) -> None:
        torch._foreach_copy_(self.params, self.saved_params)
        if self.buffers:
            torch._foreach_copy_(self.buffers, self.saved_buffers)
        self.optimizer.load_state_dict(self.saved_optimizer)
        if self.saved_scaler:  # an enabled scaler (fp16); a disabled one has no state
            self.scaler.load_state_dict(self.saved_scaler)


def _unique_buffers(modules: Iterable[nn.Module]) -> list[Tensor]:
    seen: set[int] = set()
    buffers = []
    for module in modules:
        for buffer in module.buffers():
            if id(buffer) not in seen:
                seen.add(id(buffer))
                buffers.append(buffer)
    return buffers
