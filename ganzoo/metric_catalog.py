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
# Read off the zoo's Fashion-MNIST classifier (ganzoo.metrics.class_metrics), one pass of samples.
CLASSIFIER_FAMILIES: tuple[str, ...] = ("class-histogram", "conditional-accuracy", "domain-is", "stacked-modes")
# The dataset each classifier metric is defined on: the classifier knows Fashion-MNIST's classes only.
CLASSIFIER_DATASET: dict[str, str] = {
    "class-histogram": "fashion-mnist",
    "conditional-accuracy": "fashion-mnist",
    "domain-is": "fashion-mnist",
    "stacked-modes": "stacked-fashion-mnist",
}
FAMILIES: tuple[str, ...] = (*IMAGE_FAMILIES, *CLASSIFIER_FAMILIES, "toy", "parzen")


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
    about: str = ""  # what the figure measures, in a sentence, for model cards


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
    MetricInfo("classes_covered", "class-histogram", "higher", "Classes covered", about=(
        "how many of Fashion-MNIST's 10 classes get at least 1% of the generated images, as the zoo's Fashion-MNIST "
        "classifier labels them: mode collapse measured on real classes")),
    MetricInfo("class_kl_to_uniform", "class-histogram", "lower", "Class KL to uniform", about=(
        "KL divergence (nats) from the uniform distribution to the classifier's class histogram of the generated "
        "images: 0 when every class is equally frequent, 2.30 when all are one class")),
    MetricInfo("conditional_accuracy", "conditional-accuracy", "higher", "Conditional accuracy", about=(
        "the share of images generated for a requested class that the zoo's Fashion-MNIST classifier assigns to that "
        "class (balanced requests over the 10 classes)")),
    MetricInfo("domain_is_mean", "domain-is", "higher", "Fashion-MNIST Inception Score", about=(
        "exp E KL(p(y|x) || p(y)) with the zoo's Fashion-MNIST classifier in place of Inception (1 to 10): high when "
        "each image is confidently one class and the classes are balanced")),
    MetricInfo("domain_is_std", "domain-is", None, std_of="domain_is_mean"),
    # A stacked leaderboard is ordered by the KL: it counts a missed mode and a lopsided one both, where the
    # modes hit sit near 1,000 for every DCGAN that does not collapse outright.
    MetricInfo("stacked_modes_hit", "stacked-modes", "higher", "Stacked modes hit (of 1,000)", rank=9, about=(
        "on Stacked Fashion-MNIST, how many of the 1,000 class triples (one class per colour channel, read by the "
        "zoo's classifier) at least one generated image hits, as VEEGAN and PacGAN count stacked-MNIST modes")),
    MetricInfo("stacked_kl_to_uniform", "stacked-modes", "lower", "Stacked mode KL to uniform", rank=8, about=(
        "KL divergence (nats) from the uniform distribution over the 1,000 stacked modes to the generated images' "
        "mode histogram (0 is perfectly balanced)")),
    MetricInfo("modes_captured", "toy", "higher", rank=3),
    MetricInfo("high_quality_fraction", "toy", "higher", rank=4),
    MetricInfo("kl_to_uniform", "toy", "lower"),
    MetricInfo("parzen_log_likelihood", "parzen", "higher", "Parzen log-likelihood", rank=7, about=(
        "the mean log-likelihood (nats per image, pixels scaled to [0, 1]) of the real test images under a Gaussian "
        "Parzen window fitted to the generated samples, its bandwidth chosen on validation images, as Goodfellow et al. "
        "(2014, Table 1) report it; the estimate is poor in high dimension (Theis et al. 2016), so it serves comparison "
        "with that literature only")),
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
