"""Conventions users expect: one rounding rule for grids and metrics, torchvision's grid layout,
caches under XDG_CACHE_HOME, sample grids in TensorBoard and with every class, ``--device auto``
for eval, sample and bench, CelebA download errors in torchvision's words, and an image folder
trained at the size and channels of its images."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torchvision.utils import make_grid

import ganzoo
from ganzoo import pixels
from ganzoo.bench import grid as bench_grid
from ganzoo.build import PluginSpec, build_dataset
from ganzoo.cli import cli
from ganzoo.data import images as image_data
from ganzoo.engine import grids
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import DataUnavailableError
from ganzoo.export import export_run
from ganzoo.loading import load_run
from ganzoo.metrics import preprocessing, reference_cache


def _round_half_up(x: float) -> int:
    """The documented rule on the exact value of a float: floor(255 (x + 1) / 2 + 1/2), clamped."""
    v = (Fraction(x) + 1) * Fraction(255, 2)
    return min(255, max(0, math.floor(v + Fraction(1, 2))))


def _halves(dtype: torch.dtype) -> torch.Tensor:
    """The float nearest to each pixel half k + 1/2, k = -1..254: all 256 boundaries of the rule."""
    return torch.tensor([(k + 0.5) / 127.5 - 1.0 for k in range(-1, 255)], dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_grids_and_metrics_round_all_256_halves_alike(dtype: torch.dtype) -> None:
    x = _halves(dtype)
    expected = [_round_half_up(float(v)) for v in x.tolist()]
    from_grids = grids.to_uint8(x).tolist()
    from_metrics = preprocessing.to_uint8(x).tolist()
    assert from_grids == from_metrics  # one rule: a PNG grid holds exactly the pixels the metrics score
    if dtype != torch.float64:  # float64 input is not exact after + 1 (documented); every smaller type is
        assert from_grids == expected
    assert grids.to_uint8 is pixels.quantize


def test_uint8_data_round_trips_and_range_is_clamped() -> None:
    u = torch.arange(256, dtype=torch.uint8)
    for dtype in (torch.float32, torch.float64):
        assert torch.equal(pixels.quantize(u.to(dtype) / 127.5 - 1.0), u)
    assert pixels.quantize(torch.tensor([-7.0, -1.0, 0.0, 1.0, 9.0])).tolist() == [0, 0, 128, 255, 255]


@pytest.mark.parametrize("n,nrow", [(16, None), (10, 4), (3, 8), (2, 1)])
@pytest.mark.parametrize("channels", [1, 3])
def test_image_grid_is_torchvision_make_grid_of_the_quantized_images(n: int, nrow: int | None, channels: int) -> None:
    x = torch.rand(n, channels, 5, 7, generator=torch.Generator().manual_seed(n)) * 2.2 - 1.1
    grid = grids.image_grid(x, nrow)
    columns = nrow or math.ceil(math.sqrt(n))
    expected = make_grid(pixels.quantize(x), nrow=columns, padding=2).permute(1, 2, 0)
    assert grid.dtype == torch.uint8 and torch.equal(grid, expected)


def test_single_image_grid_keeps_its_frame(tmp_path: Path) -> None:
    x = torch.zeros(1, 1, 4, 6)
    grid = grids.image_grid(x)
    assert grid.shape == (8, 10, 3)
    assert int(grid[0].max()) == 0 and torch.equal(grid[2:6, 2:8], torch.full((4, 6, 3), 128, dtype=torch.uint8))
    path = grids.save_samples(x, tmp_path / "one.png")
    assert torch.equal(torch.from_numpy(np.array(Image.open(path))), grid)


@pytest.mark.parametrize("classes", [1, 3, 8, 10, 26])
def test_class_grid_shows_every_class(classes: int) -> None:
    labels, nrow = grids.class_layout(classes)
    rows = labels.view(-1, nrow)
    assert set(labels.tolist()) == set(range(classes))  # no class left out
    if classes <= 8:
        assert nrow == 8 and all(len(set(r.tolist())) == 1 for r in rows)  # one class per row
    else:
        assert nrow == classes and all(torch.equal(c, torch.full_like(c, i)) for i, c in enumerate(rows.T))  # per column


# --------------------------------------------------------------------------- caches


def test_reference_cache_follows_ganzoo_cache_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "mine"))
    assert reference_cache.default_cache_dir() == tmp_path / "mine" / "fid-stats"  # GANZOO_CACHE wins
    monkeypatch.delenv("GANZOO_CACHE")
    assert reference_cache.default_cache_dir() == tmp_path / "xdg" / "ganzoo" / "fid-stats"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # the XDG spec: relative paths are ignored
    assert reference_cache.default_cache_dir() == Path.home() / ".cache" / "ganzoo" / "fid-stats"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert reference_cache.default_cache_dir() == Path.home() / ".cache" / "ganzoo" / "fid-stats"


# --------------------------------------------------------------------------- sample grids in runs

TINY_DCGAN = PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16})
TEN_CLASSES = PluginSpec("fake", {"n": 16, "image_size": 28, "channels": 1, "num_classes": 10})


def _two_steps(arch: PluginSpec = TINY_DCGAN, dataset: PluginSpec = PluginSpec("fake", {"n": 16}), **settings) -> TrainConfig:
    return TrainConfig(arch=arch, loss=PluginSpec("non-saturating"), dataset=dataset, steps=2, batch_size=4, n_critic=1,
                       sample_every=2, checkpoint_every=2, device="cpu", precision="fp32", **settings)


class _Writer:
    """A stand-in for TensorBoard's SummaryWriter that keeps what it is given."""

    def __init__(self) -> None:
        self.images: list[tuple] = []

    def add_scalar(self, *args, **kwargs) -> None:
        pass

    def add_image(self, tag, picture, step, dataformats="CHW") -> None:
        self.images.append((tag, np.asarray(picture), step, dataformats))

    def close(self) -> None:
        pass


def test_tensorboard_receives_the_sample_grid_as_an_image(tmp_path: Path) -> None:
    trainer = Trainer(_two_steps(), tmp_path / "run", progress=False)
    trainer._writer = writer = _Writer()
    result = trainer.fit()
    [(tag, picture, step, dataformats)] = writer.images
    assert (tag, step, dataformats) == ("samples", 2, "HWC")
    assert np.array_equal(picture, np.array(Image.open(result.samples)))  # exactly the PNG of that step


def test_tensorboard_event_file_holds_the_sample_grid(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # optional extra

    Trainer(_two_steps(tensorboard=True), tmp_path / "run", progress=False).fit()
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert "samples" in events.Tags()["images"]
    [image] = events.Images("samples")
    assert image.step == 2 and (image.height, image.width) == (8 * 30 + 2, 8 * 30 + 2)  # 8x8 grid of 28 px, 2 px padding


def _labels_seen(generator: torch.nn.Module) -> list[torch.Tensor]:
    """The labels every forward of ``generator`` is called with, from now on."""
    seen: list[torch.Tensor] = []
    generator.register_forward_pre_hook(lambda module, args: seen.append(args[1].cpu()))
    return seen


def test_a_ten_class_grid_shows_every_class_one_per_column(tmp_path: Path) -> None:
    cgan = PluginSpec("cgan", {"g_width": 8, "d_width": 8})
    trainer = Trainer(_two_steps(cgan, TEN_CLASSES), tmp_path / "run", progress=False)
    columns = trainer.fixed_y.view(-1, trainer.grid_nrow).T
    assert trainer.grid_nrow == 10 and all(torch.equal(c, torch.full((8,), i)) for i, c in enumerate(columns))
    ten_wide = (8 * 30 + 2, 10 * 30 + 2)  # 8 rows x 10 columns of 28 px with 2 px padding
    assert np.array(Image.open(trainer.fit().samples)).shape[:2] == ten_wide

    G = load_run(tmp_path / "run")
    seen = _labels_seen(G.generator)
    assert np.array(Image.open(G.save_sample_grid(tmp_path / "grid.png"))).shape[:2] == ten_wide
    assert torch.equal(torch.cat(seen), grids.class_layout(10)[0])
    export = export_run(tmp_path / "run", tmp_path / "export")
    assert np.array(Image.open(export / "samples.png")).shape[:2] == ten_wide


# --------------------------------------------------------------------------- --device auto


def _toy_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    ganzoo.train(PluginSpec("mlp", {"g_hidden": (16,), "d_hidden": (16,)}), "non-saturating", PluginSpec("toy-grid", {"n": 256}),
                 run, steps=2, batch_size=16, progress=False, device="cpu")
    return run


@pytest.mark.parametrize("command", ["eval", "sample"])
def test_eval_and_sample_default_to_device_auto(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0 and "[default: auto]" in result.output.split("--device", 1)[1].split("--", 1)[0]


def test_eval_and_sample_run_with_the_default_device(tmp_path: Path) -> None:
    run = _toy_run(tmp_path)
    scored = CliRunner().invoke(cli, ["eval", str(run), "--metrics", "toy", "--n-generated", "300", "--n-real", "300"])
    assert scored.exit_code == 0, scored.output
    assert "modes_captured" in scored.output
    sampled = CliRunner().invoke(cli, ["sample", str(run), "-n", "16", "--out", str(tmp_path / "s.png")])
    assert sampled.exit_code == 0, sampled.output
    assert (tmp_path / "s.png").is_file()


def test_bench_scores_on_the_training_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` is what the trainer resolves it to (here a stand-in device), not always the CPU."""
    scored_on = []

    def score(G, spec, *, device, **kwargs):
        scored_on.append((device, str(G.device)))
        return {"results": []}

    monkeypatch.setattr(bench_grid, "pick_device", lambda name: torch.device("meta" if name == "auto" else name), raising=False)
    monkeypatch.setattr(bench_grid, "score", score)
    spec = bench_grid.BenchSpec(archs=["mlp"], losses=["hinge"], datasets=["toy-ring"], seeds=[0], steps=2, evals=1, batch_size=16,
                                arch_args={"g_hidden": "16", "d_hidden": "16"}, metrics=["toy"], device="auto")
    bench_grid.run_cell(spec, bench_grid.Cell("mlp", "hinge", "toy-ring", 0), tmp_path / "cell")
    assert scored_on == [("meta", "meta")] * 2  # the EMA and the raw generator


# --------------------------------------------------------------------------- datasets


def test_celeba_download_failure_shows_torchvisions_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise RuntimeError("To download files from GDrive, 'gdown' is required.\n You can install it with 'pip install gdown'.")

    monkeypatch.setenv("GANZOO_DATA", str(tmp_path))
    monkeypatch.setattr(image_data.datasets, "CelebA", fail)
    with pytest.raises(DataUnavailableError) as info:
        image_data.CelebA()
    message = str(info.value)
    assert "'gdown' is required. You can install it with 'pip install gdown'" in message and "\n" not in message


def _image_folder(root: Path, size: tuple[int, int], modes: list[str], per_class: int = 3) -> Path:
    """One sub-folder per mode in ``modes`` (a class each), with ``per_class`` PNGs of that mode."""
    for label, mode in enumerate(modes):
        (root / f"class{label}").mkdir(parents=True)
        for i in range(per_class):
            Image.new(mode, size, 40 * i).save(root / f"class{label}" / f"{i}.png")
    return root


def test_imagefolder_reads_channels_and_size_from_its_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digits = _image_folder(tmp_path / "digits", (28, 28), ["L", "L"])
    data, args = build_dataset(PluginSpec("imagefolder", {"data_dir": str(digits)}))
    assert data.spec().shape == (1, 28, 28) and data.spec().num_classes == 2
    assert (args["image_size"], args["channels"]) == (28, 1)  # recorded: a resume or eval rebuilds without a scan
    err = capsys.readouterr().err
    assert "imagefolder: 6 images in 2 classes; chose 1 channel, 28 px from a scan of 6" in err and "image_size=" in err

    # Explicit values win (strings, as --data-arg gives them); only the rest is read from the files.
    data, _ = build_dataset(PluginSpec("imagefolder", {"data_dir": str(digits), "channels": "3"}))
    assert data.spec().shape == (3, 28, 28)
    assert "chose 28 px from" in capsys.readouterr().err
    data, _ = build_dataset(PluginSpec("imagefolder", {"data_dir": str(digits), "image_size": "32", "channels": "1"}))
    assert data.spec().shape == (1, 32, 32) and capsys.readouterr().err == ""


def test_imagefolder_snaps_to_a_supported_size_and_goes_rgb_for_any_colour(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = _image_folder(tmp_path / "photos", (50, 33), ["L", "RGB"])  # one colour class makes it RGB
    assert image_data.ImageFolder(str(photos)).spec().shape == (3, 32, 32)  # short side 33 -> 32
    assert "chose 3 channels, 32 px" in capsys.readouterr().err
    flat = tmp_path / "flat"  # no sub-folders: one class
    flat.mkdir()
    for i in range(150):
        Image.new("L", (30, 30)).save(flat / f"{i}.png")
    assert image_data.ImageFolder(str(flat)).spec().shape == (1, 28, 28)  # 30 is as near 28 as 32: the smaller wins
    assert "150 images in 1 class; chose 1 channel, 28 px from a scan of 64" in capsys.readouterr().err
