"""The published toy presets (geometry, protocol, networks), `ganzoo bench --preset`, tricks as grid
variants, and reading bench results written before raw and EMA generators were both scored."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import registry
from ganzoo.bench.leaderboard import leaderboard_csv, markdown
from ganzoo.bench.presets import PRESETS, resolve
from ganzoo.bench.records import Cell, cell_results, summary_results
from ganzoo.build import PluginSpec, build_dataset
from ganzoo.data.toy import GEOMETRIES, Grid, Ring, toy_centers, toy_std
from ganzoo.errors import ConfigError
from ganzoo.metrics import evaluate_toy, toy_metrics

COMMITTED_TOY_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "toy"


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_every_toy_geometry_is_a_dataset_whose_points_sit_on_its_modes(name) -> None:
    data, _ = build_dataset(PluginSpec(name, {"n": 4000}))
    x, modes = data.tensors()
    shape = GEOMETRIES[name]
    offsets = x - toy_centers(name)[modes]
    assert offsets.std().item() == pytest.approx(shape.std, rel=0.05)
    assert data.spec().num_classes == len(toy_centers(name))
    assert registry.datasets.entry(name).summary  # listed with a one-line summary


def test_pacgan_presets_have_the_published_geometry() -> None:
    ring, grid = GEOMETRIES["toy-ring-pacgan"], GEOMETRIES["toy-grid-pacgan"]
    assert isinstance(ring, Ring) and (ring.modes, ring.radius, ring.std) == (8, 1.0, 0.01)  # variance 1e-4
    assert isinstance(grid, Grid) and (grid.side, grid.spacing, grid.std) == (5, 2.0, 0.05)  # variance 0.0025
    assert torch.allclose(toy_centers("toy-ring-pacgan").norm(dim=1), torch.ones(8))
    assert toy_centers("toy-ring-pacgan")[2].tolist() == pytest.approx([0.0, 1.0], abs=1e-6)
    assert sorted(set(toy_centers("toy-grid-pacgan")[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    data, args = build_dataset(PluginSpec("toy-ring-pacgan"))
    assert len(data) == 100_000  # PacGAN's training set size


def test_high_quality_radius_is_three_std_of_the_preset() -> None:
    centre, std = toy_centers("toy-ring-pacgan")[3], toy_std("toy-ring-pacgan")
    inside, outside = centre + torch.tensor([2.9 * std, 0.0]), centre + torch.tensor([0.0, 3.1 * std])
    r = toy_metrics(torch.stack([inside, outside]), "toy-ring-pacgan")
    assert (r.modes_captured, r.high_quality_fraction) == (1, 0.5)
    # toy-ring is this ring at twice the scale (radius and std): scaled points score the same
    scaled = toy_metrics(torch.stack([inside, outside]) * 2, "toy-ring")
    assert (scaled.modes_captured, scaled.high_quality_fraction) == (1, 0.5)


def test_toy_protocol_records_samples_rule_and_geometry() -> None:
    centres = toy_centers("toy-grid-pacgan")
    out = evaluate_toy(lambda n, seed: centres[torch.arange(n) % len(centres)], "toy-grid-pacgan", seed=3)
    assert (out["modes_captured"], out["high_quality_fraction"]) == (25, 1.0)
    protocol = out["protocol"]
    assert protocol["n_generated"] == 2500 and protocol["seed"] == 3
    assert protocol["high_quality"] == "distance to nearest mode <= 3 std"
    assert protocol["mode_captured"].startswith("at least 1 high-quality sample")
    assert "std 0.05" in protocol["geometry"] and "PacGAN" in protocol["geometry_source"]


def test_mlp_builds_the_papers_networks() -> None:
    model = ganzoo.create("mlp", data_dim=2, latent_dim=2, g_hidden=(400,) * 4, d_hidden=(200,) * 3,
                          g_batch_norm=True, d_maxout=5, init_std=0.02)
    G, D = model.generator, model.discriminator
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    hidden = [m for m in G.net if isinstance(m, torch.nn.Linear)][:-1]
    assert all(m.bias is None for m in hidden)  # batch norm's shift replaces the bias
    weights = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, torch.nn.Linear)])
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)
    first = D.body[0]
    assert first.linear.out_features == 200 * 5
    x = torch.randn(7, 2)
    assert torch.equal(D.body[0](x), first.linear(x).view(7, 200, 5).amax(2))  # a maxout unit: max over its pieces
    assert G(torch.randn(5, 2)).shape == (5, 2)
    with pytest.raises(ConfigError, match="d_maxout"):
        ganzoo.create("mlp", data_dim=2, d_maxout=1)


def test_preset_values_yield_to_flags() -> None:
    values = resolve("pacgan", {"steps": None, "seeds": [0], "arch_args": {"g_hidden": "16"}, "data_args": {}})
    assert values["seeds"] == [0] and values["steps"] == 400_000 and values["preset"] == "pacgan"
    assert values["arch_args"]["g_hidden"] == "16" and values["arch_args"]["d_maxout"] == "5"
    assert (values["lr_g"], values["lr_d"], values["betas"], values["batch_size"]) == (1e-4, 1e-4, (0.8, 0.999), 100)
    timed = resolve("pacgan", {"time_budget_s": 30.0, "steps": None})
    assert timed["steps"] is None and timed["time_budget_s"] == 30.0
    plain = resolve(None, {"archs": ["mlp"], "losses": ["hinge"], "datasets": ["toy-ring"], "time_budget_s": 5.0},
                    {"steps": 1000, "batch_size": 64})
    assert (plain["steps"], plain["batch_size"], "preset" in plain) == (None, 64, False)
    with pytest.raises(ConfigError, match="unknown --preset"):
        resolve("nope", {})
    assert "17.3" in PRESETS["pacgan"].reference and "6.3" in PRESETS["pacgan"].reference


def test_preset_bench_runs_trick_variants_with_the_papers_settings(tmp_path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    out = tmp_path / "b"
    result = CliRunner().invoke(cli, [
        "bench", "--preset", "pacgan", "--dataset", "toy-ring-pacgan", "--seeds", "1", "--steps", "2", "--evals", "1",
        "--arch-arg", "g_hidden=16,16", "--arch-arg", "d_hidden=16", "--data-arg", "n=500", "--device", "cpu",
        "--trick", "none", "--trick", "minibatch-discrimination", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["spec"]["preset"] == "pacgan" and summary["spec"]["batch_size"] == 100
    assert sorted({r["variant"] for r in summary["results"]}) == ["mlp/non-saturating", "mlp/non-saturating+minibatch-discrimination"]
    assert len(summary["results"]) == 4  # 2 variants x (ema, raw)
    config = json.loads((out / "cells" / "mlp__non-saturating+minibatch-discrimination__toy-ring-pacgan__s0" / "run" / "config.json").read_text())
    assert [t["name"] for t in config["tricks"]] == ["minibatch-discrimination"]
    args = config["architecture"]["args"]
    assert (args["latent_dim"], args["g_batch_norm"], args["d_maxout"], args["init_std"]) == (2, True, 5, 0.02)
    assert args["g_hidden"] == [16, 16]
    assert json.dumps(config).count("0.0001") >= 2 and "0.8" in json.dumps(config)  # lr_g, lr_d, beta1
    board = (out / "leaderboard.md").read_text()
    assert "preset `pacgan`" in board and "PacGAN Table 1" in board


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--loss", "hinge", "--dataset", "toy-ring"], "--arch is required"),
        (["--preset", "pacgan", "--trick", "nope"], "nope"),
        (["--preset", "pacgan", "--trick", ":m=2"], "--trick expects"),
        (["--preset", "pacgan", "--betas", "0.5"], "--betas"),
    ],
)
def test_bench_preset_and_trick_bad_input_is_one_line(tmp_path, capsys, args, expected) -> None:
    from ganzoo.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", *args, "--out", str(tmp_path / "b"), "--quiet"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_results_written_before_raw_scoring_still_read(tmp_path) -> None:
    """The committed toy bench predates the generator field: its figures are of the EMA generator."""
    summary = json.loads((COMMITTED_TOY_BENCH / "results.json").read_text())
    assert all("generator" not in r for r in summary["results"])
    assert {r["generator"] for r in summary_results(summary)} == {"ema"}
    board = markdown(summary)
    assert "| mlp/minimax | ema |" in board and "| raw |" not in board
    rows = leaderboard_csv(summary).splitlines()
    assert rows[0].startswith("dataset,variant,generator") and all(",ema," in row for row in rows[1:])
    no_ema = {**summary, "spec": {**summary["spec"], "ema": None}}
    assert {r["generator"] for r in summary_results(no_ema)} == {"raw"}
    # an old cell's result.json reads as one result, and its folder name is unchanged
    cell_dir = next((COMMITTED_TOY_BENCH / "cells").iterdir())
    old = json.loads((cell_dir / "result.json").read_text())
    (read,) = cell_results(old, summary["spec"])
    assert read["generator"] == "ema" and Cell.from_json(read["cell"]).key == cell_dir.name


def test_an_old_bench_folder_is_finished_by_the_new_bench(tmp_path) -> None:
    """Rerunning the command over a folder from before skips its finished cells and rewrites the tables."""
    from ganzoo.bench import BenchSpec, run_grid

    out = tmp_path / "bench"
    spec = BenchSpec(archs=["mlp"], losses=["hinge"], datasets=["toy-ring"], seeds=[0], steps=2, evals=1, batch_size=16,
                     arch_args={"g_hidden": "8", "d_hidden": "8"}, metrics=["toy"], device="cpu")
    run_grid(spec, out, progress=False)
    cell = out / "cells" / "mlp__hinge__toy-ring__s0"
    ema = next(r for r in json.loads((cell / "result.json").read_text())["results"] if r["generator"] == "ema")
    legacy = {k: v for k, v in ema.items() if k not in ("generator", "folder", "samples")}
    (cell / "result.json").write_text(json.dumps(legacy))  # the single-result layout of older benches
    summary = run_grid(spec, out, progress=False)
    assert [r["generator"] for r in summary["results"]] == ["ema"]
    assert math.isfinite(summary["results"][0]["final"]["modes_captured"])
    assert "| mlp/hinge | ema |" in (out / "leaderboard.md").read_text()


# --------------------------------------------------------------------------- Lucic et al. 2018


def test_lucic_networks_have_the_studys_layers() -> None:
    from ganzoo.architectures.lucic import LucicGAN

    model = LucicGAN(d_batch_norm=False)
    linear = [m for m in model.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(64, 1024), (1024, 128 * 7 * 7)]
    convs = [m for m in model.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in convs] == [(1, 64, (4, 4), (2, 2)), (64, 128, (4, 4), (2, 2))]
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.discriminator.modules())
    slopes = {m.negative_slope for m in model.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2} and not any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    z = model.generator.sample_latent(4096, generator=torch.Generator().manual_seed(0))
    assert z.shape == (4096, 64) and -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1 and abs(z.mean().item()) < 0.02
    with_bn = LucicGAN()
    assert sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in with_bn.discriminator.modules()) == 2


def test_lucic_preset_gives_each_loss_its_own_settings_and_counts_discriminator_steps() -> None:
    from ganzoo.bench.grid import BenchSpec, _segment_targets, _train_config

    spec = BenchSpec(**resolve("lucic", {"arch_args": {}, "data_args": {}}))
    assert spec.steps == 15_625 and spec.step_unit == "discriminator" and spec.ema is None and spec.generators() == ("raw",)
    assert (spec.n_generated, spec.n_real, spec.batch_size, spec.seeds) == (10_000, 10_000, 64, [0, 1, 2])
    cells = {c.loss: c for c in spec.cells()}
    assert sorted(cells) == ["dragan", "least-squares", "minimax", "non-saturating", "wasserstein", "wgan-gp"]
    data = PluginSpec("fashion-mnist")
    wgan = _train_config(spec, cells["wasserstein"], data, 10, None)
    assert (wgan.optimizer, wgan.lr_g, wgan.lr_d, wgan.betas, wgan.n_critic) == ("adam", 5e-5, 5e-5, (0.5, 0.999), 5)
    assert wgan.loss.args == {"clip": "0.01"} and wgan.arch.args == {"latent_dim": "64", "d_batch_norm": "true"}
    gp = _train_config(spec, cells["wgan-gp"], data, 10, None)
    assert gp.arch.args["d_batch_norm"] == "false" and gp.lr_d == 1e-4 and gp.loss.args == {"gp_weight": "10.0"}
    ns = _train_config(spec, cells["non-saturating"], data, 10, None)
    assert (ns.betas, ns.n_critic, ns.lr_g) == ((0.0, 0.999), 1, 5e-5)
    # 15,625 discriminator steps: all of them generator steps at n_critic 1, a fifth at 5.
    assert spec.generator_steps(cells["non-saturating"]) == 15_625 and spec.generator_steps(cells["wgan-gp"]) == 3_125
    assert _segment_targets(spec, cells["wasserstein"]) == [(3_125, None)]
    plain = BenchSpec(archs=["lucic"], losses=["wgan-gp"], datasets=["fashion-mnist"], seeds=[0], steps=100, evals=2)
    assert plain.generator_steps(plain.cells()[0]) == 100  # generator steps unless asked otherwise
    plain.step_unit = "discriminator"
    assert plain.generator_steps(plain.cells()[0]) == 20  # wgan-gp's own n_critic (5), from its paper defaults


def test_flags_win_over_a_presets_per_loss_settings() -> None:
    values = resolve("lucic", {"lr_g": 3e-4, "betas": None, "arch_args": {"d_batch_norm": "true"}, "data_args": {},
                               "losses": ["wgan-gp"], "step_unit": "generator"})
    gp = values["per_loss"]["wgan-gp"]
    assert "lr_g" not in gp and gp["lr_d"] == 1e-4 and gp["betas"] == (0.5, 0.999)
    assert gp["arch_args"] == {} and values["arch_args"]["d_batch_norm"] == "true"
    assert values["step_unit"] == "generator" and values["losses"] == ["wgan-gp"]
    assert "24.5" in PRESETS["lucic"].reference and "29.6" in PRESETS["lucic"].reference


def test_unknown_per_loss_settings_and_step_units_are_refused() -> None:
    from ganzoo.bench.grid import BenchSpec

    base = dict(archs=["lucic"], losses=["hinge"], datasets=["fashion-mnist"], seeds=[0], steps=10)
    with pytest.raises(ConfigError, match="unknown lr"):
        BenchSpec(**base, per_loss={"hinge": {"lr": 1e-4}}).validate()
    with pytest.raises(ConfigError, match="--steps-of"):
        BenchSpec(**base, step_unit="epochs").validate()


def test_lucic_preset_bench_runs_with_each_losss_budget(tmp_path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    out = tmp_path / "b"
    result = CliRunner().invoke(cli, [
        "bench", "--preset", "lucic", "--loss", "non-saturating,wgan-gp", "--seeds", "1", "--steps", "10",
        "--arch-arg", "hidden=32", "--arch-arg", "width=8", "--metrics", "class-histogram", "--n-generated", "50",
        "--n-real", "50", "--device", "cpu", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    steps = {r["cell"]["loss"]: (r["generator"], r["final"]["step"], r["budget"]["generator_steps"]) for r in summary["results"]}
    assert steps == {"non-saturating": ("raw", 10, 10), "wgan-gp": ("raw", 2, 2)}
    config = json.loads((out / "cells" / "lucic__wgan-gp__fashion-mnist__s0" / "run" / "config.json").read_text())
    assert config["architecture"]["args"]["d_batch_norm"] is False and config["resolved"]["n_critic"] == 5
    board = (out / "leaderboard.md").read_text()
    assert "10 discriminator steps" in board and "Lucic et al. 2018" in board and "keep no EMA" in board
    rows = [line.split(" | ") for line in board.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert len(rows) == 2 and all(row[-2] == "1" and "±" not in " ".join(row) for row in rows)  # one seed: no spread shown


def test_two_bench_processes_on_one_folder_share_the_grid(tmp_path) -> None:
    from ganzoo.bench.grid import CLAIM, BenchSpec, run_grid
    from ganzoo.locks import exclusive

    spec = BenchSpec(archs=["mlp"], losses=["non-saturating", "hinge"], datasets=["toy-ring"], seeds=[0], steps=2, evals=1,
                     batch_size=16, arch_args={"g_hidden": "8", "d_hidden": "8"}, metrics=["toy"], device="cpu")
    out = tmp_path / "b"
    other = out / "cells" / "mlp__hinge__toy-ring__s0"
    with exclusive(other / CLAIM, block=False) as held:  # another process is training the hinge cell
        assert held
        summary = run_grid(spec, out, progress=False)
    assert summary["running_elsewhere"] == ["mlp__hinge__toy-ring__s0"] and not (other / "result.json").exists()
    assert {r["cell"]["loss"] for r in summary["results"]} == {"non-saturating"}
    assert "Still training in another bench process" in (out / "leaderboard.md").read_text()
    finished = run_grid(spec, out, progress=False)  # the claim is released: the rerun trains it and keeps the other
    assert finished["running_elsewhere"] == [] and {r["cell"]["loss"] for r in finished["results"]} == {"non-saturating", "hinge"}


def test_finished_only_publishes_a_grid_run_in_pieces_without_training(tmp_path, capsys) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli, main

    out = tmp_path / "b"
    grid = ["bench", "--arch", "mlp", "--dataset", "toy-ring", "--steps", "2", "--evals", "1", "--batch-size", "16",
            "--arch-arg", "g_hidden=8", "--arch-arg", "d_hidden=8", "--metrics", "toy", "--device", "cpu", "--out", str(out), "--quiet"]
    with pytest.raises(SystemExit) as exit_info:  # nothing finished yet: one line, nothing written
        main([*grid, "--loss", "non-saturating", "--seeds", "1", "--finished-only"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 1 and len(err) == 1 and "no cell of this grid has finished" in err[0], err
    assert not out.exists()
    piece = CliRunner().invoke(cli, [*grid, "--loss", "non-saturating", "--seeds", "1"])  # one piece: one cell
    assert piece.exit_code == 0, piece.output
    whole = CliRunner().invoke(cli, [*grid, "--loss", "non-saturating,hinge", "--seeds", "2", "--finished-only"])
    assert whole.exit_code == 0, whole.output
    summary = json.loads((out / "results.json").read_text())
    assert {(r["cell"]["loss"], r["cell"]["seed"]) for r in summary["results"]} == {("non-saturating", 0)}
    assert summary["not_finished"] == ["mlp__non-saturating__toy-ring__s1", "mlp__hinge__toy-ring__s0", "mlp__hinge__toy-ring__s1"]
    assert sorted(p.name for p in (out / "cells").iterdir()) == ["mlp__non-saturating__toy-ring__s0"]  # nothing trained
    assert json.loads((out / "bench.json").read_text())["losses"] == ["non-saturating", "hinge"]
    assert "## Not finished yet" in (out / "leaderboard.md").read_text() and "mlp__hinge__toy-ring__s1" in whole.output
    assert "Not finished yet (3 cells" in (out / "index.html").read_text()


def test_pacgan_stacked_preset_counts_the_thousand_modes_with_two_generator_updates_per_step(tmp_path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    out = tmp_path / "b"
    result = CliRunner().invoke(cli, [
        "bench", "--preset", "pacgan-stacked", "--trick", "none", "--trick", "pack:m=2", "--batch-size", "16", "--seeds", "1", "--steps", "2",
        "--evals", "1", "--data-arg", "n=256", "--arch-arg", "g_width=8", "--arch-arg", "d_width=8", "--n-generated", "100",
        "--device", "cpu", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert {r["variant"] for r in summary["results"]} == {"dcgan/non-saturating", "dcgan/non-saturating+pack:m=2"}
    for r in summary["results"]:
        assert r["generator"] == "raw" and 1 <= r["final"]["stacked_modes_hit"] <= 100
        assert r["protocol"]["stacked_modes_hit"]["n_generated"] == 100
    config = json.loads((out / "cells" / "dcgan__non-saturating__stacked-fashion-mnist__s0" / "run" / "config.json").read_text())
    assert config["training"]["g_steps"] == 2 and config["dataset"]["args"]["n"] == 256
    assert config["architecture"]["args"]["channels"] == 3 or config["data_shape"][0] == 3
    board = (out / "leaderboard.md").read_text()
    assert "2 generator steps, 2 generator updates per step" in board and "stacked-MNIST" in board
    # the KL orders the table and is plotted along training, so the stacked runs get their curves
    kls = [float(line.split(" | ")[4].split()[0]) for line in board.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert len(kls) == 2 and kls == sorted(kls)
    assert (out / "plots" / "stacked-fashion-mnist_stacked_kl_to_uniform_vs_step.png").is_file()


def test_pacgan_stacked_preset_has_their_budget_and_protocol() -> None:
    from ganzoo.bench import BenchSpec

    spec = BenchSpec(**resolve("pacgan-stacked", {"arch_args": {}, "data_args": {}}))
    assert (spec.steps, spec.g_steps, spec.batch_size, spec.lr_g, spec.lr_d, spec.betas) == (100_000, 2, 64, 2e-4, 2e-4, (0.5, 0.999))
    assert (spec.n_generated, spec.metrics, spec.ema, spec.data_args) == (26_000, ["stacked-modes"], None, {"n": "128000"})
    assert spec.seeds == list(range(10)) and spec.generators() == ("raw",)
    # 50 epochs of 128,000 stacked samples at batch 64 is 100,000 steps
    assert 50 * int(spec.data_args["n"]) // spec.batch_size == spec.steps
    packed = BenchSpec(**resolve("pacgan-stacked", {"tricks": ["pack:m=4"], "batch_size": 256, "arch_args": {}, "data_args": {}}))
    assert [c.tricks for c in packed.cells()][:1] == ["pack:m=4"] and packed.batch_size // 4 == 64  # 64 packs, as theirs
