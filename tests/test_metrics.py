"""Metric math on constructed inputs; no Inception network needed (see test_metrics_inception.py)."""
from __future__ import annotations

import hashlib
import math
import os
import threading
import time

import numpy as np
import pytest
import scipy.linalg
import torch

from ganzoo.data.toy import sample_toy, toy_centers, toy_std
from ganzoo.metrics import (
    InceptionWeightsNotFound,
    ReferenceCacheError,
    evaluate,
    evaluate_parzen,
    evaluate_toy,
    fid_from_features,
    frechet_distance,
    inception_preprocess,
    inception_score,
    inception_score_from_logits,
    kernel_inception_distance,
    parzen_evaluate,
    parzen_log_likelihood,
    precision_recall_density_coverage,
    prepare_reference,
    resolve_inception_weights,
    to_uint8,
    toy_metrics,
)
from ganzoo.metrics import inception_weights, reference_cache
from ganzoo.metrics.evaluate import SAMPLE_CHUNK, chunk_seed, real_batches
from ganzoo.metrics.kid import mmd2_unbiased
from ganzoo.metrics.reference_cache import ReferenceKey, cached_reference, load_reference


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def _sym_sqrt(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


# --------------------------------------------------------------------------- FID


def test_fid_of_a_set_with_itself_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=(500, 16))
    assert abs(fid_from_features(x, x)) < 1e-8


def test_fid_of_a_set_with_itself_is_zero_even_when_covariance_is_singular() -> None:
    x = np.random.default_rng(1).normal(size=(20, 64))  # n < d
    assert abs(fid_from_features(x, x)) < 1e-4


def test_fid_matches_closed_form_for_diagonal_gaussians() -> None:
    # With diagonal covariances: FID = ||mu1 - mu2||² + Σ (√a - √b)².
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    assert expected == pytest.approx(7.25 + 4.0 + 1.0)


def test_fid_matches_independent_formula_for_full_covariances() -> None:
    rng = np.random.default_rng(2)
    d = 6
    s1, s2 = _spd(rng, d), _spd(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    # Tr (Σ1 Σ2)^{1/2} = Tr (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}, computed through symmetric eigendecompositions.
    r1 = _sym_sqrt(s1)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(_sym_sqrt(r1 @ s2 @ r1))
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(expected, rel=1e-8)
    assert got == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-8)  # symmetric


def test_fid_from_features_uses_sample_mean_and_unbiased_covariance() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 5)), rng.normal(size=(200, 5)) * 2 + 1
    mx, my = x.mean(0), y.mean(0)
    cx, cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    expected = np.sum((mx - my) ** 2) + np.trace(cx + cy - 2 * scipy.linalg.sqrtm(cx @ cy).real)
    assert fid_from_features(torch.from_numpy(x).float(), y) == pytest.approx(expected, rel=1e-5)
    assert expected > 5.0  # a real difference, not a degenerate case


def test_fid_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


# --------------------------------------------------------------------------- KID


def test_mmd2_unbiased_matches_brute_force_sum() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(6, 3)) + 0.3
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    yy = sum(k(y[i], y[j]) for i in range(6) for j in range(6) if i != j) / (6 * 5)
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(6)) / (5 * 6)
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_kid_is_unbiased_on_equal_distributions_and_can_go_negative() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    result = kernel_inception_distance(x, y, subset_size=100, subsets=50, seed=0)
    # The biased estimator (diagonals kept) sits near +0.16 here; the unbiased one near 0.
    assert abs(result.mean) < 0.05
    assert result.std > 0
    single = [kernel_inception_distance(x, y, subset_size=100, subsets=1, seed=s).mean for s in range(10)]
    assert min(single) < 0


def test_kid_is_clearly_positive_for_shifted_distributions() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8)) + 0.5
    result = kernel_inception_distance(x, y, subset_size=100, subsets=50, seed=0)
    assert result.mean > 3 * result.std > 0


def test_kid_clips_subset_size_to_available_samples() -> None:
    rng = np.random.default_rng(7)
    result = kernel_inception_distance(rng.normal(size=(30, 4)), rng.normal(size=(40, 4)), subsets=3)
    assert result.subset_size == 30 and result.subsets == 3


# --------------------------------------------------------------------------- precision / recall / density / coverage


def test_prdc_identical_sets() -> None:
    x = torch.randn(300, 10, generator=torch.Generator().manual_seed(0))
    r = precision_recall_density_coverage(x, x.clone())
    assert r.precision == 1.0 and r.recall == 1.0 and r.coverage == 1.0
    # Each real k-NN ball holds its centre plus k neighbours: density = N(k+1) / (kN) = 6/5.
    assert r.density == pytest.approx(6 / 5)


def test_prdc_accepts_equal_k_for_both_pairs() -> None:
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(4))
    r = precision_recall_density_coverage(x, x, k_precision_recall=3, k_density_coverage=3)
    assert r.precision == 1.0 and r.density == pytest.approx(4 / 3)


def test_prdc_disjoint_far_apart_sets() -> None:
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(200, 8, generator=gen), torch.randn(200, 8, generator=gen) + 100.0
    r = precision_recall_density_coverage(real, fake)
    assert (r.precision, r.recall, r.density, r.coverage) == (0.0, 0.0, 0.0, 0.0)


def test_prdc_generator_covering_half_the_modes() -> None:
    gen = torch.Generator().manual_seed(2)
    angles = torch.arange(10) * (2 * math.pi / 10)
    centres = torch.stack([angles.cos(), angles.sin()], dim=1) * 50.0  # 10 well separated 2D modes
    real = centres.repeat_interleave(100, dim=0) + torch.randn(1000, 2, generator=gen)
    fake = centres[:5].repeat_interleave(200, dim=0) + torch.randn(1000, 2, generator=gen)
    r = precision_recall_density_coverage(real, fake)
    assert r.precision > 0.95
    assert 0.42 <= r.recall <= 0.5
    assert 0.42 <= r.coverage <= 0.5


def test_prdc_blocked_computation_equals_single_block() -> None:
    gen = torch.Generator().manual_seed(3)
    real, fake = torch.randn(150, 6, generator=gen), torch.randn(130, 6, generator=gen) * 1.3 + 0.2
    whole = precision_recall_density_coverage(real, fake, block=4096)
    blocked = precision_recall_density_coverage(real, fake, block=7)
    assert whole == blocked
    assert 0 < whole.precision < 1 and 0 < whole.recall < 1


# --------------------------------------------------------------------------- Inception Score


def test_is_of_confident_uniform_predictions_is_the_number_of_classes() -> None:
    classes = 5
    probs = np.eye(classes)[np.arange(100) % classes]  # each of the 10 splits holds 2 of each class
    result = inception_score(probs, splits=10)
    assert result.mean == pytest.approx(classes)
    assert result.std == pytest.approx(0.0, abs=1e-12)


def test_is_of_identical_predictions_is_one() -> None:
    assert inception_score(np.tile([[0.0, 1.0, 0.0]], (50, 1)), splits=5).mean == pytest.approx(1.0)
    assert inception_score(np.tile([[0.2, 0.3, 0.5]], (50, 1)), splits=5).mean == pytest.approx(1.0)


def test_is_uses_kl_of_conditional_from_marginal() -> None:
    probs = np.array([[0.9, 0.1], [0.1, 0.9]] * 10)
    expected = math.exp(0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5))  # KL(p(y|x) || p(y))
    assert inception_score(probs, splits=1).mean == pytest.approx(expected)


def test_is_from_logits_applies_softmax() -> None:
    logits = torch.eye(4).repeat(10, 1) * 50.0
    assert inception_score_from_logits(logits, splits=10).mean == pytest.approx(4.0, rel=1e-6)


def test_is_rejects_unnormalized_input() -> None:
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(np.ones((10, 3)), splits=2)


# --------------------------------------------------------------------------- toy modes


@pytest.mark.parametrize("name", ["toy-ring", "toy-grid"])
def test_toy_exact_centres_capture_every_mode(name: str) -> None:
    centres = toy_centers(name)
    r = toy_metrics(centres.repeat(4, 1), name)
    assert r.modes_captured == r.n_modes == len(centres)
    assert r.high_quality_fraction == 1.0
    assert r.kl_to_uniform == pytest.approx(0.0, abs=1e-12)


def test_toy_collapse_to_one_centre() -> None:
    r = toy_metrics(toy_centers("toy-grid")[7].repeat(100, 1), "toy-grid")
    assert r.modes_captured == 1 and r.n_modes == 25
    assert r.high_quality_fraction == 1.0
    assert r.kl_to_uniform == pytest.approx(math.log(25))


def test_toy_far_away_points_are_not_high_quality() -> None:
    r = toy_metrics(torch.full((50, 2), 30.0), "toy-ring")
    assert r.modes_captured == 0 and r.high_quality_fraction == 0.0 and math.isnan(r.kl_to_uniform)


def test_toy_threshold_is_three_standard_deviations() -> None:
    centre, std = toy_centers("toy-ring")[0], toy_std("toy-ring")
    direction = torch.tensor([0.0, 1.0])  # tangent to the ring: moves away from every other mode too
    inside = centre + 2.9 * std * direction
    outside = centre + 3.1 * std * direction
    r = toy_metrics(torch.stack([inside, outside]), "toy-ring")
    assert r.high_quality_fraction == 0.5 and r.modes_captured == 1


def test_toy_true_distribution_scores_like_a_perfect_generator() -> None:
    points, _ = sample_toy("toy-grid", 2500, torch.Generator().manual_seed(0))
    r = toy_metrics(points, "toy-grid")
    assert r.modes_captured == 25
    # P(chi²₂ <= 9) = 1 - exp(-4.5) ≈ 0.989 of a 2D Gaussian lies within 3 std of its mean.
    assert r.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.012)
    assert r.kl_to_uniform < 0.02


def test_evaluate_toy_calls_sample_fn_once_with_n_and_seed() -> None:
    calls = []

    def sample_fn(n: int, seed: int) -> torch.Tensor:
        calls.append((n, seed))
        return sample_toy("toy-ring", n, torch.Generator().manual_seed(seed))[0]

    out = evaluate_toy(sample_fn, "toy-ring", n=400, seed=3)
    assert calls == [(400, 3)]
    assert out["modes_captured"] == 8 and out["protocol"]["dataset"] == "toy-ring"


# --------------------------------------------------------------------------- Parzen


def test_parzen_single_kernel_exact_values() -> None:
    samples = torch.zeros(1, 2)
    points = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    ll = parzen_log_likelihood(points, samples, sigma=1.0)
    assert ll.tolist() == pytest.approx([-math.log(2 * math.pi), -math.log(2 * math.pi) - 0.5])
    # Halving sigma: the normalizer gains log 4 in 2D.
    assert parzen_log_likelihood(points[:1], samples, 0.5).item() == pytest.approx(math.log(4 / (2 * math.pi)))


def test_parzen_on_a_known_gaussian_approaches_its_log_likelihood() -> None:
    gen = torch.Generator().manual_seed(0)
    samples, test, validation = (torch.randn(n, 2, generator=gen) for n in (3000, 1000, 500))
    sigmas = np.logspace(-2, 0.5, 15)
    r = parzen_evaluate(samples, test, validation, sigmas)
    # E log N(x; 0, I₂) = -log 2π - 1.
    assert r.mean == pytest.approx(-math.log(2 * math.pi) - 1.0, abs=0.1)
    assert 0 < r.stderr < 0.1
    assert sigmas[0] < r.sigma < sigmas[-1]


def test_evaluate_parzen_scales_images_to_unit_range() -> None:
    gen = torch.Generator().manual_seed(1)
    test_u8 = torch.randint(0, 256, (20, 1, 4, 4), generator=gen, dtype=torch.uint8)
    as_float = test_u8.double() / 127.5 - 1.0
    out = evaluate_parzen(lambda n, seed: as_float[:n], test_u8, test_u8, n_generated=20, sigmas=[0.05])
    direct = parzen_log_likelihood(test_u8.reshape(20, -1).double() / 255, as_float.reshape(20, -1) / 2 + 0.5, 0.05)
    assert out["mean"] == pytest.approx(direct.mean().item())
    assert out["sigma"] == 0.05


# --------------------------------------------------------------------------- preprocessing and weights


def test_to_uint8_quantizes_like_a_png() -> None:
    x = torch.tensor([-1.0, 1.0, 0.0, -3.0, 5.0, 10.6 / 127.5 - 1.0, 10.4 / 127.5 - 1.0])
    with pytest.warns(UserWarning, match="expects float images in"):
        assert to_uint8(x).tolist() == [0, 255, 128, 0, 255, 11, 10]  # 0 -> 127.5 rounds half up
    u = torch.arange(256, dtype=torch.uint8)
    assert to_uint8(u) is u
    assert torch.equal(to_uint8(u.float() / 127.5 - 1.0), u)  # float images of uint8 data round-trip


def test_inception_preprocess_range_shape_and_grayscale_tiling() -> None:
    gray = torch.tensor([0, 255], dtype=torch.uint8).repeat(2, 1, 4, 2)  # [2, 1, 4, 4]
    x = inception_preprocess(gray)
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    assert x.min().item() == -1.0 and x.max().item() == pytest.approx(127 / 128)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])
    constant = inception_preprocess(torch.full((1, 3, 8, 8), 200, dtype=torch.uint8))
    assert torch.allclose(constant, torch.full_like(constant, (200 - 128) / 128))


def test_inception_preprocess_rejects_bad_channel_counts() -> None:
    with pytest.raises(ValueError, match="C = 1 or 3"):
        inception_preprocess(torch.zeros(2, 4, 8, 8, dtype=torch.uint8))


def test_missing_weights_give_one_line_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inception_weights.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InceptionWeightsNotFound) as info:
        resolve_inception_weights()
    assert str(info.value) == inception_weights.NOT_FOUND_MESSAGE and "\n" not in str(info.value)
    with pytest.raises(InceptionWeightsNotFound, match="not found"):
        resolve_inception_weights("/nonexistent/inception.pt")


def test_weights_hash_is_cached_per_path_and_mtime(tmp_path) -> None:
    path = tmp_path / "w.pt"
    path.write_bytes(b"abc")
    assert inception_weights.file_sha256(path) == hashlib.sha256(b"abc").hexdigest()
    path.write_bytes(b"abcd")
    os.utime(path, ns=(1, 10**9))  # a new mtime means a new hash
    assert inception_weights.file_sha256(path) == hashlib.sha256(b"abcd").hexdigest()


# --------------------------------------------------------------------------- reference cache


def _key(n: int = 50) -> ReferenceKey:
    return ReferenceKey("fashion-mnist", "test", n, "pre-v1", "ab" * 32)


def test_reference_cache_round_trip(tmp_path) -> None:
    features = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    calls = []
    compute = lambda: calls.append(1) or features  # noqa: E731
    first = cached_reference(_key(), compute, tmp_path)
    second = cached_reference(_key(), compute, tmp_path)
    assert len(calls) == 1
    assert np.array_equal(first.features, second.features) and np.array_equal(second.features, features)
    assert np.allclose(second.stats.mu, features.mean(0)) and second.stats.sigma.shape == (8, 8)
    assert (tmp_path / _key().filename()).is_file()
    other = cached_reference(ReferenceKey("fashion-mnist", "train", 50, "pre-v1", "ab" * 32), compute, tmp_path)
    assert len(calls) == 2 and other.features.shape == (50, 8)


def test_a_second_process_waits_for_features_being_computed_instead_of_computing_them_again(tmp_path, capfd) -> None:
    # flock locks belong to open files, so a thread opening the lock file stands in for a second process.
    features = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    started, calls = threading.Event(), []

    def slow() -> np.ndarray:
        calls.append("first")
        started.set()
        time.sleep(0.5)
        return features

    first = threading.Thread(target=cached_reference, args=(_key(), slow, tmp_path))
    first.start()
    assert started.wait(10)
    second = cached_reference(_key(), lambda: calls.append("second") or features, tmp_path)
    first.join()
    assert calls == ["first"] and np.array_equal(second.features, features)
    assert "another process is computing" in capfd.readouterr().err


def test_default_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path))
    assert reference_cache.default_cache_dir() == tmp_path / "fid-stats"
    monkeypatch.delenv("GANZOO_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert reference_cache.default_cache_dir().parts[-3:] == (".cache", "ganzoo", "fid-stats")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pickled-object", "other-key"])
def test_corrupt_reference_cache_is_one_line_error_then_recomputed(tmp_path, damage: str) -> None:
    features = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    path = tmp_path / _key().filename()
    cached_reference(_key(), lambda: features, tmp_path)
    if damage == "garbage":
        path.write_bytes(b"definitely not a zip file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "pickled-object":
        with open(path, "wb") as handle:  # np.save pickles object arrays; loading must refuse
            np.savez(handle, key=np.array([{"evil": 1}], dtype=object), features=features)
    else:
        cached_reference(ReferenceKey("mnist", "test", 50, "pre-v1", "ab" * 32), lambda: features, tmp_path)
        (tmp_path / ReferenceKey("mnist", "test", 50, "pre-v1", "ab" * 32).filename()).replace(path)
    with pytest.raises(ReferenceCacheError) as info:
        load_reference(path, _key())
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    with pytest.warns(UserWarning, match="recomputing"):
        again = cached_reference(_key(), lambda: features, tmp_path)
    assert np.array_equal(again.features, features)
    assert np.array_equal(load_reference(path, _key()).features, features)  # rewritten, valid again


# --------------------------------------------------------------------------- evaluate (with a stand-in feature network)


class ProjectionFeatures:
    """Quantize like Inception input, then a fixed random projection: fast and deterministic."""

    name = "test-projection"
    weights_sha256 = "0" * 64
    preprocessing_version = "test-pre-v1"

    def __init__(self, pixels: int, dim: int = 12) -> None:
        self.matrix = torch.randn(pixels, dim, generator=torch.Generator().manual_seed(0))
        self.calls = 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return (to_uint8(images).reshape(len(images), -1).float() / 255.0) @ self.matrix


def _image_sampler(shift: float = 0.0):
    def sample_fn(n: int, seed: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return (torch.rand(n, 1, 6, 6, generator=gen) * 1.6 - 0.8 + shift).clamp(-1, 1)

    return sample_fn


def _real_images(n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(12345)
    return to_uint8(torch.rand(n, 1, 6, 6, generator=gen) * 1.6 - 0.8)


def test_evaluate_computes_every_metric_from_one_pass() -> None:
    extractor = ProjectionFeatures(36)
    real = _real_images(300)
    out = evaluate(
        _image_sampler(),
        real,
        n_generated=300,
        n_real=300,
        seed=4,
        batch_size=100,
        feature_extractor=extractor,
        is_classifier=lambda x: x.reshape(len(x), -1)[:, :4] * 10,
        kid_subsets=10,
        progress=False,
    )
    assert extractor.calls == 3 + 1  # three real batches, one generated chunk: each image featurized once
    for key in ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage", "is_mean", "is_std"):
        assert isinstance(out[key], float), key
    expected_fid = fid_from_features(extractor(real), extractor(_image_sampler()(300, 4)))
    assert out["fid"] == pytest.approx(expected_fid)
    assert out["fid"] < 1.5 and out["precision"] > 0.8 and out["recall"] > 0.8
    expected_is = inception_score_from_logits(_image_sampler()(300, 4).reshape(300, -1)[:, :4] * 10).mean
    assert out["is_mean"] == pytest.approx(expected_is)
    assert out["is_mean"] > 1.0 and out["is_mean"] <= 4.0  # between 1 and the number of classes
    protocol = out["protocol"]
    assert protocol["feature_network"] == "test-projection" and protocol["weights_sha256"] == "0" * 64
    assert (protocol["n_real"], protocol["n_generated"], protocol["seed"]) == (300, 300, 4)
    assert protocol["preprocessing_version"] == "test-pre-v1" and "bilinear" in protocol["resize"]
    assert protocol["extra"]["kid_subsets"] == 10 and protocol["extra"]["k_precision_recall"] == 3
    assert "skipped" not in out


def test_evaluate_scores_a_worse_generator_worse() -> None:
    kwargs = dict(metrics=("fid", "kid"), n_generated=200, n_real=200, kid_subsets=10, progress=False)
    real = _real_images(200)
    good = evaluate(_image_sampler(), real, feature_extractor=ProjectionFeatures(36), **kwargs)
    bad = evaluate(_image_sampler(0.5), real, feature_extractor=ProjectionFeatures(36), **kwargs)
    assert bad["fid"] > 10 * good["fid"] and bad["kid_mean"] > good["kid_mean"] + 3 * bad["kid_std"]


def test_evaluate_skips_is_without_classifier_and_rejects_unknown_metrics() -> None:
    out = evaluate(
        _image_sampler(), _real_images(20), metrics=("fid", "is"), n_generated=20, n_real=20,
        feature_extractor=ProjectionFeatures(36), progress=False,
    )
    assert "is_mean" not in out and "classifier" in out["skipped"]["is"]
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(_image_sampler(), _real_images(20), metrics=("fid", "lpips"), feature_extractor=ProjectionFeatures(36))


def test_evaluate_caches_reference_features_by_dataset_name(tmp_path) -> None:
    kwargs = dict(metrics=("fid",), n_generated=50, n_real=50, real_name="toy-images", cache_dir=tmp_path, progress=False)
    first = evaluate(_image_sampler(), _real_images(50), feature_extractor=ProjectionFeatures(36), **kwargs)
    second = evaluate(_image_sampler(), None, feature_extractor=ProjectionFeatures(36), **kwargs)
    assert first["protocol"]["extra"]["reference_cache"] == "miss"
    assert second["protocol"]["extra"]["reference_cache"] == "hit"
    assert second["fid"] == pytest.approx(first["fid"], rel=1e-6)
    with pytest.raises(ValueError, match="no cached reference"):
        evaluate(_image_sampler(), None, feature_extractor=ProjectionFeatures(36), **{**kwargs, "real_name": "other"})


def test_prepare_reference_fills_the_cache_that_evaluate_reads(tmp_path) -> None:
    features, state = prepare_reference(_real_images(50), "toy-images", n_real=50, feature_extractor=ProjectionFeatures(36),
                                        cache_dir=tmp_path, progress=False)
    again, second_state = prepare_reference(None, "toy-images", n_real=50, feature_extractor=ProjectionFeatures(36), cache_dir=tmp_path)
    assert (state, second_state) == ("miss", "hit") and np.array_equal(features.features, again.features)
    kwargs = dict(metrics=("fid",), n_generated=50, n_real=50, real_name="toy-images", cache_dir=tmp_path, progress=False)
    cached = evaluate(_image_sampler(), None, feature_extractor=ProjectionFeatures(36), **kwargs)
    fresh = evaluate(_image_sampler(), _real_images(50), feature_extractor=ProjectionFeatures(36), **{**kwargs, "cache_dir": tmp_path / "new"})
    assert cached["protocol"]["extra"]["reference_cache"] == "hit"
    assert cached["fid"] == pytest.approx(fresh["fid"], rel=1e-6)
    with pytest.raises(ValueError, match="no cached reference"):
        prepare_reference(None, "other", n_real=50, feature_extractor=ProjectionFeatures(36), cache_dir=tmp_path)


def test_generated_chunks_use_seed_first_then_derived_seeds() -> None:
    calls = []

    def sample_fn(n: int, seed: int) -> torch.Tensor:
        calls.append((n, seed))
        return _image_sampler()(n, seed)

    evaluate(sample_fn, _real_images(20), metrics=("fid",), n_generated=2 * SAMPLE_CHUNK + 7, n_real=20, seed=9,
             feature_extractor=ProjectionFeatures(36), progress=False)
    assert calls == [(SAMPLE_CHUNK, 9), (SAMPLE_CHUNK, chunk_seed(9, 1)), (7, chunk_seed(9, 2))]
    assert len({9, chunk_seed(9, 1), chunk_seed(9, 2), chunk_seed(10, 1)}) == 4


def test_real_batches_from_tensor_dataset_and_loader() -> None:
    images = _real_images(10)
    dataset = [(images[i], i) for i in range(10)]
    loader = [(images[i : i + 4], torch.zeros(4)) for i in range(0, 10, 4)]
    for source in (images, dataset, iter(loader)):  # a sequence is a dataset; batches come from iterables
        got = torch.cat(list(real_batches(source, 9, 4)))
        assert torch.equal(got, images[:9])
    with pytest.raises(ValueError, match="only 10 images"):
        list(real_batches(dataset, 11, 4))
    with pytest.raises(ValueError, match="ran out after 10"):
        list(real_batches(iter(loader), 11, 4))
