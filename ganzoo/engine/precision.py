"""``--precision auto``: bf16 mixed precision where the hardware runs it natively, fp32 elsewhere.

Measured on a 2-core Xeon with AMX-BF16 (benchmarks/throughput.json, benchmarks/precision/):
DCGAN-28 trains about 2x faster in bf16 autocast with channels_last than in fp32, at the same FID.
Rules, in order:

1. an explicit ``--precision`` wins (channels_last then follows ``--channels-last``, or turns on by
   itself for a conv net under mixed precision);
2. a plugin whose ``fp32_only`` names a reason keeps the run in fp32 (a family bf16 is known to
   hurt declares it; the engine has no per-variant branch);
3. 2-D points (the toys) stay in fp32: their tiny layers gain nothing and bf16 rounds coordinates;
4. bf16 where the device runs it natively (CPUs with AMX-BF16 or AVX512-BF16, CUDA GPUs with bf16
   support), with channels_last for conv nets; fp32 elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from ..contracts import StepHooks

MIXED = ("bf16", "fp16")


@dataclass(frozen=True)
class PrecisionPlan:
    """The precision and memory layout a run uses, and why."""

    precision: str  # fp32, bf16 or fp16
    channels_last: bool
    reason: str

    def describe(self) -> str:
        kind = "fp32" if self.precision == "fp32" else f"{self.precision} mixed precision"
        return f"{kind}{' + channels_last' if self.channels_last else ''} ({self.reason})"


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports (empty where /proc/cpuinfo does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(device: torch.device) -> str | None:
    """What makes bf16 native on ``device`` (e.g. "AMX-BF16"), or None where it is emulated."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} supports bf16" if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        flags = cpu_flags()
        if "amx_bf16" in flags:
            return "this CPU has AMX-BF16"
        if "avx512_bf16" in flags:
            return "this CPU has AVX512-BF16"
    return None


def has_convolutions(model: nn.Module) -> bool:
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())


def plan_precision(
    requested: str, channels_last: bool | None, device: torch.device, model: nn.Module, *,
    images: bool, plugins: Iterable[StepHooks],
) -> PrecisionPlan:
    """The precision and layout for a run; see the module docstring for the rules."""
    convs = has_convolutions(model)

    def layout(precision: str) -> bool:
        return channels_last if channels_last is not None else convs and precision in MIXED

    if requested != "auto":
        return PrecisionPlan(requested, layout(requested), "as asked")
    for plugin in plugins:
        if plugin.fp32_only:
            return PrecisionPlan("fp32", layout("fp32"), f"auto: {type(plugin).__name__} keeps fp32: {plugin.fp32_only}")
    if not images:
        return PrecisionPlan("fp32", layout("fp32"), "auto: 2-D points stay in fp32")
    why = native_bf16(device)
    if why is None:
        return PrecisionPlan("fp32", layout("fp32"), f"auto: no native bf16 on this {device.type}")
    return PrecisionPlan("bf16", layout("bf16"), f"auto: {why}")
