"""What a bench cell is and how its results read back, old files included (torch-free).

Every result names the generator its figures are of: ``"ema"`` (the averaged weights, what
``ganzoo.load`` returns by default) or ``"raw"`` (the weights the optimizer trains). Results written
before both were scored lack the field; they were scored on what ``load_run`` returned by default,
the EMA generator whenever the bench ran with an EMA, so that is what reading them assumes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..args import parse_pairs
from ..build import PluginSpec
from ..errors import ConfigError

GENERATORS = ("ema", "raw")
NO_TRICK = "none"
# What a grid may set per loss (BenchSpec.per_loss); a flag given on the command line wins over them.
PER_LOSS_SETTINGS = ("optimizer", "lr_g", "lr_d", "betas", "n_critic", "arch_args", "loss_args")


def figure_text(mean: float, std: float, seeds: int) -> str:
    """A figure over seeds as the leaderboard and the page show it; one seed has no spread to show
    ("± 0.00" would read as a measured one)."""
    if not math.isfinite(mean):
        return "–"
    digits = 1 if abs(mean) >= 100 else 3 if abs(mean) < 10 else 2
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if seeds > 1 else "")


def budget_text(spec: dict[str, Any]) -> str:
    """A bench's budget per cell in words: steps (of G, or of D with each loss's generator share), or
    seconds, and how many generator updates a step makes when more than one."""
    updates = f", {spec['g_steps']} generator updates per step" if spec.get("g_steps", 1) > 1 else ""
    if spec.get("steps"):
        if spec.get("step_unit") == "discriminator":
            return f"{spec['steps']} discriminator steps (steps // n_critic generator steps for each loss){updates}"
        return f"{spec['steps']} generator steps{updates}"
    if spec.get("time_budget_s"):
        return f"{spec['time_budget_s']:g} s of training{updates}"
    return ""


@dataclass(frozen=True)
class Cell:
    arch: str
    loss: str
    dataset: str
    seed: int
    tricks: str = ""  # one variant's tricks as given to --trick ("pack:m=2+unroll:k=5"); "" for none

    @property
    def key(self) -> str:
        """The cell's folder name; cells without tricks keep the name they had before tricks existed."""
        loss = f"{self.loss}+{re.sub(r'[^A-Za-z0-9.=+_-]', '-', self.tricks)}" if self.tricks else self.loss
        return f"{self.arch}__{loss}__{self.dataset}__s{self.seed}"

    @property
    def variant(self) -> str:
        return f"{self.arch}/{self.loss}" + (f"+{self.tricks}" if self.tricks else "")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Cell":
        return cls(data["arch"], data["loss"], data["dataset"], int(data["seed"]), data.get("tricks") or "")


def variant_tricks(text: str) -> list[PluginSpec]:
    """``"pack:m=2+unroll:k=5"`` -> two trick specs; ``""`` or ``"none"`` -> no trick."""
    if text in ("", NO_TRICK):
        return []
    return [PluginSpec.parse(part, "--trick") for part in text.split("+")]


def legacy_generator(spec: dict[str, Any]) -> str:
    """The generator a result without a ``generator`` field was scored on (see the module docstring)."""
    return "raw" if "ema" in spec and spec["ema"] is None else "ema"


def cell_results(data: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A cell's result.json as one result per generator: ``{"results": [...]}``, or an old single result."""
    results = data["results"] if "results" in data else [data]
    return [r if "generator" in r else {**r, "generator": legacy_generator(spec)} for r in results]


def summary_results(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """results.json's results, each with its ``generator`` (filled in for files written before it existed)."""
    fallback = legacy_generator(summary.get("spec") or {})
    return [r if "generator" in r else {**r, "generator": fallback} for r in summary.get("results", [])]
