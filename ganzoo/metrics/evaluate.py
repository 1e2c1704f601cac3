"""One entry point per evaluation mode: image metrics, toy mode counting, Parzen likelihood.

``sample_fn(n, seed) -> Tensor`` is the only thing asked of a model: images in [-1, 1] NCHW (or
[N, 2] points for the toys). Generated images are drawn in chunks of ``SAMPLE_CHUNK``: chunk 0
uses ``seed`` itself (so small runs score exactly ``sample_fn(n, seed)``), chunk i > 0 uses a seed
derived from (seed, i) by ``numpy.random.SeedSequence``; the chunk size is in the protocol.

Image metrics share one pass: real and generated images are featurized once and every requested
metric is computed from those features. Real features can be cached on disk (see
:mod:`ganzoo.metrics.reference_cache`) when the caller names the dataset with ``real_name``.
Dataset loading is the caller's job: ``real`` is a tensor, a map-style dataset of tensors (or
(tensor, label) pairs), or an iterable of batches such as a DataLoader.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..metric_catalog import IMAGE_FAMILIES
from .features import FeatureExtractor, InceptionFeatures, load_torchscript
from .fid import fid_from_stats, gaussian_stats
from .inception_score import inception_score_from_logits
from .kid import kernel_inception_distance
from .parzen import DEFAULT_SIGMAS, parzen_evaluate
from .prdc import precision_recall_density_coverage
from .protocol import Protocol, ganzoo_version
from .reference_cache import ReferenceFeatures, ReferenceKey, cached_reference
from .toy import DEFAULT_TOY_SAMPLES, toy_metrics, toy_protocol

SampleFn = Callable[[int, int], torch.Tensor]
Classifier = Callable[[torch.Tensor], torch.Tensor]
IMAGE_METRICS: tuple[str, ...] = IMAGE_FAMILIES
SAMPLE_CHUNK = 500
# Parzen bandwidth grid for non-image vectors (e.g. 2D toys), whose scale is not [0, 1].
VECTOR_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.logspace(-3.0, 1.0, 25))


def chunk_seed(seed: int, index: int) -> int:
    """Seed of the index-th chunk of generated samples (see the module docstring)."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def generated_batches(sample_fn: SampleFn, n: int, seed: int, chunk: int = SAMPLE_CHUNK) -> Iterator[torch.Tensor]:
    """Yield ``n`` generated samples in chunks, each from ``sample_fn(size, chunk_seed)``."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    for index, start in enumerate(range(0, n, chunk)):
        size = min(chunk, n - start)
        batch = torch.as_tensor(sample_fn(size, chunk_seed(seed, index))).detach()
        if len(batch) != size:
            raise ValueError(f"sample_fn({size}, seed) returned {len(batch)} samples")
        yield batch


def _first_tensor(item: Any) -> torch.Tensor:
    # Datasets and loaders commonly yield (image, label) pairs.
    if isinstance(item, (tuple, list)):
        item = item[0]
    return torch.as_tensor(item)


def real_batches(real: Any, n: int, batch_size: int) -> Iterator[torch.Tensor]:
    """Yield the first ``n`` real images in batches.

    ``real``: a tensor [N, C, H, W]; a sequence / map-style dataset (anything with ``__len__`` and
    ``__getitem__``) of single images or (image, label) pairs; or any other iterable of batches
    (a DataLoader, a generator) yielding tensors or (images, labels) pairs.
    """
    if isinstance(real, torch.Tensor):
        available: int | None = len(real)
        source: Iterable[torch.Tensor] = real[:n].split(batch_size)
    elif hasattr(real, "__getitem__") and hasattr(real, "__len__"):
        available = len(real)
        source = (
            torch.stack([_first_tensor(real[i]) for i in range(start, min(start + batch_size, n))])
            for start in range(0, min(n, available), batch_size)
        )
    else:
        available, source = None, (_first_tensor(b) for b in real)
    if available is not None and available < n:
        raise ValueError(f"the real set has only {available} images; pass n_real={available} or fewer")
    produced = 0
    for batch in source:
        batch = batch[: n - produced]
        produced += len(batch)
        yield batch
        if produced >= n:
            return
    if produced < n:
        raise ValueError(f"the real set ran out after {produced} images; pass n_real={produced} or fewer")


def _describe_classifier(classifier: Classifier | str | os.PathLike[str]) -> str:
    if isinstance(classifier, (str, os.PathLike)):
        return f"TorchScript {os.fspath(classifier)}"
    return getattr(classifier, "__name__", type(classifier).__name__)


def _progress(iterable: Iterable[torch.Tensor], total: int, desc: str, progress: bool | None) -> Iterable[torch.Tensor]:
    disable = (not progress) if progress is not None else None
    bar = tqdm(total=total, desc=desc, unit="img", disable=disable)
    for batch in iterable:
        yield batch
        bar.update(len(batch))
    bar.close()


def _reference_features(
    extractor: FeatureExtractor,
    real: Any,
    n_real: int,
    batch_size: int,
    real_name: str | None,
    real_split: str,
    cache_dir: str | os.PathLike[str] | None,
    use_cache: bool,
    progress: bool | None,
) -> tuple[ReferenceFeatures, str]:
    """Real-image features and whether they came from the cache ("hit", "miss" or "off")."""

    def featurize() -> torch.Tensor:
        if real is None:
            raise ValueError(f"no cached reference features for {real_name!r}; pass the real images")
        batches = _progress(real_batches(real, n_real, batch_size), n_real, "real features", progress)
        with torch.inference_mode():
            return torch.cat([extractor(batch) for batch in batches])

    if real_name is None or not use_cache:
        features = featurize()
        return ReferenceFeatures(features.numpy(), gaussian_stats(features)), "off"

    state = "hit"

    def featurize_on_miss() -> torch.Tensor:
        nonlocal state
        state = "miss"
        return featurize()

    key = ReferenceKey(real_name, real_split, n_real, extractor.preprocessing_version, extractor.weights_sha256,
                       getattr(extractor, "precision", "fp32"))
    reference = cached_reference(key, featurize_on_miss, cache_dir)
    return reference, state


def prepare_reference(
    real: Any,
    real_name: str,
    *,
    n_real: int = 10_000,
    real_split: str = "test",
    device: torch.device | str = "cpu",
    batch_size: int = 50,
    inception_path: str | os.PathLike[str] | None = None,
    feature_extractor: FeatureExtractor | None = None,
    feature_precision: str = "fp32",
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> tuple[ReferenceFeatures, str]:
    """Featurize ``n_real`` real images into the reference cache ahead of scoring (or read them back).

    ``evaluate`` with the same dataset name, split, count, network and precision then starts from the
    cache. Returns the features and whether they were already cached ("hit") or computed ("miss").
    """
    if n_real < 2:
        raise ValueError("n_real must be at least 2")
    extractor = feature_extractor or InceptionFeatures(
        inception_path, device=device, batch_size=batch_size, progress=False, precision=feature_precision
    )
    return _reference_features(extractor, real, n_real, batch_size, real_name, real_split, cache_dir, True, progress)


def evaluate(
    sample_fn: SampleFn,
    real: Any = None,
    *,
    metrics: Sequence[str] = IMAGE_METRICS,
    n_generated: int = 10_000,
    n_real: int = 10_000,
    seed: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int = 50,
    inception_path: str | os.PathLike[str] | None = None,
    feature_extractor: FeatureExtractor | None = None,
    real_name: str | None = None,
    real_split: str = "test",
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    is_classifier: Classifier | str | os.PathLike[str] | None = None,
    is_splits: int = 10,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    k_precision_recall: int = 3,
    k_density_coverage: int = 5,
    progress: bool | None = None,
    feature_precision: str = "fp32",
    generator_precision: str = "fp32",
) -> dict[str, Any]:
    """Compute the requested image metrics from one featurization of real and generated images.

    Returns a flat dict of figures (``fid``, ``kid_mean``, ``kid_std``, ``precision``, ``recall``,
    ``density``, ``coverage``, ``is_mean``, ``is_std``) plus ``protocol`` (see
    :class:`~ganzoo.metrics.protocol.Protocol`) and, when a metric could not be computed,
    ``skipped`` mapping it to the reason.

    ``real`` may be None when ``real_name`` is given and its features are already cached; the
    first ``n_real`` images are used. ``feature_extractor`` replaces the Inception network (any
    :class:`~ganzoo.metrics.features.FeatureExtractor`); the protocol then records its name, hash
    and preprocessing version. ``feature_precision="bf16"`` runs the Inception pass under bf16
    autocast (faster, not the standard figure: the protocol says so); ``generator_precision`` only
    records how ``sample_fn`` produced its images.
    ``is_classifier`` maps a batch of generated images (as ``sample_fn`` returns them, on
    ``device``) to class logits; a path is loaded as TorchScript. The Inception network used for
    features has no classifier head, so without one IS is skipped.
    """
    if not metrics:
        raise ValueError(f"no metrics requested; choose from {list(IMAGE_METRICS)}")
    unknown = sorted(set(metrics) - set(IMAGE_METRICS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(IMAGE_METRICS)}")
    if feature_extractor is not None and inception_path is not None:
        raise ValueError("pass either feature_extractor or inception_path, not both")
    if n_generated < 2 or n_real < 2:
        raise ValueError("n_generated and n_real must be at least 2")
    dev = torch.device(device)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}

    classifier: Classifier | None = None
    if "is" in metrics:
        if is_classifier is None:
            skipped["is"] = "no is_classifier given: the Inception feature network has no class logits"
        elif isinstance(is_classifier, (str, os.PathLike)):
            classifier = load_torchscript(is_classifier).to(dev)
        else:
            classifier = is_classifier

    need_features = any(m in metrics for m in ("fid", "kid", "prdc"))
    extractor: FeatureExtractor | None = None
    if need_features:
        extractor = feature_extractor or InceptionFeatures(
            inception_path, device=dev, batch_size=batch_size, progress=False, precision=feature_precision
        )

    # (1) real features, from the on-disk cache when the dataset is named.
    reference: ReferenceFeatures | None = None
    cache_state = "off"
    if extractor is not None:
        reference, cache_state = _reference_features(
            extractor, real, n_real, batch_size, real_name, real_split, cache_dir, use_cache, progress
        )

    # (2) generated images: one pass feeds both the feature network and the IS classifier.
    generated_features: list[torch.Tensor] = []
    logits: list[torch.Tensor] = []
    batches = _progress(generated_batches(sample_fn, n_generated, seed), n_generated, "generated", progress)
    with torch.inference_mode():
        for batch in batches if extractor is not None or classifier is not None else ():
            if extractor is not None:
                generated_features.append(extractor(batch))
            if classifier is not None:
                logits.append(torch.as_tensor(classifier(batch.to(dev))).float().cpu())

    # (3) figures, all from the features above.
    if reference is not None:
        fake = torch.cat(generated_features)
        if "fid" in metrics:
            results["fid"] = fid_from_stats(reference.stats, gaussian_stats(fake))
        if "kid" in metrics:
            kid = kernel_inception_distance(
                reference.features, fake, subset_size=kid_subset_size, subsets=kid_subsets, seed=seed, device=dev
            )
            results.update(kid_mean=kid.mean, kid_std=kid.std)
        if "prdc" in metrics:
            prdc = precision_recall_density_coverage(
                reference.features,
                fake,
                k_precision_recall=k_precision_recall,
                k_density_coverage=k_density_coverage,
                device=dev,
            )
            results.update(prdc.__dict__)
    if classifier is not None:
        score = inception_score_from_logits(torch.cat(logits), splits=is_splits)
        results.update(is_mean=score.mean, is_std=score.std)

    extra: dict[str, Any] = {"metrics": list(metrics), "sample_chunk": SAMPLE_CHUNK, "device": str(dev)}
    if "kid" in metrics:
        extra.update(kid_subset_size=min(kid_subset_size, n_real, n_generated), kid_subsets=kid_subsets)
    if "prdc" in metrics:
        extra.update(k_precision_recall=k_precision_recall, k_density_coverage=k_density_coverage)
    if classifier is not None:
        extra.update(is_classifier=_describe_classifier(is_classifier), is_splits=is_splits)  # type: ignore[arg-type]
    if extractor is not None:
        extra["reference_cache"] = cache_state
    protocol = Protocol(
        feature_network=extractor.name if extractor is not None else "none",
        weights_sha256=extractor.weights_sha256 if extractor is not None else "",
        n_real=n_real if extractor is not None else 0,
        n_generated=n_generated,
        real_split=real_split,
        real_dataset=real_name,
        seed=seed,
        feature_precision=getattr(extractor, "precision", "fp32") if extractor is not None else "none",
        generator_precision=generator_precision,
        extra=extra,
    )
    if extractor is not None:
        protocol.preprocessing_version = extractor.preprocessing_version
    results["protocol"] = protocol.to_dict()
    if skipped:
        results["skipped"] = skipped
    return results


def evaluate_toy(sample_fn: SampleFn, name: str, n: int = DEFAULT_TOY_SAMPLES, seed: int = 0) -> dict[str, Any]:
    """Modes captured / high-quality share / mode KL on a toy mixture (``ganzoo.data.toy.GEOMETRIES``)."""
    points = torch.cat(list(generated_batches(sample_fn, n, seed, chunk=max(n, 1))))
    result = toy_metrics(points, name).to_dict()
    result["protocol"] = {
        "metric": "toy-modes",
        "dataset": name,
        "n_generated": n,
        "seed": seed,
        **toy_protocol(name),
        "ganzoo_version": ganzoo_version(),
    }
    return result


def _parzen_vectors(x: torch.Tensor) -> torch.Tensor:
    """Images -> flat vectors in [0, 1] (the scale of the literature); [N, d] vectors unchanged."""
    x = torch.as_tensor(x).detach().cpu()
    if x.dim() == 2 and x.dtype != torch.uint8:
        return x.double()
    if x.dtype == torch.uint8:
        return x.reshape(len(x), -1).double() / 255.0
    return ((x.reshape(len(x), -1).double() + 1.0) / 2.0).clamp(0.0, 1.0)


def evaluate_parzen(
    sample_fn: SampleFn,
    test: torch.Tensor,
    validation: torch.Tensor,
    *,
    n_generated: int = 10_000,
    sigmas: Sequence[float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Parzen-window test log-likelihood of ``test`` under ``n_generated`` samples.

    Images (uint8, or float in [-1, 1], 3-D or 4-D) are flattened and scaled to [0, 1] as in
    Goodfellow et al. (2014), with their σ grid ``logspace(-1, 0, 10)``; [N, d] float vectors are
    used as given with the grid ``logspace(-3, 1, 25)``. σ is picked on ``validation``.
    """
    test_vectors, validation_vectors = _parzen_vectors(test), _parzen_vectors(validation)
    is_image = torch.as_tensor(test).dim() > 2 or torch.as_tensor(test).dtype == torch.uint8
    grid = tuple(sigmas) if sigmas is not None else (DEFAULT_SIGMAS if is_image else VECTOR_SIGMAS)
    samples = torch.cat([_parzen_vectors(b) for b in generated_batches(sample_fn, n_generated, seed)])
    result = parzen_evaluate(samples, test_vectors, validation_vectors, grid)
    out: dict[str, Any] = dict(result.__dict__)
    out["protocol"] = {
        "metric": "parzen-log-likelihood",
        "n_generated": n_generated,
        "n_test": len(test_vectors),
        "n_validation": len(validation_vectors),
        "scale": "images flattened to [0,1] (generated: (x+1)/2, unquantized)" if is_image else "vectors as given",
        "sigma_grid": list(grid),
        "seed": seed,
        "ganzoo_version": ganzoo_version(),
    }
    return out
