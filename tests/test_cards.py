"""Model cards: rendered from the shipped template, with the metrics as model-index and their protocols."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, metadata_load

from ganzoo.cards import card_info, card_license, render_card, render_card_from, summarize
from ganzoo.errors import CheckpointError, ConfigError
from ganzoo.export import export_run
from ganzoo.metric_catalog import BY_KEY
from hub_double import HUB_LICENSES, PIPELINE_TAGS, HubDouble, card_metadata, card_metadata_errors, hub, tiny_run  # noqa: F401

PROTOCOL = {
    "feature_network": "inception-2015-12-05 (pool3, 2048-d)",
    "weights_sha256": "f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4",
    "n_real": 10000,
    "n_generated": 10000,
    "real_split": "test",
    "seed": 0,
    "real_dataset": "fashion-mnist",
    "resize": "bilinear-tf-299",
    "quantization": "uint8",
    "color": "grayscale tiled to 3 channels",
    "extra": {},
}
EVAL = {
    "results": [
        {"metric": "fid", "value": 12.345, "dataset": "fake", "split": "test", "protocol": PROTOCOL},
        {"metric": "kid_mean", "value": 0.0123, "dataset": "fake", "split": "test",
         "protocol": {**PROTOCOL, "extra": {"kid_subsets": 100, "kid_subset_size": 1000}}},
    ]
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tiny_run(tmp_path_factory.mktemp("cards") / "run")
    (path / "eval.json").write_text(json.dumps(EVAL))
    return path


def test_card_model_index_parses_back_with_its_metrics(run: Path, tmp_path: Path) -> None:
    text = render_card(run, "org/tiny")
    card = ModelCard(text)
    data = card.data
    assert data.library_name == "ganzoo"
    assert {"gan", "ganzoo", "dcgan", "non-saturating", "unconditional-image-generation"} <= set(data.tags)
    assert data.pipeline_tag == "unconditional-image-generation"
    results = {r.metric_type: r for r in data.eval_results}
    assert set(results) == {"fid", "kid_mean"}
    fid = results["fid"]
    assert fid.metric_value == pytest.approx(12.345) and fid.metric_name == "FID"
    assert fid.task_type == "unconditional-image-generation" and fid.dataset_split == "test"
    assert fid.metric_args["n_real"] == 10000 and fid.metric_args["resize"] == "bilinear-tf-299"
    assert data.model_name == "org/tiny"

    path = tmp_path / "README.md"
    path.write_text(text)
    meta = metadata_load(path)
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert {m["type"]: m["value"] for m in metrics} == {"fid": 12.345, "kid_mean": 0.0123}


def test_card_body_has_usage_training_protocol_and_citations(run: Path) -> None:
    body = ModelCard(render_card(run, "org/tiny")).text
    assert 'G = ganzoo.load("org/tiny")' in body and "G.sample(16, seed=0)" in body
    for fact in ("| batch size | 8 |", "| steps (generator updates) | 2 |", "G 0.0002, D 0.0002", "(0.5, 0.999)",
                 "| images seen | 16 |", "decay 0.999", "| precision | fp32 |", "CPU", "| D steps per G step (n_critic) | 1 |"):
        assert fact in body, fact
    # each figure's protocol is written out in the text
    for fact in ("**FID = 12.345**", "feature network: inception-2015-12-05", PROTOCOL["weights_sha256"],
                 "real images: 10000", "generated images: 10000", "resize: bilinear-tf-299", "quantization: uint8",
                 "real split: test", "seed: 0", "kid subsets: 100"):
        assert fact in body, fact
    assert "arXiv:1511.06434" in body and "arXiv:1406.2661" in body  # DCGAN and the GAN loss
    assert "## Limitations" in body


def test_export_card_is_the_same_card(run: Path, tmp_path: Path) -> None:
    out = export_run(run, tmp_path / "export", model_id="org/tiny")
    readme = (out / "README.md").read_text()
    assert readme == render_card(out)  # re-rendered from exactly what was published
    assert f"| latent | {json.loads((out / 'config.json').read_text())['latent']} |" in readme
    assert "sha256" in readme and json.loads((out / "config.json").read_text())["weights"]["sha256"] in readme
    assert json.loads((out / "config.json").read_text())["evaluation"] == EVAL["results"]


def test_card_notes_are_kept_in_the_export_and_shown_in_its_card(run: Path, tmp_path: Path, capsys) -> None:
    from conftest import run_cli
    from ganzoo.export import MAX_NOTES, annotate_export

    out = export_run(run, tmp_path / "export", model_id="org/tiny", notes="**How it compares.** FID 12.3, bar 35.\n")
    readme = (out / "README.md").read_text()
    assert "## Notes\n\n**How it compares.** FID 12.3, bar 35." in readme and readme == render_card(out)
    assert json.loads((out / "config.json").read_text())["notes"] == "**How it compares.** FID 12.3, bar 35."
    weights = (out / "model.safetensors").read_bytes()
    annotate_export(out, "Retrained longer.")
    assert "Retrained longer." in (out / "README.md").read_text() and "FID 12.3" not in (out / "README.md").read_text()
    assert (out / "model.safetensors").read_bytes() == weights and render_card(out) == (out / "README.md").read_text()
    assert "## Notes" not in render_card(export_run(run, tmp_path / "plain", model_id="org/tiny"))
    with pytest.raises(ConfigError, match="keep them under"):
        annotate_export(out, "x" * (MAX_NOTES + 1))
    with pytest.raises(ConfigError, match="not an export"):
        annotate_export(run, "notes on a run")
    notes = tmp_path / "notes.md"
    notes.write_text("Fine-tuned from the zoo model.")
    code, _, err = run_cli(["export", str(run), str(tmp_path / "cli"), "--notes", str(notes)], capsys)
    assert code == 0, err
    assert "Fine-tuned from the zoo model." in (tmp_path / "cli" / "README.md").read_text()
    notes.write_bytes(b"\xff\xfe not utf-8")
    code, _, err = run_cli(["export", str(run), str(tmp_path / "cli2"), "--notes", str(notes)], capsys)
    assert code != 0 and "cannot be read as UTF-8" in err and len(err.strip().splitlines()) == 1


def test_card_without_metrics(run: Path, tmp_path: Path) -> None:
    bare = Path(shutil.copytree(run, tmp_path / "bare"))
    (bare / "eval.json").unlink()
    text = render_card(bare)
    card = ModelCard(text)
    assert card.data.eval_results is None and "model-index" not in text
    assert "No metrics were recorded" in card.text
    assert 'ganzoo.load("dcgan-fake")' in card.text  # default model id: <arch>-<dataset>


def test_conditional_model_and_uninstalled_plugin(run: Path) -> None:
    info = card_info(run)
    info["num_classes"] = 10
    info["loss"] = {"name": "hinge-x", "args": {}, "distribution": "ganzoo-hinge", "version": "0.3"}
    text = render_card_from(info, "org/cond")
    card = ModelCard(text)
    assert "conditional-image-generation" in card.data.tags
    assert card.data.pipeline_tag == "unconditional-image-generation"  # the Hub's task: it samples without labels too
    assert all(r.task_type == "conditional-image-generation" for r in card.data.eval_results)
    assert "not installed here: pip install 'ganzoo-hinge==0.3'" in card.text
    assert "`pip install ganzoo ganzoo-hinge==0.3`" in card.text  # the usage section names the extra package
    assert "labels=3" in card.text


def test_bad_eval_json_and_bad_folder(run: Path, tmp_path: Path) -> None:
    broken = Path(shutil.copytree(run, tmp_path / "broken"))
    (broken / "eval.json").write_text(json.dumps({"fid": 3}))
    with pytest.raises(CheckpointError, match="results"):
        render_card(broken)
    with pytest.raises(CheckpointError, match="neither a training run"):
        render_card(tmp_path)


def test_summary_lines(run: Path) -> None:
    text = summarize(run)
    assert text.startswith("dcgan-fake: An image generator with the dcgan architecture and the non-saturating loss, trained on fake")
    assert "FID: 12.345 (fake test; real images 10000, generated images 10000)" in text


def test_template_is_package_data() -> None:
    template = resources.files("ganzoo").joinpath("templates/modelcard.md")
    assert template.is_file() and "{{ card_data }}" in template.read_text()


def test_cli_card(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo.cli import main

    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    main(["card", str(run), "--model-id", "org/x"])
    out = capsys.readouterr().out
    assert ModelCard(out).data.eval_results[0].metric_value == pytest.approx(12.345)
    main(["card", str(run), "--out", str(tmp_path / "card.md")])
    assert "model-index" in (tmp_path / "card.md").read_text()
    main(["card", str(run), "--model-id", "org/y", "--out", str(tmp_path / "card.md")])  # a card written before is rewritten
    assert "org/y" in (tmp_path / "card.md").read_text()
    capsys.readouterr()
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n")
    with pytest.raises(SystemExit) as info:
        main(["card", str(run), "--out", str(notes)])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err == f"error: {notes} exists and is not a ganzoo model card; pass --force to replace it, or choose another --out\n"
    assert notes.read_text() == "# my notes\n"
    main(["card", str(run), "--out", str(notes), "--force"])
    assert "model-index" in notes.read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["card", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


# -- Hub metadata: spreads, licences, pipeline tag, and the Hub's validation -----------------------------
SPREADS = [
    {"metric": "kid_mean", "value": 0.0123, "dataset": "fake", "split": "test", "protocol": PROTOCOL},
    {"metric": "kid_std", "value": 0.0011, "dataset": "fake", "split": "test", "protocol": PROTOCOL},
    {"metric": "is_mean", "value": 2.5, "dataset": "fake", "split": "test", "protocol": PROTOCOL},
    {"metric": "is_std", "value": 0.25, "dataset": "fake", "split": "test", "protocol": PROTOCOL},
]


def _variant(run: Path, **changes: object) -> dict:
    info = card_info(run)
    info.update(changes)
    return info


def test_a_spread_is_published_with_its_mean(run: Path) -> None:
    card = ModelCard(render_card_from(_variant(run, evaluation=SPREADS), "org/tiny"))
    results = {r.metric_type: r for r in card.data.eval_results}
    assert set(results) == {"kid_mean", "is_mean"}  # kid_std and is_std are not metrics of their own
    assert results["kid_mean"].metric_args["std"] == pytest.approx(0.0011) and results["is_mean"].metric_args["std"] == 0.25
    assert "| KID | 0.0123 ± 0.0011 |" in card.text and "**Inception Score = 2.5 ± 0.25**" in card.text
    alone = ModelCard(render_card_from(_variant(run, evaluation=SPREADS[1:2]), "org/tiny"))
    assert alone.data.eval_results is None and "0.0011" in alone.text  # a spread without its mean: text only


@pytest.mark.parametrize("dataset, expected", [
    ("celeba", ("other", "celeba-terms", "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html")),
    ("fashion-mnist", ("mit", None, None)),
    ("fake", ("apache-2.0", None, None)),  # the plugin declares none: ganzoo's default
])
def test_license_defaults_to_the_dataset_plugins(run: Path, dataset: str, expected: tuple) -> None:
    info = _variant(run, dataset={"name": dataset, "args": {}})
    data = ModelCard(render_card_from(info, "org/tiny")).data
    assert (data.license, data.license_name, data.license_link) == expected
    assert card_license(info, "cc-by-4.0").id == "cc-by-4.0"  # --license wins
    info["weights"] = {"license": "cc-by-nc-4.0"}  # an export records the licence it was published with
    assert card_license(info).id == "cc-by-nc-4.0"


def test_cli_card_license(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ganzoo.cli import main

    main(["card", str(run), "--license", "cc-by-nc-4.0"])
    out = capsys.readouterr().out
    assert ModelCard(out).data.license == "cc-by-nc-4.0" and "`cc-by-nc-4.0`: chosen by the publisher" in out


def _cards(run: Path) -> dict[str, str]:
    """The card in each shape ganzoo publishes."""
    return {
        "unconditional with metrics": render_card(run, "org/tiny"),
        "spreads": render_card_from(_variant(run, evaluation=SPREADS), "org/tiny"),
        "conditional": render_card_from(_variant(run, num_classes=10), "org/cond"),
        "celeba": render_card_from(_variant(run, dataset={"name": "celeba", "args": {}}, evaluation=[]), "org/faces"),
        "points": render_card_from(_variant(run, data_shape=[2], dataset={"name": "toy-ring", "args": {}}), "org/ring"),
    }


def test_card_metadata_schema_fields(run: Path) -> None:
    # The fields ganzoo relies on, checked as the Hub checks them (tests/hub_double.card_metadata_errors).
    cards = _cards(run)
    for shape, text in cards.items():
        meta = card_metadata(text)  # the YAML header, as the Hub reads it
        assert card_metadata_errors(meta) == [], shape
        assert meta["library_name"] == "ganzoo" and meta["license"] in HUB_LICENSES, shape
        assert all(isinstance(t, str) for t in meta["tags"]) and {"gan", "ganzoo"} <= set(meta["tags"]), shape
        assert meta.get("pipeline_tag") in PIPELINE_TAGS | {None}, shape
        for result in (meta.get("model-index") or [{}])[0].get("results", []):
            assert result["task"]["type"] and result["dataset"]["type"] and result["dataset"]["name"], shape
            for metric in result["metrics"]:
                assert BY_KEY[metric["type"]].std_of is None and isinstance(metric["value"], (int, float)), shape
    assert ModelCard(cards["conditional"]).data.pipeline_tag == "unconditional-image-generation"
    assert "pipeline_tag" not in card_metadata(cards["points"])  # 2-D points are no Hub task
    # ... and the validator is no rubber stamp
    bad = {"license": "apache", "pipeline_tag": "conditional-image-generation", "tags": ["gan", 3],
           "model-index": [{"name": "x", "results": [{"task": {}, "dataset": {"type": "d"}, "metrics": [{"type": "fid"}]}]}]}
    assert len(card_metadata_errors(bad)) == 6
    assert card_metadata_errors({"license": "other"}) == ['"license: other" needs a "license_name"']


def test_cards_pass_the_hubs_validation(run: Path, hub: HubDouble) -> None:
    # huggingface_hub's own ModelCard.validate, against the double's /api/validate-yaml
    cards = _cards(run)
    for text in cards.values():
        ModelCard(text).validate()
    broken = ModelCard(cards["spreads"].replace("license: apache-2.0", "license: apache"))
    with pytest.raises(ValueError, match="license"):
        broken.validate()
    assert sum(1 for method, path in hub.requests if path == "/api/validate-yaml") == len(cards) + 1
