"""ganzoo's metrics against the reference implementations, on the same features.

Each reference package is the `xcheck` extra (``pip install -c constraints.txt -e '.[xcheck]'``;
`make test` installs it). Only their functions are called, never their networks, so nothing is
downloaded; a test whose package is missing is skipped. The features are Inception-like: 2048-d
or smaller, non-negative (post-ReLU pool), correlated, with a real gap between the two sets.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch

from ganzoo.metrics import (
    frechet_distance,
    gaussian_stats,
    inception_score_from_logits,
    kernel_inception_distance,
    precision_recall_density_coverage,
)
from ganzoo.metrics.kid import mmd2_unbiased

# pytorch-fid and clean-fid call scipy's sqrtm(disp=False), deprecated in SciPy 1.17: their warning.
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")
FID_RTOL = 1e-6


def _features(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """Non-negative correlated features, like Inception's pool: relu(z A + shift)."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(99).normal(size=(d, d)) / np.sqrt(d)
    return np.maximum(rng.normal(size=(n, d)) @ mixing + shift, 0.0)


@pytest.fixture(scope="module")
def full_rank() -> tuple[np.ndarray, np.ndarray]:
    return _features(1200, 256, seed=1), _features(1000, 256, seed=2, shift=0.1)


@pytest.fixture(scope="module")
def rank_deficient() -> tuple[np.ndarray, np.ndarray]:
    # Fewer samples than dimensions: both covariances are singular, as with small FID runs.
    return _features(150, 256, seed=3), _features(120, 256, seed=4, shift=0.1)


def _ours(real: np.ndarray, fake: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    a, b = gaussian_stats(real), gaussian_stats(fake)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma), {"mu1": a.mu, "s1": a.sigma, "mu2": b.mu, "s2": b.sigma}


def _pytorch_fid(s: dict[str, np.ndarray]) -> float:
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    return float(fid_score.calculate_frechet_distance(s["mu1"], s["s1"], s["mu2"], s["s2"]))


def _clean_fid(s: dict[str, np.ndarray]) -> float:
    cleanfid = pytest.importorskip("cleanfid.fid")
    with contextlib.redirect_stdout(io.StringIO()):  # it prints when it nudges a singular product
        return float(cleanfid.frechet_distance(s["mu1"], s["s1"], s["mu2"], s["s2"]))


def _torch_fidelity(s: dict[str, np.ndarray]) -> float:
    metric_fid = pytest.importorskip("torch_fidelity.metric_fid")
    out = metric_fid.fid_statistics_to_metric({"mu": s["mu1"], "sigma": s["s1"]}, {"mu": s["mu2"], "sigma": s["s2"]}, False)
    return float(out["frechet_inception_distance"])


def _torchmetrics(s: dict[str, np.ndarray]) -> float:
    tm_fid = pytest.importorskip("torchmetrics.image.fid")
    t = {k: torch.from_numpy(v) for k, v in s.items()}
    return float(tm_fid._compute_fid(t["mu1"], t["s1"], t["mu2"], t["s2"]))


FID_REFERENCES = {"pytorch-fid": _pytorch_fid, "clean-fid": _clean_fid, "torch-fidelity": _torch_fidelity,
                  "torchmetrics": _torchmetrics}


@pytest.mark.parametrize("reference", list(FID_REFERENCES))
@pytest.mark.parametrize("case", ["full_rank", "rank_deficient"])
def test_fid_matches_reference(reference: str, case: str, request: pytest.FixtureRequest) -> None:
    # Measured: ~3e-15 relative on full-rank covariances, ~2e-8 on singular ones (where the
    # sqrtm-based references add 1e-6 to the diagonals and eigvals of the unsymmetric product loses
    # digits); the bar is the 1e-6.
    ours, stats = _ours(*request.getfixturevalue(case))
    assert ours > 1.0  # a real gap, not two copies of one set
    assert ours == pytest.approx(FID_REFERENCES[reference](stats), rel=FID_RTOL)


def test_fid_statistics_are_the_references_statistics(full_rank) -> None:
    metric_fid = pytest.importorskip("torch_fidelity.metric_fid")
    real = full_rank[0].astype(np.float32)
    theirs = metric_fid.fid_features_to_statistics(torch.from_numpy(real))
    ours = gaussian_stats(real)
    np.testing.assert_allclose(ours.mu, theirs["mu"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.sigma, theirs["sigma"], rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- KID


def test_kid_on_whole_sets_matches_clean_fid_torch_fidelity_and_torchmetrics() -> None:
    # One subset the size of both sets: every implementation sees the same pairs, whatever its RNG.
    real, fake = _features(400, 128, seed=5), _features(400, 128, seed=6, shift=0.05)
    ours = kernel_inception_distance(real, fake, subset_size=400, subsets=1).mean
    assert abs(ours) > 1e-4

    cleanfid = pytest.importorskip("cleanfid.fid")
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    tm_kid = pytest.importorskip("torchmetrics.image.kid")
    clean = cleanfid.kernel_distance(real, fake, num_subsets=1, max_subset_size=400)
    fidelity = metric_kid.kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=1,
                                                 kid_subset_size=400, verbose=False)["kernel_inception_distance_mean"]
    tm = float(tm_kid.poly_mmd(torch.from_numpy(real), torch.from_numpy(fake)))
    for theirs in (clean, fidelity, tm):
        assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-13)


def test_kid_mean_and_std_over_subsets_match_torch_fidelity() -> None:
    # Same subsets as torch-fidelity draws them (RandomState(seed), real then generated each time):
    # checks the per-subset estimator and the aggregation (mean, population std).
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    real, fake = _features(300, 64, seed=7), _features(250, 64, seed=8, shift=0.05)
    size, subsets, seed = 100, 6, 3
    out = metric_kid.kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=subsets,
                                            kid_subset_size=size, rng_seed=seed, verbose=False)
    rng = np.random.RandomState(seed)
    ours = []
    for _ in range(subsets):
        x, y = real[rng.choice(len(real), size, replace=False)], fake[rng.choice(len(fake), size, replace=False)]
        ours.append(mmd2_unbiased(x, y))
    assert np.mean(ours) == pytest.approx(out["kernel_inception_distance_mean"], rel=1e-10)
    assert np.std(ours) == pytest.approx(out["kernel_inception_distance_std"], rel=1e-8)


# --------------------------------------------------------------------------- precision/recall, density/coverage


@pytest.mark.parametrize("k", [3, 5])
def test_prdc_matches_the_prdc_package_exactly(k: int) -> None:
    prdc = pytest.importorskip("prdc")
    real, fake = _features(300, 32, seed=9), _features(260, 32, seed=10, shift=0.15)
    ours = precision_recall_density_coverage(real, fake, k_precision_recall=k, k_density_coverage=k)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the sample counts
        theirs = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    assert 0.0 < ours.precision < 1.0 and 0.0 < ours.coverage < 1.0  # nothing degenerate
    assert (ours.precision, ours.recall, ours.coverage) == (
        float(theirs["precision"]), float(theirs["recall"]), float(theirs["coverage"]))
    assert ours.density == pytest.approx(float(theirs["density"]), rel=1e-12)


def test_precision_recall_match_torch_fidelity_exactly() -> None:
    metric_prc = pytest.importorskip("torch_fidelity.metric_prc")
    real, fake = _features(300, 32, seed=11), _features(260, 32, seed=12, shift=0.15)
    ours = precision_recall_density_coverage(real, fake, k_precision_recall=3)
    # torch-fidelity's convention: features_1 are generated, features_2 real.
    theirs = metric_prc.prc_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), prc_neighborhood=3,
                                               prc_batch_size=10000, save_cpu_ram=False, verbose=False)
    # Theirs are float32 means: compare the counts behind them, which must be equal.
    assert round(ours.precision * len(fake)) == round(theirs["precision"] * len(fake))
    assert round(ours.recall * len(real)) == round(theirs["recall"] * len(real))
    assert ours.precision == pytest.approx(theirs["precision"], rel=1e-6)
    assert ours.recall == pytest.approx(theirs["recall"], rel=1e-6)


# --------------------------------------------------------------------------- Inception Score


@pytest.mark.parametrize("splits", [1, 10])
def test_inception_score_matches_torch_fidelity(splits: int) -> None:
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
    logits = torch.from_numpy(np.random.default_rng(13).normal(size=(1000, 1008)) * 3.0)
    ours = inception_score_from_logits(logits, splits=splits)
    theirs = metric_isc.isc_features_to_metric(logits, splits=splits, shuffle=False)
    assert ours.mean > 1.5
    assert ours.mean == pytest.approx(theirs["inception_score_mean"], rel=1e-12)
    assert ours.std == pytest.approx(theirs["inception_score_std"], rel=1e-9, abs=1e-12)
