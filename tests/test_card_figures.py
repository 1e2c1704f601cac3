"""The model card's pictures: chosen by capabilities, drawn as they claim, shipped with the export."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import ganzoo
from ganzoo import args as typed_args
from ganzoo import registry
from ganzoo.build import PluginSpec, build_model
from ganzoo.card_figures import (
    MAX_BYTES,
    ROWS,
    Subject,
    _test_images,
    class_grid,
    code_sweeps,
    critic_curve,
    progression,
    reconstructions,
    save_figure,
    stages,
    write_figures,
)
from ganzoo.cards import render_card, render_card_from
from ganzoo.contracts import GANModel, Generator, LatentCode
from ganzoo.errors import GanzooError
from ganzoo.export import export_run
from ganzoo.pixels import quantize
from ganzoo.testing.checks import training_data

# The pictures each built-in architecture's card gets from its generator, besides the run's.
BUILT_IN = {
    "cgan": {"classes"}, "acgan": {"classes"}, "cgan-projection": {"classes"},
    "infogan": {"code-c1", "code-c2", "code-c3"},
    "bigan": {"reconstructions"}, "aae": {"reconstructions"},
    "lapgan": {"stages"}, "rcgan": {"stages"},
    "mlp": set(), "dcgan": set(), "resnet": set(),
}
FAKE = {"n": 64, "image_size": 28, "channels": 1, "num_classes": 10}
NARROW = {"g_width": 16, "d_width": 16, "e_width": 16}
TILE = 8  # the synthetic generators' image side; grids put 2 px of padding around tiles


def _tile(picture: torch.Tensor, row: int, col: int, side: int = TILE) -> np.ndarray:
    y, x = 2 + row * (side + 2), 2 + col * (side + 2)
    return picture[y : y + side, x : x + side, 0].numpy()


def _subject_for(arch: str) -> Subject:
    """The architecture built for the conformance kit's data, narrow where it takes the usual width arguments."""
    data, spec = training_data(arch)
    accepted = typed_args.parameters(registry.architectures.get(arch))
    model, _, _, _ = build_model(PluginSpec(arch, {k: v for k, v in NARROW.items() if k in accepted}), [], spec)
    config = {"data_shape": list(spec.shape), "dataset": {"name": data.name, "args": data.args}}
    return Subject(model, config)


@pytest.mark.parametrize("arch", registry.architectures.names())
def test_every_architecture_gets_the_pictures_its_capabilities_call_for(arch: str) -> None:
    s = _subject_for(arch)
    g = s.generator
    with torch.no_grad():
        s.model.eval()
        pictures = [p for make in (class_grid, code_sweeps, reconstructions, stages) for p in make(s)]
    names = {f.name for f, _ in pictures}
    if arch in BUILT_IN:
        assert names == BUILT_IN[arch]
    if s.is_image:  # a plugin: what its capabilities promise
        z = g.sample_latent(2)
        assert ("classes" in names) == bool(g.num_classes)
        assert ("reconstructions" in names) == ("encoder" in s.model.provides)
        assert ("stages" in names) == bool(g.stages(z, g.sample_labels(2)))
    for figure, pixels in pictures:
        assert pixels.dtype == torch.uint8 and pixels.dim() == 3 and pixels.shape[2] == 3
        assert figure.file == f"figures/{figure.name}.png" and figure.caption and figure.title


@pytest.mark.parametrize("arch", registry.architectures.names())
def test_every_generator_describes_the_latent_it_draws(arch: str) -> None:
    g = _subject_for(arch).generator
    text = g.describe_latent()
    assert text.startswith(f"{g.latent_dim}-d")
    z = g.sample_latent(4096, generator=torch.Generator().manual_seed(0))
    if text == f"{g.latent_dim}-d Uniform(-1, 1)":
        assert z.abs().max() <= 1
    elif text == f"{g.latent_dim}-d standard normal":
        assert z.abs().max() > 2 and abs(float(z.std()) - 1) < 0.05


class LabelledNoise(Generator):
    """Test generator: the left half of each image shows z[0], the right half the class (or a code)."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.latent_dim, self.num_classes = 6, num_classes
        self.unused = nn.Parameter(torch.zeros(1))

    def latent_codes(self) -> tuple[LatentCode, ...]:
        # noise z1 first, a 3-way categorical c1, a continuous c2, noise z2..z3 (not swept)
        return (LatentCode("z1", "continuous", 0, 1), LatentCode("c1", "categorical", 1, 3), LatentCode("c2", "continuous", 4, 1),
                LatentCode("z2", "continuous", 5, 1))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        out = torch.zeros(len(z), 1, TILE, TILE)
        out[..., : TILE // 2] = torch.tanh(z[:, 0])[:, None, None, None]
        right = y.float() / self.num_classes if y is not None else z[:, 1:4].argmax(1) / 3 + z[:, 4] / 4
        out[..., TILE // 2 :] = right[:, None, None, None]
        return out


class Holder(GANModel):
    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.generator = generator


def test_class_grid_holds_noise_along_rows_and_class_down_columns() -> None:
    s = Subject(Holder(LabelledNoise(num_classes=4)), {"data_shape": [1, TILE, TILE]})
    ((figure, picture),) = class_grid(s)
    assert "classes 0 to 3" in figure.caption
    assert picture.shape[:2] == (ROWS * (TILE + 2) + 2, 4 * (TILE + 2) + 2)
    left = np.array([[_tile(picture, r, c)[0, 0] for c in range(4)] for r in range(ROWS)])
    right = np.array([[_tile(picture, r, c)[0, -1] for c in range(4)] for r in range(ROWS)])
    assert (left == left[:, :1]).all() and len(set(left[:, 0])) == ROWS  # one noise per row
    assert (right == right[:1, :]).all() and len(set(right[0])) == 4  # one class per column
    assert list(right[0]) == sorted(right[0])  # classes 0, 1, 2, 3 left to right


def test_code_sweeps_sweep_each_structured_code_and_nothing_else() -> None:
    s = Subject(Holder(LabelledNoise(num_classes=0)), {"data_shape": [1, TILE, TILE]})
    sweeps = {f.name: (f, p) for f, p in code_sweeps(s)}
    assert set(sweeps) == {"code-c1", "code-c2"}  # noise z1, z2 are not swept
    _, c1 = sweeps["code-c1"]
    assert c1.shape[1] == 3 * (TILE + 2) + 2  # one column per category
    shown = np.array([[_tile(c1, r, c)[0, -1] for c in range(3)] for r in range(ROWS)]).astype(int)
    noise = np.array([[_tile(c1, r, c)[0, 0] for c in range(3)] for r in range(ROWS)])
    assert (noise == noise[:, :1]).all()  # the rest of each row's latent is held fixed
    assert (np.diff(shown, axis=1) > 30).all()  # categories 0, 1, 2: the right half brightens column by column
    figure, c2 = sweeps["code-c2"]
    assert "from -1 to 1 in 9 steps" in figure.caption and c2.shape[1] == 9 * (TILE + 2) + 2
    values = np.array([_tile(c2, 0, c)[0, -1] for c in range(9)]).astype(int)
    assert (np.diff(values) > 0).all() and values[-1] - values[0] > 50  # -1 .. 1, left to right


def test_stages_of_lapgan_and_rcgan_end_with_the_sample_and_fill_one_column_each() -> None:
    for arch, first in (("lapgan", "level 1 (8 px)"), ("rcgan", "update 1")):
        s = _subject_for(arch)
        g = s.generator.eval()
        z = g.sample_latent(3, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            named = g.stages(z)
            torch.testing.assert_close(list(named.values())[-1], g(z), rtol=0, atol=1e-6)
            ((figure, picture),) = stages(s)
        assert next(iter(named)) == first and ", ".join(named) in figure.caption
        assert picture.shape[:2] == (ROWS * 34 + 2, len(named) * 34 + 2)  # 32 px tiles


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("figures") / "cell" / "run"  # laid out as a bench cell
    ganzoo.train(PluginSpec("cgan", {"g_width": 8, "d_width": 8}), "wasserstein", PluginSpec("fake", FAKE), run,
                 steps=6, batch_size=8, progress=False, sample_every=1, checkpoint_every=100, log_every=1,
                 device="cpu", precision="fp32")
    return run


def test_progression_shows_a_few_grids_first_to_last(cgan_run: Path) -> None:
    s = Subject(ganzoo.load(cgan_run, discriminator=True).model, json.loads((cgan_run / "config.json").read_text()), cgan_run)
    ((figure, picture),) = progression(s)
    assert "at steps 1, 2, 3, 5, 6 (left to right)" in figure.caption and "EMA-averaged" in figure.caption
    grid = np.asarray(Image.open(cgan_run / "samples" / "step-00000006.png").convert("RGB"))
    assert picture.shape[1] == 5 * grid.shape[1] + 4 * 6  # five panels, 6 px apart
    assert (picture[14:, -grid.shape[1]:].numpy() == grid).all()  # the last panel is the last grid, under its label


def test_progression_of_a_run_with_one_grid_is_left_out_saying_why(cgan_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "samples" / "step-00000006.png").write_bytes((cgan_run / "samples" / "step-00000006.png").read_bytes())
    s = Subject(ganzoo.load(cgan_run, discriminator=True).model, json.loads((cgan_run / "config.json").read_text()), run)
    with caplog.at_level(logging.WARNING, "ganzoo.card_figures"):
        entries = write_figures(tmp_path / "out", s)
    assert "figures/progression.png" not in {e["file"] for e in entries}
    assert "kept a sample grid at 1 step; train with a smaller --sample-every" in caplog.text


def test_critic_loss_is_plotted_next_to_fid_when_the_run_has_a_curve(cgan_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = json.loads((cgan_run / "config.json").read_text())
    s = Subject(ganzoo.load(cgan_run, discriminator=True).model, config, cgan_run)
    curve = cgan_run.parent / "curve.json"
    curve.unlink(missing_ok=True)
    assert critic_curve(s) == []  # no FID measured over training: no plot
    points = [{"step": 2, "fid": 300.0}, {"step": 6, "fid": 250.0, "protocol": {"fid": {"n_generated": 500, "n_real": 400}}}]
    curve.write_text(json.dumps({"curve": points}))
    try:
        ((figure, picture),) = critic_curve(s)
        assert "FID at 2 steps" in figure.caption and "500 generated, 400 real images" in figure.caption
        assert "every logged value" in figure.caption and picture.shape[2] == 3
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed
        with pytest.raises(GanzooError, match=r"matplotlib is not installed \(pip install 'ganzoo\[bench\]'\)"):
            critic_curve(s)
    finally:
        curve.unlink()


def test_export_ships_the_pictures_and_the_card_shows_them(cgan_run: Path, tmp_path: Path) -> None:
    (cgan_run.parent / "curve.json").write_text(json.dumps({"curve": [{"step": 3, "fid": 310.0}, {"step": 6, "fid": 290.0}]}))
    try:
        out = export_run(cgan_run, tmp_path / "export")
    finally:
        (cgan_run.parent / "curve.json").unlink()
    listed = json.loads((out / "config.json").read_text())["figures"]
    assert [e["file"] for e in listed] == ["figures/classes.png", "figures/progression.png", "figures/critic-vs-fid.png"]
    readme = (out / "README.md").read_text()
    for entry in listed:
        assert (out / entry["file"]).stat().st_size < MAX_BYTES
        assert f"![{entry['title']}]({entry['file']})" in readme and entry["caption"] in readme
    assert readme == render_card(out)  # re-rendered from config.json alone, as push does
    export_run(cgan_run, out, figures=False)  # a re-export without pictures leaves no stale ones
    assert not (out / "figures").exists() and "## Pictures" not in (out / "README.md").read_text()


def test_encoder_exports_ship_the_encoder_and_show_reconstructions(tmp_path: Path) -> None:
    run = tmp_path / "run"
    ganzoo.train(PluginSpec("bigan", {"g_width": 8, "e_width": 8, "d_width": 8, "latent_dim": 16}), "non-saturating", PluginSpec("fake", FAKE), run,
                 steps=2, batch_size=8, progress=False, sample_every=1, checkpoint_every=100, device="cpu", precision="fp32")
    out = export_run(run, tmp_path / "export")  # no --include-discriminator: the encoder ships anyway
    G = ganzoo.load(out)
    x, where = _test_images(json.loads((out / "config.json").read_text()), ROWS * ROWS // 2)
    assert where == "32 images of fake (it has no test split)"
    assert G.encode(x).shape == (32, 16)
    picture = np.asarray(Image.open(out / "figures" / "reconstructions.png"))
    expected = quantize(G.reconstruct(x[:ROWS]))[:, 0].numpy()
    shown = np.stack([picture[32 : 32 + 28, 2 + c * 30 : 2 + c * 30 + 28, 0] for c in range(ROWS)])  # the second row
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1
    originals = np.stack([picture[2 : 2 + 28, 2 + c * 30 : 2 + c * 30 + 28, 0] for c in range(ROWS)])
    assert (originals == quantize(x[:ROWS])[:, 0].numpy()).all()


def test_test_images_come_from_the_test_split_when_the_dataset_has_one() -> None:
    try:
        x, where = _test_images({"dataset": {"name": "fashion-mnist", "args": {"split": "train"}}}, 16)
    except GanzooError as exc:
        pytest.skip(f"Fashion-MNIST is not installed here: {exc}")
    assert where == "16 test images of fashion-mnist" and x.shape == (16, 1, 28, 28) and -1 <= x.min() < x.max() <= 1


def test_an_unreadable_dataset_leaves_reconstructions_out_saying_why() -> None:
    s = _subject_for("aae")
    s.config["dataset"] = {"name": "imagefolder", "args": {"data_dir": "/nonexistent/images"}}
    with pytest.raises(GanzooError, match="the imagefolder test images cannot be read here"):
        reconstructions(s)


def test_big_pictures_are_shrunk_under_the_limit(tmp_path: Path) -> None:
    noise = torch.randint(0, 256, (700, 700, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    path = save_figure(noise, tmp_path / "figures" / "noise.png")
    assert path.stat().st_size <= MAX_BYTES and Image.open(path).size == (350, 350)


def test_the_card_lists_only_well_formed_pictures() -> None:
    good = {"file": "figures/classes.png", "title": "Noise per row, class per column", "caption": "Rows hold noise."}
    bad = [{"file": "../secret.png", "title": "t", "caption": "c"}, {"file": "figures/x.png", "title": "t", "caption": "two\nlines"},
           {"file": "figures/x.svg", "title": "t", "caption": "c"}, "figures/y.png"]
    info = {"architecture": {"name": "cgan"}, "loss": {"name": "hinge"}, "dataset": {"name": "fake"}, "data_shape": [1, 28, 28],
            "figures": [good, *bad]}
    text = render_card_from(info, "org/x")
    assert "![Noise per row, class per column](figures/classes.png)" in text
    assert "secret" not in text and "figures/x." not in text and "figures/y.png" not in text


PARZEN = {"metric": "parzen_log_likelihood", "value": 231.25, "dataset": "fashion-mnist", "split": "test", "protocol": {
    "metric": "parzen-log-likelihood", "n_generated": 10000, "n_test": 10000, "n_validation": 1000,
    "validation_split": "train (images the model trained on)", "sigma_grid": [0.1, 0.129155, 1.0], "sigma": 0.129155,
    "stderr": 2.125, "scale": "images flattened to [0,1] (generated: (x+1)/2, unquantized)", "seed": 0}}


def test_the_card_shows_parzen_with_its_protocol_or_says_how_to_measure_it() -> None:
    info = {"architecture": {"name": "dcgan"}, "loss": {"name": "hinge"}, "dataset": {"name": "fashion-mnist"}, "data_shape": [1, 28, 28]}
    missing = render_card_from(info, "org/x")
    assert "Parzen log-likelihood: not measured yet (`ganzoo eval RUN_DIR --metrics parzen --save` on the training run" in missing
    assert "FID: not measured yet" in missing
    text = render_card_from({**info, "evaluation": [PARZEN]}, "org/x")
    assert "**Parzen log-likelihood = 231.25 ± 2.125 (standard error)** (fashion-mnist, test split): the mean log-likelihood" in text
    for row in ("- generated images: 10000", "- test images scored: 10000", "- validation images (bandwidth choice): 1000",
                "- validation images from: train (images the model trained on)", "- bandwidth chosen: 0.129155",
                "- bandwidths tried: (0.1, 0.129155, 1)"):
        assert row in text, row
    assert "Parzen log-likelihood: not measured yet" not in text and "FID: not measured yet" in text
