"""Glue between models, datasets and ``ganzoo.metrics``: score a generator, record the result.

``score(G, ...)`` picks the metrics that fit the data (FID/KID/precision-recall/IS for images,
the Fashion-MNIST classifier's class figures on fashion-mnist and stacked-fashion-mnist, mode
counts for the 2D toys, Parzen for either), loads the real split through the dataset
registry, and returns results in the form model cards read (``RUN/eval.json``)::

    {"results": [{"metric": "fid", "value": 12.3, "dataset": "fashion-mnist", "split": "test",
                  "protocol": {...}}, ...]}
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Sequence

import torch

from . import args as typed_args
from . import metrics as m
from . import registry
from .build import PluginSpec, build_dataset
from .data.toy import GEOMETRIES, is_toy
from .engine.device import pick_device
from .engine.precision import native_bf16
from .errors import ConfigError
from .metric_catalog import CLASSIFIER_DATASET, CLASSIFIER_FAMILIES, FAMILIES, IMAGE_FAMILIES, figures
from .safeio import read_json, write_json

# The real subset never depends on the generation seed: the cached reference features are keyed by
# dataset, split and count, so the same count must always mean the same images.
REAL_SUBSET_SEED = 0


def dataset_split(dataset: PluginSpec, split: str) -> PluginSpec:
    """The same dataset with ``split`` set, when the dataset has splits."""
    cls = registry.datasets.get(dataset.name)
    if "split" in typed_args.parameters(cls):
        return PluginSpec(dataset.name, {**dataset.args, "split": split})
    return dataset


def real_tensor(dataset: PluginSpec, n: int, seed: int) -> torch.Tensor:
    """``n`` real samples (uint8 images when the dataset keeps bytes), a seeded random subset."""
    data, _ = build_dataset(dataset)
    total = len(data)
    take = min(n, total)
    if hasattr(data, "tensors"):
        x, _ = data.tensors()
        if take == total:
            return x
        order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:take]
        return x[order.sort().values]
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:take]
    return torch.cat([data.get_batch(chunk).x for chunk in order.sort().values.split(256)])


def choose_metrics(dataset: str, metrics: Sequence[str] | None, num_classes: int = 0) -> list[str]:
    """The metric families to score on ``dataset``: ``metrics`` once checked against it, else its defaults
    (which depend on the generator's ``num_classes``). A bench checks its grid's with this before it trains."""
    toy = is_toy(dataset)
    chosen = list(metrics) if metrics else (["toy", "parzen"] if toy else default_image_metrics(dataset, num_classes))
    unknown = [x for x in chosen if x not in FAMILIES]
    if unknown:
        raise ConfigError(f"unknown metric {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
    if toy and any(x in IMAGE_FAMILIES for x in chosen):
        raise ConfigError(f"{dataset} holds 2D points; use the metrics toy and parzen")
    if "toy" in chosen and not toy:
        raise ConfigError(f"the toy metric needs a 2D toy dataset ({', '.join(GEOMETRIES)}), not {dataset}")
    for family in (x for x in chosen if x in CLASSIFIER_FAMILIES):
        if CLASSIFIER_DATASET[family] != dataset:
            raise ConfigError(f"the {family} metric uses the zoo's Fashion-MNIST classifier and is defined on "
                              f"{CLASSIFIER_DATASET[family]}, not {dataset}; pass --dataset {CLASSIFIER_DATASET[family]}")
    return chosen


def score(
    G: Any,
    dataset: PluginSpec,
    *,
    metrics: Sequence[str] | None = None,
    split: str = "test",
    n_generated: int = 10_000,
    n_real: int = 10_000,
    seed: int = 0,
    device: str = "cpu",
    batch_size: int = 50,
    inception_path: str | None = None,
    is_classifier: str | None = None,
    progress: bool = True,
    fast: bool = False,
) -> dict[str, Any]:
    """Score a :class:`~ganzoo.pretrained.PretrainedGenerator` against ``dataset``'s ``split``.

    Images are generated on training's fast path (bf16 autocast where the device runs bf16
    natively); their features in fp32, the standard figure, unless ``fast`` (bf16 features too).
    The protocol of every figure records both precisions.
    """

    toy = is_toy(dataset.name)
    chosen = choose_metrics(dataset.name, metrics, getattr(G, "num_classes", 0))
    native = not toy and native_bf16(torch.device(device)) is not None
    generator_precision = "bf16" if native else "fp32"

    def sample_fn(n: int, s: int) -> torch.Tensor:
        return G.sample(n, seed=s, precision=generator_precision).cpu()

    results: list[dict[str, Any]] = []

    def add(metric: str, value: float, protocol: dict[str, Any], used_split: str) -> None:
        results.append({"metric": metric, "value": float(value), "dataset": dataset.name, "split": used_split, "protocol": protocol})

    image_metrics = [x for x in chosen if x in IMAGE_FAMILIES]
    if image_metrics:
        real = real_tensor(dataset_split(dataset, split), n_real, REAL_SUBSET_SEED)
        out = m.evaluate(
            sample_fn, real, metrics=tuple(image_metrics), n_generated=n_generated, n_real=len(real), seed=seed,
            device=device, batch_size=batch_size, inception_path=inception_path,
            real_name=dataset.name, real_split=split, progress=progress, is_classifier=is_classifier,
            feature_precision="bf16" if fast and native else "fp32", generator_precision=generator_precision,
        )
        for metric in image_metrics:
            for key in figures(metric):
                if key in out:
                    add(key, out[key], out["protocol"], split)
        for metric, reason in (out.get("skipped") or {}).items():
            results.append({"metric": metric, "skipped": reason, "dataset": dataset.name})
    classifier_metrics = [x for x in chosen if x in CLASSIFIER_FAMILIES]
    if classifier_metrics:
        out = _classifier_figures(G, sample_fn, classifier_metrics, n_generated, seed, device, generator_precision)
        for metric in classifier_metrics:
            for key in figures(metric):
                if key in out:
                    add(key, out[key], out["protocol"], "generated")
        for metric, reason in (out.get("skipped") or {}).items():
            results.append({"metric": metric, "skipped": reason, "dataset": dataset.name})
    if "toy" in chosen:
        out = m.evaluate_toy(sample_fn, dataset.name, seed=seed)
        protocol = out["protocol"] | {"n_modes": out["n_modes"]}
        for key in figures("toy"):
            add(key, out[key], protocol, "generated")
    if "parzen" in chosen:
        if toy:
            test = real_tensor(PluginSpec(dataset.name, {"n": min(n_real, 10_000), "seed": seed + 1}), n_real, seed)
            validation = real_tensor(PluginSpec(dataset.name, {"n": 1000, "seed": seed + 2}), 1000, seed)
            picked_on = f"fresh draws of {dataset.name} (seed {seed + 2})"
        else:
            test = real_tensor(dataset_split(dataset, split), n_real, REAL_SUBSET_SEED)
            validation = real_tensor(dataset_split(dataset, "train"), 1000, REAL_SUBSET_SEED + 1)
            # No split is held out of training, so the bandwidth is picked on training images.
            picked_on = "train (images the model trained on)"
        out = m.evaluate_parzen(sample_fn, test, validation, n_generated=n_generated, seed=seed)
        (key,) = figures("parzen")
        extra = {"stderr": out["stderr"], "sigma": out["sigma"], "validation_split": picked_on}
        add(key, out["mean"], out["protocol"] | extra, split)
    return {"results": results}


def prepare_reference(
    dataset: PluginSpec,
    *,
    split: str = "test",
    n_real: int = 10_000,
    device: str = "cpu",
    batch_size: int = 50,
    inception_path: str | None = None,
    progress: bool = True,
    fast: bool = False,
) -> dict[str, Any]:
    """Featurize ``dataset``'s ``split`` into the reference cache, so that a later ``score`` with the
    same count and feature precision reads the real side from disk. Returns what was prepared and
    whether it was already cached (``"hit"``) or computed now (``"miss"``)."""
    if is_toy(dataset.name):
        raise ConfigError(f"{dataset.name} holds 2D points; its metrics need no Inception reference")
    device = str(pick_device(device))
    native = native_bf16(torch.device(device)) is not None
    precision = "bf16" if fast and native else "fp32"
    real = real_tensor(dataset_split(dataset, split), n_real, REAL_SUBSET_SEED)
    reference, state = m.prepare_reference(
        real, dataset.name, n_real=len(real), real_split=split, device=device, batch_size=batch_size,
        inception_path=inception_path, feature_precision=precision, progress=progress,
    )
    return {"dataset": dataset.name, "split": split, "n_real": len(real), "feature_precision": precision,
            "feature_dim": int(reference.features.shape[1]), "cache": state}


def default_image_metrics(dataset_name: str, num_classes: int) -> list[str]:
    """What ``score`` computes for images when no metrics are named: the Inception families, plus the
    classifier families defined on the dataset (conditional accuracy only for conditional models)."""
    fitting = [f for f in CLASSIFIER_FAMILIES if CLASSIFIER_DATASET[f] == dataset_name]
    return list(IMAGE_FAMILIES) + [f for f in fitting if f != "conditional-accuracy" or num_classes]


def _classifier_figures(
    G: Any, sample_fn: Callable[[int, int], torch.Tensor], metrics: list[str], n: int, seed: int, device: str, precision: str
) -> dict[str, Any]:
    """The classifier families for ``G``; a conditional G is also sampled with requested labels."""

    def labeled(count: int, s: int, labels: torch.Tensor) -> torch.Tensor:
        return G.sample(count, seed=s, labels=labels, precision=precision).cpu()

    num_classes = getattr(G, "num_classes", 0)
    return m.evaluate_classifier(
        sample_fn, metrics=metrics, n_generated=n, seed=seed, labeled_sample_fn=labeled if num_classes else None,
        num_classes=num_classes, device=device, generator_precision=precision,
    )


def save_results(folder: str | Path, scored: dict[str, Any]) -> Path:
    """Merge results into ``folder/eval.json`` (a later figure for the same metric replaces it)."""
    path = Path(folder) / "eval.json"
    existing = read_json(path, "evaluation results").get("results", []) if path.is_file() else []
    new_keys = {(r["metric"], r.get("dataset"), r.get("split")) for r in scored["results"]}
    kept = [r for r in existing if (r["metric"], r.get("dataset"), r.get("split")) not in new_keys]
    write_json(path, {"results": kept + scored["results"]})
    return path
