"""The shipped Fashion-MNIST classifier and the figures built on it (class histogram, conditional
accuracy, domain IS, Stacked Fashion-MNIST modes)."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from ganzoo.api import train
from ganzoo.build import PluginSpec
from ganzoo.cli import cli
from ganzoo.data.images import FashionMNIST
from ganzoo.data.stacked import StackedFashionMNIST
from ganzoo.errors import CheckpointError, ConfigError, DataUnavailableError
from ganzoo.evaluation import default_image_metrics, score
from ganzoo.metric_catalog import CLASSIFIER_FAMILIES, FAMILIES, figures
from ganzoo.metrics.class_metrics import (
    class_histogram,
    conditional_accuracy,
    evaluate_classifier,
    kl_to_uniform,
    stacked_modes,
)
from ganzoo.metrics.classifier import WEIGHTS_FILE, WEIGHTS_SHA256, FashionMNISTClassifier, load_classifier
from ganzoo.safeio import sha256_file, write_safetensors

from conftest import run_cli

RECORD = Path(__file__).parents[1] / "benchmarks" / "classifier" / "result.json"
SLICE = 2000  # the first test images: enough for the accuracy floor, classified in about a second


@pytest.fixture(scope="module")
def test_slice() -> tuple[torch.Tensor, torch.Tensor]:
    try:
        x, y = FashionMNIST(split="test", download=False).tensors()
    except DataUnavailableError as exc:  # `make test` installs it (make data)
        pytest.skip(f"Fashion-MNIST is not on this machine: {exc}")
    return x[:SLICE], y[:SLICE]


@pytest.fixture(scope="module")
def classifier() -> FashionMNISTClassifier:
    return load_classifier()


@pytest.fixture(scope="module")
def predicted(classifier, test_slice) -> torch.Tensor:
    """The classifier's labels of the test slice (uint8 input is scaled to [-1, 1] like the training data)."""
    with torch.inference_mode():
        return classifier(test_slice[0]).argmax(1)


# -- the shipped network ------------------------------------------------------------------------------
def test_shipped_weights_match_the_pinned_and_recorded_sha256() -> None:
    assert WEIGHTS_FILE.stat().st_size < 2 * 1024 * 1024
    assert sha256_file(WEIGHTS_FILE) == WEIGHTS_SHA256
    assert json.loads(RECORD.read_text())["sha256"] == WEIGHTS_SHA256


def test_classifier_is_at_least_92_percent_accurate_on_test_images(predicted, test_slice) -> None:
    assert float((predicted == test_slice[1]).float().mean()) >= 0.92
    assert json.loads(RECORD.read_text())["test_accuracy"] >= 0.92


def test_a_changed_weights_file_is_refused(tmp_path) -> None:
    copy = tmp_path / "classifier.safetensors"
    shutil.copyfile(WEIGHTS_FILE, copy)
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256.*reinstall ganzoo"):
        load_classifier(copy)


def test_a_corrupt_or_foreign_weights_file_is_a_one_line_error(tmp_path) -> None:
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(WEIGHTS_FILE.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_classifier(truncated, expected_sha256=None)
    foreign = tmp_path / "foreign.safetensors"
    write_safetensors(foreign, {"weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match="does not hold FashionMNISTClassifier weights") as info:
        load_classifier(foreign, expected_sha256=None)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_classifier(tmp_path / "missing.safetensors")


# -- the math on hand-made labels ---------------------------------------------------------------------
def test_class_histogram_counts_coverage_and_kl() -> None:
    balanced = class_histogram(torch.arange(1000) % 10, 10)
    assert balanced.counts == [100] * 10 and balanced.classes_covered == 10
    assert balanced.kl_to_uniform == pytest.approx(0.0, abs=1e-12)
    collapsed = class_histogram(torch.full((50,), 3), 10)
    assert collapsed.classes_covered == 1 and collapsed.kl_to_uniform == pytest.approx(math.log(10))
    # 5 classes of 199 each and one stray sample in a sixth: 1/1000 < 1%, so it does not count as covered.
    labels = torch.cat([torch.arange(995) % 5, torch.tensor([7]), torch.tensor([0, 1, 2, 3])])
    hist = class_histogram(labels, 10)
    assert hist.classes_covered == 5
    q = torch.tensor(hist.counts, dtype=torch.float64) / 1000
    expected = float(sum(p * math.log(p * 10) for p in q.tolist() if p > 0))
    assert hist.kl_to_uniform == pytest.approx(expected)
    assert kl_to_uniform(torch.tensor([1, 1, 0, 0])) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="classes in"):
        class_histogram(torch.tensor([10]), 10)


def test_conditional_accuracy_and_stacked_modes_on_hand_made_labels() -> None:
    assert conditional_accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 4])) == 0.75
    hit, kl = stacked_modes(torch.tensor([[1, 2, 3], [1, 2, 3], [9, 9, 9], [0, 0, 0]]))
    assert hit == 3
    assert kl == pytest.approx(0.5 * math.log(0.5 * 1000) + 2 * 0.25 * math.log(0.25 * 1000))
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        stacked_modes(torch.tensor([1, 2, 3]))


# -- the figures from fake generators -----------------------------------------------------------------
def _as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div(127.5).sub(1.0)


def _pick(pool: torch.Tensor, labels: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return pool[torch.randint(len(pool), (len(labels),), generator=g)]


def test_conditional_accuracy_is_the_classifier_accuracy_for_a_faithful_generator(predicted, test_slice) -> None:
    x, y = test_slice
    correct = predicted == y
    by_class = [(y == c).nonzero().flatten().tolist() for c in range(10)]
    chosen: list[int] = []

    def faithful(n: int, seed: int, labels: torch.Tensor) -> torch.Tensor:
        # Each request for class c gets the next unused real test image of class c.
        picks = [by_class[c].pop(0) for c in labels.tolist()]
        chosen.extend(picks)
        return _as_float(x[picks])

    def ignores_labels(n: int, seed: int, labels: torch.Tensor) -> torch.Tensor:
        return _as_float(_pick(x, labels, seed))

    args = dict(metrics=["conditional-accuracy"], n_generated=500, num_classes=10, sample_fn=lambda n, s: _as_float(x[:n]))
    faithful_score = evaluate_classifier(labeled_sample_fn=faithful, **args)["conditional_accuracy"]
    assert faithful_score == pytest.approx(float(correct[chosen].float().mean()))
    assert faithful_score >= 0.9
    blind = evaluate_classifier(labeled_sample_fn=ignores_labels, **args)
    assert 0.05 <= blind["conditional_accuracy"] <= 0.15
    assert blind["protocol"]["weights_sha256"] == WEIGHTS_SHA256
    unconditional = evaluate_classifier(**{**args, "num_classes": 0})
    assert "conditional_accuracy" not in unconditional and "unconditional" in unconditional["skipped"]["conditional-accuracy"]


def test_histogram_and_domain_is_separate_real_images_from_a_collapsed_generator(predicted, test_slice) -> None:
    x, _ = test_slice
    real = evaluate_classifier(lambda n, s: _as_float(x[:n]), metrics=["class-histogram", "domain-is"], n_generated=1000)
    assert real["classes_covered"] == 10 and real["class_kl_to_uniform"] < 0.05
    assert real["domain_is_mean"] > 7
    trousers = x[predicted == 1]  # the images the classifier itself calls trousers
    collapsed = evaluate_classifier(lambda n, s: _as_float(_pick(trousers, torch.zeros(n), s)),
                                    metrics=["class-histogram", "domain-is"], n_generated=200)
    assert collapsed["classes_covered"] == 1 and collapsed["class_kl_to_uniform"] == pytest.approx(math.log(10))
    assert collapsed["domain_is_mean"] < 1.2 < real["domain_is_mean"]  # one class: IS near its floor of 1
    assert collapsed["protocol"]["extra"]["class_counts"] == [0, 200] + [0] * 8


def test_stacked_modes_count_real_stacks_and_a_single_triple(test_slice) -> None:
    x, _ = test_slice

    def stacks(n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return _as_float(x[torch.randint(len(x), (n, 3), generator=g), 0])

    varied = evaluate_classifier(stacks, metrics=["stacked-modes"], n_generated=500)
    # 500 uniform draws over 1,000 modes hit about 393 of them (1000 * (1 - e^-0.5)).
    assert 330 <= varied["stacked_modes_hit"] <= 450 and varied["stacked_kl_to_uniform"] < 1.5
    same = evaluate_classifier(lambda n, s: _as_float(x[[0, 1, 2], 0].expand(n, 3, 28, 28)), metrics=["stacked-modes"], n_generated=100)
    assert same["stacked_modes_hit"] == 1 and same["stacked_kl_to_uniform"] == pytest.approx(math.log(1000))
    with pytest.raises(ValueError, match="stacked"):
        evaluate_classifier(lambda n, s: _as_float(x[:n]), metrics=["stacked-modes"], n_generated=10)


# -- the stacked dataset ------------------------------------------------------------------------------
def test_stacked_dataset_shape_labels_and_seed(test_slice) -> None:
    data = StackedFashionMNIST(split="test", n=64, seed=3, download=False)
    base_x, base_y = FashionMNIST(split="test", download=False).tensors()
    spec = data.spec()
    assert spec.shape == (3, 28, 28) and spec.num_classes == 1000 and len(data) == 64
    batch = data.get_batch(torch.arange(64))
    assert batch.x.shape == (64, 3, 28, 28) and -1 <= float(batch.x.min()) and float(batch.x.max()) <= 1
    base = _as_float(base_x[:, 0]).flatten(1)
    for image, label in zip(batch.x[:8], batch.y[:8]):
        digits = [int(label) // 100, int(label) // 10 % 10, int(label) % 10]
        for channel, digit in zip(image, digits):
            matches = (base == channel.flatten()).all(1).nonzero().flatten()
            assert len(matches) and digit in base_y[matches].tolist()
    again = StackedFashionMNIST(split="test", n=64, seed=3, download=False).get_batch(torch.arange(64))
    other = StackedFashionMNIST(split="test", n=64, seed=4, download=False).get_batch(torch.arange(64))
    assert torch.equal(again.x, batch.x) and not torch.equal(other.x, batch.x)
    with pytest.raises(ValueError, match="n must be positive"):
        StackedFashionMNIST(split="test", n=0, download=False)


# -- score() and the catalogue ------------------------------------------------------------------------
class _RealImagesG:
    """A stand-in generator: real test images, the requested class's when labels are given."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, num_classes: int) -> None:
        self.x, self.y, self.num_classes = x, y, num_classes

    def sample(self, n: int, seed: int = 0, labels: torch.Tensor | None = None, precision: str = "fp32") -> torch.Tensor:
        if labels is None:
            return _as_float(_pick(self.x, torch.zeros(n), seed))
        return _as_float(torch.stack([_pick(self.x[self.y == c], torch.zeros(1), seed + i)[0] for i, c in enumerate(labels.tolist())]))


def test_score_records_classifier_figures_with_their_protocol(test_slice) -> None:
    x, y = test_slice
    scored = score(_RealImagesG(x, y, 10), PluginSpec("fashion-mnist", {"download": False}),
                   metrics=["class-histogram", "conditional-accuracy", "domain-is"], n_generated=500, progress=False)
    by_metric = {r["metric"]: r for r in scored["results"]}
    assert set(by_metric) == {*figures("class-histogram"), *figures("conditional-accuracy"), *figures("domain-is")}
    assert by_metric["conditional_accuracy"]["value"] >= 0.85
    assert by_metric["classes_covered"]["value"] == 10
    protocol = by_metric["domain_is_mean"]["protocol"]
    assert protocol["weights_sha256"] == WEIGHTS_SHA256 and protocol["n_generated"] == 500 and protocol["seed"] == 0


def test_classifier_metrics_are_named_and_checked_without_sampling() -> None:
    assert set(CLASSIFIER_FAMILIES) <= set(FAMILIES)
    assert "class-histogram" in default_image_metrics("fashion-mnist", 0)
    assert "conditional-accuracy" not in default_image_metrics("fashion-mnist", 0)
    assert "conditional-accuracy" in default_image_metrics("fashion-mnist", 10)
    assert "stacked-modes" in default_image_metrics("stacked-fashion-mnist", 0)
    assert not set(CLASSIFIER_FAMILIES) & set(default_image_metrics("cifar10", 10))
    with pytest.raises(ConfigError, match="pass --dataset stacked-fashion-mnist"):
        score(object(), PluginSpec("fashion-mnist"), metrics=["stacked-modes"])
    with pytest.raises(ConfigError, match="pass --dataset fashion-mnist"):
        score(object(), PluginSpec("cifar10"), metrics=["class-histogram"])


def test_ganzoo_eval_reports_classifier_figures_and_refuses_the_wrong_dataset(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    train(PluginSpec("cgan", {"latent_dim": 8, "g_width": 4, "d_width": 4}), "non-saturating", PluginSpec("fake", {"n": 32, "image_size": 28}),
          run, steps=1, batch_size=8, progress=False)
    result = CliRunner().invoke(cli, ["eval", str(run), "--dataset", "fashion-mnist", "--device", "cpu", "--json", "--n-generated", "100",
                                      "--metrics", "class-histogram,conditional-accuracy,domain-is"])
    assert result.exit_code == 0, result.output
    figures_by_key = {r["metric"]: r for r in json.loads(result.output)["results"]}
    assert {"classes_covered", "class_kl_to_uniform", "conditional_accuracy", "domain_is_mean", "domain_is_std"} <= set(figures_by_key)
    assert figures_by_key["classes_covered"]["protocol"]["weights_sha256"] == WEIGHTS_SHA256
    code, out, err = run_cli(["eval", str(run), "--device", "cpu", "--metrics", "class-histogram"], capsys)
    assert code != 0 and "pass --dataset fashion-mnist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
