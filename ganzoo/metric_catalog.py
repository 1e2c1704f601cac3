"""Every figure ganzoo reports, in one table: its key, display name, direction and family.

Evaluation, leaderboards and model cards all read this table, so a new figure is named, ranked and
published by adding one entry. It lives outside :mod:`ganzoo.metrics` because that package loads
torch on import, and leaderboards and cards must not need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a user asks for (``ganzoo eval --metrics``): image metrics share one feature pass.
IMAGE_FAMILIES: tuple[str, ...] = ("fid", "kid", "prdc", "is")
FAMILIES: tuple[str, ...] = (*IMAGE_FAMILIES, "toy", "parzen")


@dataclass(frozen=True)
class MetricInfo:
    """One figure as results, eval.json and leaderboards key it (``kid_mean``, not ``kid``)."""

    key: str
    family: str  # the requested metric that produces it ("" for figures measured while training)
    better: Literal["lower", "higher"] | None  # None: no better direction (a spread)
    display: str = ""  # the name cards print; "" prints the key
    model_index: bool = True  # recorded in eval.json, hence a model-index result of a card
    std_of: str | None = None  # for a ``*_std`` figure, the mean it is the spread of
    rank: int | None = None  # leaderboards order rows by the present figure with the lowest rank


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("fid", "fid", "lower", "FID", rank=1),
    MetricInfo("kid_mean", "kid", "lower", "KID", rank=2),
    MetricInfo("kid_std", "kid", None, std_of="kid_mean"),
    MetricInfo("precision", "prdc", "higher", "Precision", rank=5),
    MetricInfo("recall", "prdc", "higher", "Recall", rank=6),
    MetricInfo("density", "prdc", "higher", "Density"),
    MetricInfo("coverage", "prdc", "higher", "Coverage"),
    MetricInfo("is_mean", "is", "higher", "Inception Score"),
    MetricInfo("is_std", "is", None, std_of="is_mean"),
    MetricInfo("modes_captured", "toy", "higher", rank=3),
    MetricInfo("high_quality_fraction", "toy", "higher", rank=4),
    MetricInfo("kl_to_uniform", "toy", "lower"),
    MetricInfo("parzen_log_likelihood", "parzen", "higher", rank=7),
    MetricInfo("images_per_second", "", "higher", model_index=False),
)
BY_KEY: dict[str, MetricInfo] = {m.key: m for m in METRICS}


def figures(family: str) -> tuple[str, ...]:
    """The recorded figures a requested metric produces, in table order."""
    return tuple(m.key for m in METRICS if m.family == family and m.model_index)


def display_name(key: str) -> str:
    """How cards name a figure; a bare family with a mean (``kid``, ``is``) is named as its mean."""
    info = BY_KEY.get(key) or BY_KEY.get(f"{key}_mean")
    return (info.display if info else "") or key


def ranking() -> list[MetricInfo]:
    """The figures that can order a leaderboard, most decisive first."""
    return sorted((m for m in METRICS if m.rank is not None), key=lambda m: m.rank or 0)
