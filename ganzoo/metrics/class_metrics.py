"""Figures read off the zoo's Fashion-MNIST classifier: mode collapse measured on real classes.

- ``class-histogram``: the classifier's labels of the generated images; ``classes_covered`` counts
  the classes that get at least ``COVERAGE_SHARE`` of the samples (1%, a tenth of a class's
  uniform share, so a handful of stray samples do not count as covering a class), and
  ``class_kl_to_uniform`` is KL(histogram || uniform) in nats (0: balanced; log 10 = 2.30: one class).
- ``conditional-accuracy``: a class-conditional generator is asked for balanced labels
  (0, 1, ..., 9, 0, ...); the share of samples the classifier assigns to the requested class.
- ``domain-is``: the Inception Score formula exp(E_x KL(p(y|x) || p(y))) with this classifier's
  softmax in place of Inception's (1: no diversity or no confidence; 10: confident and balanced).
- ``stacked-modes``: for Stacked Fashion-MNIST (three images as the R, G, B channels), each channel
  is classified on its own and the triple (a, b, c) is the mode 100a + 10b + c; ``stacked_modes_hit``
  counts the modes of 1,000 with at least one sample, ``stacked_kl_to_uniform`` is KL(mode
  histogram || uniform over 1,000) (the VEEGAN / PacGAN protocol, which uses 26,000 samples).

Generated images are quantized to uint8 as a PNG would store them before they are classified, like
the FID protocol does. Every result's protocol names the classifier and its sha256.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from ..metric_catalog import CLASSIFIER_FAMILIES
from .classifier import WEIGHTS_SHA256, load_classifier
from .evaluate import SAMPLE_CHUNK, chunk_seed, generated_batches
from .inception_score import inception_score_from_logits
from .preprocessing import QUANTIZATION, to_uint8
from .protocol import ganzoo_version
from .toy import kl_to_uniform

COVERAGE_SHARE = 0.01
STACKED_CHANNELS = 3
STACKED_MODES = 10**STACKED_CHANNELS
SampleFn = Callable[[int, int], Tensor]
LabeledSampleFn = Callable[[int, int, Tensor], Tensor]


@dataclass(frozen=True)
class ClassHistogram:
    counts: list[int]
    classes_covered: int
    kl_to_uniform: float


def class_histogram(labels: Tensor, num_classes: int, min_share: float = COVERAGE_SHARE) -> ClassHistogram:
    """Counts per class of ``labels``, the classes holding at least ``min_share`` of them, and KL to uniform."""
    labels = torch.as_tensor(labels).long().flatten()
    if len(labels) == 0 or int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"labels must be a non-empty array of classes in [0, {num_classes - 1}]")
    counts = torch.bincount(labels, minlength=num_classes)
    covered = int((counts >= min_share * len(labels)).sum())
    return ClassHistogram(counts.tolist(), covered, kl_to_uniform(counts))


def conditional_accuracy(predicted: Tensor, requested: Tensor) -> float:
    """Share of samples whose predicted class is the class they were generated for."""
    predicted, requested = torch.as_tensor(predicted).flatten(), torch.as_tensor(requested).flatten()
    if predicted.shape != requested.shape or len(predicted) == 0:
        raise ValueError(f"need as many predictions as requested labels (got {len(predicted)} and {len(requested)})")
    return float((predicted == requested).double().mean())


def stacked_modes(channel_labels: Tensor) -> tuple[int, float]:
    """(modes hit out of 1,000, KL to uniform) from per-channel classes [N, 3]."""
    channel_labels = torch.as_tensor(channel_labels).long()
    if channel_labels.dim() != 2 or channel_labels.shape[1] != STACKED_CHANNELS or len(channel_labels) == 0:
        raise ValueError(f"per-channel labels must be [N, {STACKED_CHANNELS}], got {tuple(channel_labels.shape)}")
    modes = channel_labels @ torch.tensor([100, 10, 1])
    counts = torch.bincount(modes, minlength=STACKED_MODES)
    return int((counts > 0).sum()), kl_to_uniform(counts)


def _logits(classifier: Callable[[Tensor], Tensor], images: Tensor, device: torch.device) -> Tensor:
    """Classifier logits of generated images, quantized like PNGs first; stacked RGB as three images."""
    x = to_uint8(torch.as_tensor(images).detach().cpu())
    if x.dim() != 4 or tuple(x.shape[2:]) != (28, 28) or x.shape[1] not in (1, STACKED_CHANNELS):
        raise ConfigError(f"the Fashion-MNIST classifier needs [N, 1 or 3, 28, 28] images, got {tuple(x.shape)}; "
                          "its metrics score models of (stacked) 28x28 Fashion-MNIST images")
    flat = x.reshape(-1, 1, 28, 28).to(device)
    return torch.as_tensor(classifier(flat)).float().cpu().view(len(x), x.shape[1], -1)


def _requested_batches(labeled_fn: LabeledSampleFn, n: int, seed: int, num_classes: int) -> Iterator[tuple[Tensor, Tensor]]:
    """(images, requested labels) in chunks; labels cycle 0..K-1 over all n, so every class is asked equally."""
    for index, start in enumerate(range(0, n, SAMPLE_CHUNK)):
        size = min(SAMPLE_CHUNK, n - start)
        requested = torch.arange(start, start + size) % num_classes
        yield torch.as_tensor(labeled_fn(size, chunk_seed(seed, index), requested)).detach(), requested


def evaluate_classifier(
    sample_fn: SampleFn,
    *,
    metrics: Sequence[str],
    n_generated: int = 10_000,
    seed: int = 0,
    labeled_sample_fn: LabeledSampleFn | None = None,
    num_classes: int = 0,
    classifier: Callable[[Tensor], Tensor] | None = None,
    device: torch.device | str = "cpu",
    is_splits: int = 10,
    generator_precision: str = "fp32",
) -> dict[str, Any]:
    """The requested classifier figures, keyed as in :mod:`ganzoo.metric_catalog`, plus ``protocol``.

    ``labeled_sample_fn(n, seed, labels)`` samples a conditional generator (``num_classes`` must be
    the classifier's 10); without one, ``conditional-accuracy`` lands in ``skipped``.
    ``classifier`` defaults to the shipped network (sha256-checked).
    """
    unknown = sorted(set(metrics) - set(CLASSIFIER_FAMILIES))
    if unknown or not metrics:
        raise ValueError(f"unknown classifier metric(s) {unknown or '(none)'}; choose from {list(CLASSIFIER_FAMILIES)}")
    least = max(2, is_splits if "domain-is" in metrics else 2)
    if n_generated < least:
        raise ConfigError(f"n_generated must be at least {least} for {', '.join(metrics)}, got {n_generated}")
    dev = torch.device(device)
    net = classifier if classifier is not None else load_classifier(device=dev)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    extra: dict[str, Any] = {}
    with torch.inference_mode():
        if {"class-histogram", "domain-is", "stacked-modes"} & set(metrics):
            logits = torch.cat([_logits(net, b, dev) for b in generated_batches(sample_fn, n_generated, seed)])
            results.update(_unconditional_figures(logits, metrics, is_splits, extra))
        if "conditional-accuracy" in metrics:
            if labeled_sample_fn is None or not num_classes:
                skipped["conditional-accuracy"] = "the generator is unconditional: it takes no requested classes"
            else:
                results["conditional_accuracy"] = _conditional(net, labeled_sample_fn, n_generated, seed, num_classes, dev)
    results["protocol"] = {
        "feature_network": _describe(net, classifier is None),
        "weights_sha256": WEIGHTS_SHA256 if classifier is None else "",
        "n_generated": n_generated,
        "seed": seed,
        "metrics": list(metrics),
        "quantization": QUANTIZATION,
        "sample_chunk": SAMPLE_CHUNK,
        "generator_precision": generator_precision,
        "ganzoo_version": ganzoo_version(),
        "extra": extra,
    }
    if skipped:
        results["skipped"] = skipped
    return results


def _unconditional_figures(logits: Tensor, metrics: Sequence[str], is_splits: int, extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    predicted = logits.argmax(-1)
    if "stacked-modes" in metrics:
        if logits.shape[1] != STACKED_CHANNELS:
            raise ConfigError("stacked-modes needs 3-channel (stacked) images; use it with the stacked-fashion-mnist dataset")
        out["stacked_modes_hit"], out["stacked_kl_to_uniform"] = stacked_modes(predicted)
        extra.update(stacked_modes_total=STACKED_MODES, stacked_mode="100*class(R) + 10*class(G) + class(B)")
    per_image, first = logits.reshape(-1, logits.shape[-1]), predicted.reshape(-1)
    if {"class-histogram", "domain-is"} & set(metrics) and logits.shape[1] != 1:
        raise ConfigError("class-histogram and domain-is need 1-channel Fashion-MNIST images; use stacked-modes for stacked ones")
    if "class-histogram" in metrics:
        hist = class_histogram(first, per_image.shape[1])
        out.update(classes_covered=hist.classes_covered, class_kl_to_uniform=hist.kl_to_uniform)
        extra.update(class_counts=hist.counts, coverage_min_share=COVERAGE_SHARE)
    if "domain-is" in metrics:
        score = inception_score_from_logits(per_image, splits=is_splits)
        out.update(domain_is_mean=score.mean, domain_is_std=score.std)
        extra["is_splits"] = is_splits
    return out


def _conditional(net: Callable[[Tensor], Tensor], fn: LabeledSampleFn, n: int, seed: int, num_classes: int, dev: torch.device) -> float:
    predicted, requested = [], []
    for images, asked in _requested_batches(fn, n, seed, num_classes):
        logits = _logits(net, images, dev)
        if logits.shape[1] != 1 or logits.shape[-1] != num_classes:
            raise ConfigError(f"conditional-accuracy needs a {logits.shape[-1]}-class generator of 1-channel images")
        predicted.append(logits[:, 0].argmax(-1))
        requested.append(asked)
    return conditional_accuracy(torch.cat(predicted), torch.cat(requested))


def _describe(net: Any, shipped: bool) -> str:
    return "ganzoo fashion-mnist-classifier" if shipped else getattr(net, "__name__", type(net).__name__)

