"""A model folder's config.json is untrusted: its sizes are checked against the weights before anything
is allocated, its names must be package names and are printed escaped, a plugin from another
distribution is reported, and a run's `latest` pointer cannot lead outside the run (issue 11)."""
from __future__ import annotations

import json
import logging
import re
import resource
import shutil
import time
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import registry
from ganzoo.build import PluginSpec, build_dataset, build_model, check_compatible
from ganzoo.engine import checkpoint
from ganzoo.errors import CheckpointError, GanzooError, IncompatibleError, UnknownPluginError
from ganzoo.export import export_run
from hub_double import tiny_run
from conftest import run_cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("untrusted")
    run = tiny_run(root / "run")
    return run, export_run(run, root / "export", include_discriminator=True, model_id="org/tiny")


@pytest.fixture
def folder(saved: tuple[Path, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved[1], tmp_path / "model"))


def _edit(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("width", [3500, 1_000_000_000])
def test_sizes_are_checked_against_the_weights_before_allocating(folder: Path, width: int) -> None:
    _edit(folder, lambda c: c["architecture"]["args"].update(g_width=width))
    before, started = _peak_rss_mb(), time.perf_counter()
    with pytest.raises(GanzooError) as err:
        ganzoo.load(folder)
    # 3500 builds on the meta device and its shapes are refused; 1e9 is refused by torch's size arithmetic
    assert re.search(r"has shape .*the model expects|overflowed", str(err.value)) and "\n" not in str(err.value), str(err.value)
    assert _peak_rss_mb() - before < 500, "the model was allocated before its shapes were checked"
    assert time.perf_counter() - started < 20


def test_a_size_no_layer_can_have_is_one_line(folder: Path) -> None:
    _edit(folder, lambda c: c["architecture"]["args"].update(g_width=10**30))
    with pytest.raises(GanzooError) as err:
        ganzoo.load(folder)
    assert "\n" not in str(err.value) and "dcgan" in str(err.value)


def test_every_architecture_builds_on_the_meta_device() -> None:
    """Loading builds the model on the meta device first: every built-in architecture must allow it."""
    images = PluginSpec("fake", {"n": 16, "image_size": 32, "channels": 1, "num_classes": 10})
    for name in registry.architectures.names():
        for data_spec in (images, PluginSpec("toy-ring")):
            data, _ = build_dataset(data_spec)
            try:
                check_compatible(name, None, [], data.spec(), data_spec.name)
            except IncompatibleError:
                continue
            real, args, _, _ = build_model(PluginSpec(name), [], data.spec())
            with torch.device("meta"):  # as loading does: from the resolved arguments config.json records
                meta, *_ = build_model(PluginSpec(name, args), [], None)
            assert {k: v.shape for k, v in meta.state_dict().items()} == {k: v.shape for k, v in real.state_dict().items()}, name
            break


INJECTION = "x'; touch /tmp/ganzoo-pwned; echo '"
FORGED = "dcgan\n\x1b[31merror: everything is fine\x1b[0m"


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda c: c["architecture"].update(name="gone", distribution=INJECTION, version="1.0"), "not a valid package name"),
        (lambda c: c["architecture"].update(name="gone", distribution="ganzoo-x", version="1; rm -rf ~"), "not a valid version"),
        (lambda c: c["architecture"].update(name=FORGED), "not a valid plugin name"),
        (lambda c: c["architecture"].update(distribution=FORGED), "not a valid package name"),
        (lambda c: c.update(architecture="dcgan"), "no 'architecture' object"),
        (lambda c: c.update(tricks="spectral-norm"), "'tricks' must be a list of objects"),
        (lambda c: c["architecture"].update(args=[1, 2]), "must be an object"),
    ],
)
def test_untrusted_names_are_refused_and_printed_escaped(folder: Path, change, expected: str, capsys, tmp_path: Path) -> None:
    _edit(folder, change)
    with pytest.raises(CheckpointError) as err:
        ganzoo.load(folder)
    message = str(err.value)
    assert expected in message and "pip install" not in message
    assert "\n" not in message and "\x1b" not in message
    code, _, stderr = run_cli(["sample", str(folder), "-n", "1", "--out", str(tmp_path / "g.png")], capsys)
    assert code == 1 and len(stderr.strip().splitlines()) == 1 and "\x1b" not in stderr


def test_the_pip_hint_names_a_valid_package(folder: Path) -> None:
    _edit(folder, lambda c: c["architecture"].update(name="stylegan-xl", distribution="ganzoo-stylegan", version="1.2.0"))
    with pytest.raises(UnknownPluginError, match=r"pip install 'ganzoo-stylegan==1\.2\.0'"):
        ganzoo.load(folder)


def test_a_plugin_from_another_distribution_is_reported(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    _edit(folder, lambda c: c["architecture"].update(distribution="ganzoo-evil", version="9.9"))
    with caplog.at_level(logging.WARNING):
        G = ganzoo.load(folder)
    assert G.sample(1, seed=0).shape == (1, 1, 28, 28)
    assert "saved from ganzoo-evil 9.9" in caplog.text and "here it comes from ganzoo" in caplog.text
    caplog.clear()
    _edit(folder, lambda c: c["architecture"].update(distribution="ganzoo", version="0.0.1"))
    with caplog.at_level(logging.WARNING):
        ganzoo.load(folder)
    assert "was saved with ganzoo 0.0.1" in caplog.text


def test_a_latest_pointer_outside_the_run_is_refused(saved: tuple[Path, Path], tmp_path: Path, caplog) -> None:
    run = Path(shutil.copytree(saved[0], tmp_path / "runs" / "mine"))
    other = Path(shutil.copytree(saved[0], tmp_path / "runs" / "other"))
    (run / "checkpoints" / "latest").write_text("../../other/checkpoints/step-00000002\n")
    with caplog.at_level(logging.WARNING):
        G = ganzoo.load(run)
    assert "not a checkpoint folder of this run" in caplog.text and str(run) in G.origin
    shutil.rmtree(run / "checkpoints" / "step-00000002")
    with pytest.raises(CheckpointError, match="no checkpoint yet"):
        ganzoo.load(run)
    assert checkpoint.latest(other).parent == other / "checkpoints"
