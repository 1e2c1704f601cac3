"""Every bad weights file or config is refused with one line that says what is wrong and what to do."""
from __future__ import annotations

import json
import pickle
import random
import shutil
from pathlib import Path
from typing import Callable

import pytest
import torch
from safetensors.torch import load_file, save_file

import ganzoo
from ganzoo.errors import CheckpointError, GanzooError, UnknownPluginError
from ganzoo.export import export_run
from ganzoo.safeio import sha256_file
from hub_double import tiny_run
from conftest import run_cli


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("safety")
    run = tiny_run(root / "run")
    return export_run(run, root / "export", include_discriminator=True, model_id="org/tiny")


@pytest.fixture
def folder(exported: Path, tmp_path: Path) -> Path:
    """A fresh copy of the export for a test to damage."""
    return Path(shutil.copytree(exported, tmp_path / "model"))


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def _set_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config))


def _rewrite(folder: Path, change: Callable[[dict], dict], name: str = "model.safetensors", update_sha: bool = True) -> None:
    """Save changed tensors as a valid safetensors file (recording its sha256 unless told not to)."""
    tensors = change(load_file(str(folder / name)))
    save_file(tensors, str(folder / name))
    if update_sha:
        config = _config(folder)
        entry = config["weights"] if name == "model.safetensors" else config["weights"]["discriminator"]
        entry["sha256"] = sha256_file(folder / name)
        _set_config(folder, config)


def _pickle(folder: Path) -> None:
    with open(folder / "model.safetensors", "wb") as fh:
        pickle.dump({"net.0.weight": [0.0] * 4}, fh, protocol=4)


def _torch_save(folder: Path) -> None:
    torch.save({"net.0.weight": torch.zeros(3)}, folder / "model.safetensors")


def _truncated(folder: Path) -> None:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])


def _random_bytes(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(random.Random(0).randbytes(4096))


def _empty(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(b"")


def _altered(folder: Path) -> None:  # same keys and shapes, different values, stale sha256
    _rewrite(folder, lambda t: {k: v + 1 if v.is_floating_point() else v for k, v in t.items()}, update_sha=False)


def _missing(folder: Path) -> None:
    _rewrite(folder, lambda t: {k: v for k, v in t.items() if k != "net.0.weight"})


def _unexpected(folder: Path) -> None:
    _rewrite(folder, lambda t: {**t, "net.99.weight": torch.zeros(2)})


def _wrong_shape(folder: Path) -> None:
    _rewrite(folder, lambda t: {**t, "net.0.weight": torch.zeros(3, 3)})


def _uninstalled_plugin(folder: Path) -> None:
    config = _config(folder)
    config["architecture"].update(name="stylegan-xl", distribution="ganzoo-stylegan", version="1.2.0")
    _set_config(folder, config)


def _escaping_name(folder: Path) -> None:
    config = _config(folder)
    config["weights"]["file"] = "../elsewhere.safetensors"
    _set_config(folder, config)


def _newer_format(folder: Path) -> None:
    config = _config(folder)
    config["weights"]["format_version"] = 99
    _set_config(folder, config)


def _no_sha(folder: Path) -> None:
    config = _config(folder)
    del config["weights"]["sha256"]
    _set_config(folder, config)


def _not_json(folder: Path) -> None:
    (folder / "config.json").write_text("{not json")


def _missing_file(folder: Path) -> None:
    (folder / "model.safetensors").unlink()


def _folder_in_its_place(folder: Path) -> None:
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").mkdir()


CASES = {
    "missing file": (_missing_file, ["does not exist", "re-download, re-export or re-save it"]),
    "folder in its place": (_folder_in_its_place, ["is not a regular file", "re-download"]),
    "pickle": (_pickle, ["a Python pickle", "never pickles"]),
    "torch.save zip": (_torch_save, ["zip archive", "only loads .safetensors"]),
    "truncated": (_truncated, ["corrupt or truncated", "re-download"]),
    "random bytes": (_random_bytes, ["not safetensors"]),
    "empty file": (_empty, ["too short"]),
    "sha256 mismatch": (_altered, ["sha256 recorded in config.json", "download or export it again"]),
    "missing tensor": (_missing, ["'net.0.weight' is missing"]),
    "unexpected tensor": (_unexpected, ["unexpected tensor 'net.99.weight'"]),
    "wrong shape": (_wrong_shape, ["'net.0.weight' has shape (3, 3)", "expects"]),
    "uninstalled plugin": (_uninstalled_plugin, ["'stylegan-xl'", "pip install 'ganzoo-stylegan==1.2.0'"]),
    "file name escaping the folder": (_escaping_name, ["plain *.safetensors file name"]),
    "newer export format": (_newer_format, ["pip install -U ganzoo"]),
    "no recorded sha256": (_no_sha, ["records no sha256"]),
    "config not json": (_not_json, ["not valid JSON"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_is_refused_with_one_line(folder: Path, case: str) -> None:
    damage, expected = CASES[case]
    damage(folder)
    with pytest.raises(GanzooError) as info:
        ganzoo.load(folder)
    message = str(info.value)
    assert "\n" not in message
    for text in expected:
        assert text in message, (case, message)


def test_uninstalled_plugin_is_an_unknown_plugin_error(folder: Path) -> None:
    _uninstalled_plugin(folder)
    with pytest.raises(UnknownPluginError, match="ganzoo-stylegan"):
        ganzoo.load(folder)


def test_the_intact_copy_loads(folder: Path) -> None:  # the damage above is what fails, not the copy
    G = ganzoo.load(folder)
    assert G.sample(2, seed=0).shape == (2, 1, 28, 28)


def test_bad_discriminator_file_is_refused(folder: Path) -> None:
    (folder / "discriminator.safetensors").write_bytes(pickle.dumps({"x": 1}, protocol=5))
    with pytest.raises(CheckpointError, match="a Python pickle"):
        ganzoo.load(folder, discriminator=True)
    ganzoo.load(folder)  # the generator alone does not read it


def test_discriminator_tensor_named(folder: Path) -> None:
    _rewrite(folder, lambda t: {k: v for k, v in t.items() if k != "discriminator.out.weight"}, name="discriminator.safetensors")
    with pytest.raises(CheckpointError, match="'discriminator.out.weight' is missing"):
        ganzoo.load(folder, discriminator=True)


@pytest.mark.parametrize("case", ["pickle", "wrong shape", "uninstalled plugin", "sha256 mismatch"])
def test_cli_reports_a_bad_file_in_one_line(folder: Path, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    damage, expected = CASES[case]
    damage(folder)
    code, out, err = run_cli(["sample", str(folder), "-n", "4", "--out", str(tmp_path / "grid.png")], capsys)
    assert code != 0
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected[0] in lines[0]
    assert not (tmp_path / "grid.png").exists()


def test_cli_push_refuses_a_bad_export_before_any_network(folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    _torch_save(folder)
    code, _, err = run_cli(["push", str(folder), "--repo", "org/tiny", "--endpoint", "http://127.0.0.1:9"], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "zip archive" in err and "Traceback" not in err
