"""The zoo: `ganzoo zoo` / list_pretrained, the README table and hubconf.py generated from the cards,
retraining from a published recipe (--from), fine-tuning (--init-from) and the demo."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import demo, registry, zoo
from ganzoo.build import PluginSpec
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.errors import CheckpointError, ConfigError, UnknownPluginError
from ganzoo.export import export_run
from ganzoo.loading import load_run
from ganzoo.recipe import override, read_recipe
from ganzoo.safeio import read_safetensors
from conftest import run_cli
from hub_double import offline_cache, seed_hf_cache, tiny_run  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
FID = {"metric": "fid", "value": 123.456, "dataset": "fake", "split": "train", "protocol": {"n_generated": 500, "n_real": 1000}}


def _sync():
    spec = importlib.util.spec_from_file_location("ganzoo_zoo_sync", REPO / "benchmarks" / "zoo" / "sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tiny_run(tmp_path_factory.mktemp("zoo") / "run")
    (out / "eval.json").write_text(json.dumps({"results": [FID]}))
    return out


@pytest.fixture(scope="module")
def exports(run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two zoo folders of the tiny run: one fine-tunable (with its discriminator), one generator only."""
    root = tmp_path_factory.mktemp("model_cards")
    return {
        "tiny-d": export_run(run, root / "tiny-d", include_discriminator=True, model_id="ganzoo/tiny-d"),
        "tiny-g": export_run(run, root / "tiny-g", model_id="ganzoo/tiny-g"),
    }


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch):
    """benchmarks/zoo/build.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("ganzoo_zoo_build", REPO / "benchmarks" / "zoo" / "build.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cards(exports: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GANZOO_MODEL_CARDS", str(exports["tiny-d"].parent))
    return exports["tiny-d"].parent


def _needs_missing_plugin(folder: Path) -> None:
    """Make an export name an architecture from a package that is not installed."""
    config = json.loads((folder / "config.json").read_text())
    config["architecture"].update(name="stylegan-x", distribution="ganzoo-stylegan-x", version="1.2.0")
    (folder / "config.json").write_text(json.dumps(config))


# -- the README table and hubconf.py follow model_cards/ -------------------------------------------------
def test_readme_table_and_hubconf_match_model_cards() -> None:
    for path, text in _sync().expected(REPO).items():
        assert path.read_text() == text, f"{path.name} disagrees with model_cards/; run: python benchmarks/zoo/sync.py"


def test_zoo_results_table_is_written_from_results_json_and_names_every_card(build) -> None:
    results = json.loads((REPO / "benchmarks" / "zoo" / "results.json").read_text())
    table = (REPO / "benchmarks" / "zoo" / "results.md").read_text()
    assert table == build.results_table(results), "benchmarks/zoo/results.md is stale; build.py rewrites it with results.json"
    for folder in (REPO / "model_cards").iterdir():
        if (folder / "config.json").is_file():
            assert f"`{folder.name}`" in table, f"model_cards/{folder.name} has no row in benchmarks/zoo/results.md"


def test_recording_a_model_keeps_the_others_and_rewrites_the_table(build, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    shutil.copy(REPO / "benchmarks" / "zoo" / "results.json", results)
    before = json.loads(results.read_text())["models"]
    some = next(iter(before.values()))
    build.record_result(results, {**some, "id": "mlp-fashion-mnist", "about": "a test record"})
    after = json.loads(results.read_text())["models"]
    assert set(after) == set(before) | {"mlp-fashion-mnist"} and after["mlp-fashion-mnist"]["about"] == "a test record"
    assert "`mlp-fashion-mnist`" in (tmp_path / "results.md").read_text()
    assert (tmp_path / build.RESULTS_LOCK).is_file()  # the lock file stays, empty; git ignores it


def test_a_rerun_of_a_recipe_with_a_curve_trains_only_the_points_not_reached(build, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    recipe = build.RECIPES["wgan-fashion-mnist"]
    points = recipe.points
    assert len(points) == 5 and points[-1] == recipe.steps
    run = tmp_path / "wgan-fashion-mnist"
    run.mkdir()
    trained, scored = [], []

    def fake_train(recipe, run, budget_s, until):
        trained.append(until)
        (run / "summary.json").write_text(json.dumps({"step": until}))
        return until

    monkeypatch.setattr(build, "train", fake_train)
    monkeypatch.setattr(build, "score", lambda *a, **k: scored.append(a) or {"results": [{"metric": "fid", "value": 2.0, "protocol": {}}]})
    monkeypatch.setattr(build.ganzoo, "load", lambda *a, **k: None)
    (run / "summary.json").write_text(json.dumps({"step": points[2]}))  # stopped by a time budget after point 3
    (run / build.FID_CURVE).write_text(json.dumps({"curve": [{"step": p, "fid": 1.0} for p in points[:3]]}))
    assert build.build("wgan-fashion-mnist", recipe, tmp_path, 100.0, True, train_only=True) is None
    assert trained == points[3:] and len(scored) == 2  # the two points still missing, each scored once
    trained.clear()
    assert build.build("wgan-fashion-mnist", recipe, tmp_path, 100.0, True, train_only=True) is None
    assert trained == [] and len(scored) == 2  # a finished run: nothing to train, no point scored twice


def test_every_zoo_card_says_how_it_compares_with_its_bar(build) -> None:
    models = json.loads((REPO / "benchmarks" / "zoo" / "results.json").read_text())["models"]
    for model_id, record in models.items():
        config = json.loads((REPO / "model_cards" / model_id / "config.json").read_text())
        card = (REPO / "model_cards" / model_id / "README.md").read_text()
        expected = build.card_notes(model_id, build.RECIPES[model_id], record["figures"]["fid"], build.N_EVAL,
                                    record.get("train_wall_s"), record.get("train_hardware"))
        assert config.get("notes") == expected, f"{model_id}: card notes are stale; run: python benchmarks/zoo/build.py --notes"
        # The Notes say what the model trained on, which is the run's record, not the scoring process's threads.
        assert record["train_hardware"] == config["summary"]["hardware"] and record["train_hardware"] in expected, model_id
        assert f"FID {record['figures']['fid']:.2f}" in card and f"bar of {record['bar_fid']:g}" in card
        assert ("not met" in card) == (not record["meets_bar"]), model_id
        if not record["meets_bar"]:
            assert build.RECIPES[model_id].gap, f"{model_id} misses its bar: its recipe must say why (Recipe.gap)"


def test_hubconf_has_an_entry_per_zoo_model_and_no_other() -> None:
    spec = importlib.util.spec_from_file_location("ganzoo_hubconf_check", REPO / "hubconf.py")
    hubconf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hubconf)
    entries = {name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")
               and getattr(hubconf, name).__module__ == hubconf.__name__}
    ids = [m.id for m in zoo.shipped(REPO / "model_cards")]
    assert ids and entries == {_sync().entry_name(i) for i in ids}


def test_sync_writes_a_row_and_an_entry_per_card(exports: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(exports["tiny-d"].parent, tmp_path / "model_cards")
    for name in ("README.md", "hubconf.py"):
        shutil.copy(REPO / name, tmp_path / name)
    texts = {p.name: t for p, t in _sync().expected(tmp_path).items()}
    table = texts["README.md"].split(zoo.TABLE_START)[1].split(zoo.TABLE_END)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == ["tiny-d", "tiny-g"]
    assert "123.46 (500 vs 1,000)" in rows[0] and rows[0].endswith("| yes |") and "generator only" in rows[1]
    assert "def tiny_d(" in texts["hubconf.py"] and "def tiny_g(" in texts["hubconf.py"] and "def dcgan_fashion_mnist(" not in texts["hubconf.py"]


# -- listing ----------------------------------------------------------------------------------------------------------
def test_zoo_lists_shipped_models(cards: Path, exports: dict[str, Path], run: Path) -> None:
    models = {m.id: m for m in zoo.list_models()}
    assert set(models) == {"tiny-d", "tiny-g"}
    d, g = models["tiny-d"], models["tiny-g"]
    generator = load_run(run).generator
    assert (d.architecture, d.loss, d.dataset, d.resolution, d.weights, d.step) == ("dcgan", "non-saturating", "fake", "1x28x28", "ema", 2)
    assert (d.fid, d.fid_generated, d.fid_real, d.fid_text) == (123.456, 500, 1000, "123.46 (500 vs 1,000)")
    assert d.parameters == sum(t.numel() for t in generator.state_dict().values())
    assert d.size_bytes == (exports["tiny-d"] / "model.safetensors").stat().st_size
    assert d.discriminator and not g.discriminator
    assert d.source == "checkout model_cards/tiny-d" and d.packages == d.missing == ()
    assert ganzoo.list_pretrained() == ["tiny-d", "tiny-g"] and ganzoo.list_pretrained("*-g") == ["tiny-g"]


def test_zoo_lists_cached_models_where_load_finds_them(cards: Path, exports: dict[str, Path], offline_cache: Path) -> None:
    seed_hf_cache(offline_cache, "ganzoo/cached-tiny", exports["tiny-g"])
    seed_hf_cache(offline_cache, "ganzoo/tiny-d", exports["tiny-g"])  # shipped too: the shipped copy is listed
    models = {m.id: m for m in zoo.list_models()}
    assert models["cached-tiny"].source == "HF cache" and models["tiny-d"].source == "checkout model_cards/tiny-d"
    assert models["tiny-d"].discriminator
    G = ganzoo.load("cached-tiny")
    assert G.origin.startswith("HF cache")
    assert torch.equal(G.sample(4, seed=1), ganzoo.load(str(exports["tiny-g"])).sample(4, seed=1))


def test_a_model_from_a_missing_plugin_package_says_what_to_install(cards: Path, exports: dict[str, Path], tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(exports["tiny-g"], cards / "needs-plugin")
    try:
        _needs_missing_plugin(cards / "needs-plugin")
        entry = zoo.list_models("needs-*")[0]
        assert entry.packages == entry.missing == ("ganzoo-stylegan-x",)
        code, out, _ = run_cli(["zoo", "needs-*"], capsys)
        assert code == 0 and "needs pip install ganzoo-stylegan-x" in out
        with pytest.raises(UnknownPluginError, match=r"from ganzoo-stylegan-x, which is not installed; pip install 'ganzoo-stylegan-x==1.2.0'"):
            ganzoo.load("needs-plugin")
        # The demo shows the models it can load and says why it skipped the other.
        assert demo.main(["--out-dir", str(tmp_path / "demo"), "--n", "4"]) == 0
        captured = capsys.readouterr()
        assert "skipped needs-plugin: this model needs architecture 'stylegan-x' from ganzoo-stylegan-x" in captured.err
        assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["tiny-d.png", "tiny-g.png"]
    finally:
        shutil.rmtree(cards / "needs-plugin")


def test_the_published_began_model_without_its_plugin_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """BEGAN ships from the ganzoo-began plugin: a user without that package is told to install it."""
    card = REPO / "model_cards" / "began-fashion-mnist"
    version = json.loads((card / "config.json").read_text())["architecture"]["version"]
    for kind in (registry.architectures, registry.losses):
        monkeypatch.setattr(kind, "_discovered", {n: e for n, e in kind._entry_points().items() if n != "began"})
    with pytest.raises(UnknownPluginError, match=re.escape(f"from ganzoo-began, which is not installed; pip install 'ganzoo-began=={version}'")):
        ganzoo.load(str(card))
    assert f"pip install ganzoo ganzoo-began=={version}" in (card / "README.md").read_text()


def test_cli_zoo_table_json_and_pattern(cards: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["zoo"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["id", "architecture", "loss", "dataset"]
    assert lines[1].split()[0] == "tiny-d" and "123.46 (500 vs 1,000)" in lines[1] and "checkout model_cards/tiny-d" in lines[1]
    code, out, _ = run_cli(["zoo", "*-g", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == ["tiny-g"] and rows[0]["discriminator"] is False and rows[0]["fid_real"] == 1000
    code, out, _ = run_cli(["zoo", "nothing*"], capsys)
    assert code == 0 and out.strip() == "no pretrained models match"


def test_listing_the_zoo_imports_no_torch(cards: Path) -> None:
    code = "import sys; from ganzoo.cli import main; main(['zoo', '--json']); print('torch' in sys.modules, file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)[0]["id"] == "tiny-d" and done.stderr.strip().endswith("False")


# -- retraining from the published recipe ---------------------------------------------------------------------------
def test_from_retrains_the_published_weights(exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["train", "--from", str(exports["tiny-g"]), "--out", str(tmp_path / "again"), "--quiet"], capsys)
    assert code == 0, err
    assert f"recipe: config.json of {exports['tiny-g']}" in out and "trained dcgan/non-saturating to step 2" in out
    assert f"score it:   ganzoo eval {tmp_path / 'again'}" in out
    published = ganzoo.load(str(exports["tiny-g"]))
    assert torch.equal(ganzoo.load(str(tmp_path / "again")).sample(6, seed=3), published.sample(6, seed=3))


def test_recipe_trains_to_the_published_step_and_says_so(exports: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "longer"
    shutil.copytree(exports["tiny-g"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["training"].update(steps=50, time_budget_s=30.0)
    (folder / "config.json").write_text(json.dumps(config))
    recipe = read_recipe(folder)
    assert (recipe.config.steps, recipe.config.time_budget_s) == (2, None)
    assert [s for s, _ in recipe.notes] == ["steps", "time_budget_s"] and "its run was set to 50" in recipe.notes[0][1]


def test_given_options_override_the_recipe(exports: dict[str, Path]) -> None:
    recipe = read_recipe(exports["tiny-g"]).config
    assert (recipe.arch.args["g_width"], recipe.arch.args["image_size"], recipe.batch_size) == (8, 28, 8)
    mine = override(recipe, arch_args={"g_width": 4}, settings={"steps": 7, "lr_g": 0.001})
    assert mine.arch == PluginSpec("dcgan", {**recipe.arch.args, "g_width": 4})
    assert (mine.steps, mine.lr_g, mine.batch_size, mine.loss.name) == (7, 0.001, 8, "non-saturating")
    other_data = override(recipe, data_args={"image_size": 16})
    assert "image_size" not in other_data.arch.args and other_data.dataset.args == {**recipe.dataset.args, "image_size": 16}
    other_arch = override(recipe, arch="mlp", tricks=[PluginSpec("spectral-norm")])
    assert other_arch.arch == PluginSpec("mlp", {}) and [t.name for t in other_arch.tricks] == ["spectral-norm"]
    assert recipe.arch.args["g_width"] == 8 and recipe.steps == 2  # the recipe itself is left as it is


def test_train_without_a_model_or_a_source_says_what_is_needed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", "--loss", "hinge", "--out", str(tmp_path / "x")], capsys)
    assert code == 1 and "--arch and --loss are required, unless --from or --init-from" in err


# -- fine-tuning ---------------------------------------------------------------------------------------------------------
def _config(**changes) -> TrainConfig:
    config = read_recipe(Path(changes.pop("source"))).config
    return override(config, settings={"steps": 1, **changes})


def test_init_from_starts_both_players_from_the_raw_weights(exports: dict[str, Path], tmp_path: Path) -> None:
    trainer = Trainer(_config(source=exports["tiny-d"]), tmp_path / "ft", progress=False, init_from=str(exports["tiny-d"]))
    published, _ = read_safetensors(exports["tiny-d"] / "discriminator.safetensors")
    mine = trainer.model.state_dict()
    assert mine.keys() == published.keys() and all(torch.equal(mine[k], published[k]) for k in published)
    assert trainer.step == 0 and trainer.init_record["generator"] == trainer.init_record["discriminator"] == "raw"
    trainer.fit()
    saved = json.loads((tmp_path / "ft" / "config.json").read_text())["init_from"]
    assert saved["source"] == str(exports["tiny-d"]) and saved["step"] == 2 and saved["model_id"] == "ganzoo/tiny-d"


def test_cli_init_from_a_zoo_id_then_resume(cards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "mine"
    code, out, err = run_cli(["train", "--init-from", "tiny-d", "--steps", "1", "--out", str(out_dir), "--quiet"], capsys)
    assert code == 0, err
    assert "init: generator and discriminator from the raw weights of tiny-d (step 2;" in out
    code, out, err = run_cli(["train", "--init-from", "tiny-d", "--steps", "2", "--out", str(out_dir), "--quiet", "--resume"], capsys)
    assert code == 0 and "init:" not in out and "to step 2" in out, err
    assert json.loads((out_dir / "config.json").read_text())["init_from"]["source"] == "tiny-d"


def test_init_from_needs_the_discriminator(cards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", "--init-from", "tiny-g", "--out", str(tmp_path / "x"), "--quiet"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "has no discriminator weights, which --init-from tiny-g needs to continue training" in err
    assert "--include-discriminator" in err and not (tmp_path / "x").exists()


def test_init_from_refuses_other_networks_and_data(exports: dict[str, Path], tmp_path: Path) -> None:
    source = str(exports["tiny-d"])
    recipe = _config(source=source)
    with pytest.raises(ConfigError, match="is a dcgan model, this run builds dcgan \\+ spectral-norm; drop --arch/--trick"):
        Trainer(override(recipe, tricks=[PluginSpec("spectral-norm")]), tmp_path / "a", init_from=source)
    with pytest.raises(ConfigError, match="has shape .*drop the --arch-arg/--trick options"):
        Trainer(override(recipe, arch_args={"g_width": 4}), tmp_path / "b", init_from=source)
    with pytest.raises(ConfigError, match=r"shape \(1, 28, 28\) but this dataset's samples are \(1, 16, 16\); pass --data-arg image_size=28"):
        Trainer(override(recipe, data_args={"image_size": 16}), tmp_path / "c", init_from=source)


def test_recipe_of_a_damaged_config_is_one_line(exports: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(exports["tiny-g"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["training"]["steps"] = -3
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="does not hold a valid training recipe \\(steps must be positive"):
        read_recipe(folder)


# -- the demo ------------------------------------------------------------------------------------------------------------
def test_demo_writes_a_grid_per_zoo_model_without_network(cards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out-dir", str(tmp_path), "--n", "4", "--max", "1"]) == 0
    out = capsys.readouterr().out
    assert "loaded tiny-d from model_cards" in out and "fid" in out.lower()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny-d.png"]
    assert demo.main(["--out-dir", str(tmp_path), "--models", "nothing*"]) == 1


@pytest.mark.parametrize(("args", "expected"), [
    (["--max", "0"], "error: argument --max: must be at least 1, got 0; see python -m ganzoo.demo --help"),
    (["--n", "x"], "error: argument --n: 'x' is not a whole number; see python -m ganzoo.demo --help"),
    (["--bogus"], "error: unrecognized arguments: --bogus; see python -m ganzoo.demo --help"),
])
def test_demo_bad_arguments_are_one_line(args: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        demo.main(args)
    assert stopped.value.code == 2
    assert capsys.readouterr().err == expected + "\n"


def test_demo_into_a_folder_it_cannot_write_is_one_line(cards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("kept")
    assert demo.main(["--out-dir", str(taken), "--n", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write tiny-d's grid into ") and err.count("\n") == 1 and "another --out-dir" in err
    assert taken.read_text() == "kept"
