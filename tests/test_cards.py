"""Model cards: rendered from the shipped template, with the metrics as model-index and their protocols."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, metadata_load

from ganzoo.cards import card_info, render_card, render_card_from, summarize
from ganzoo.errors import CheckpointError
from ganzoo.export import export_run
from hub_double import tiny_run

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
    assert "sha256" in readme and json.loads((out / "config.json").read_text())["weights"]["sha256"] in readme
    assert json.loads((out / "config.json").read_text())["evaluation"] == EVAL["results"]


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
    assert "conditional-image-generation" in card.data.tags and card.data.pipeline_tag is None
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
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["card", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
