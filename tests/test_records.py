"""RunSummary and Resolved: what summary.json and config.json's "resolved" hold, read without ever
crashing on an old, renamed or hand-edited file."""
from __future__ import annotations

import json
from dataclasses import fields

from ganzoo.build import PluginSpec
from ganzoo.cards import render_card_from
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer
from ganzoo.records import Resolved, RunSummary

SUMMARY = RunSummary(step=3, wall_time_s=1.25, images_seen=48, images_per_second_last_session=38.4, hardware="CPU (1 thread)",
                     world_size=2, precision="fp32", torch_version="2.14.1", ganzoo_version="0.1.0")
RESOLVED = Resolved(optimizer="adam", lr_g=2e-4, lr_d=4e-4, betas=(0.5, 0.999), n_critic=1)


def test_round_trips_through_json() -> None:
    for record in (SUMMARY, RESOLVED):
        data = json.loads(json.dumps(record.to_json()))
        assert type(record).from_json(data) == record
    assert RESOLVED.to_json()["betas"] == [0.5, 0.999]


def test_missing_renamed_and_mistyped_keys_read_as_none() -> None:
    old = {"step": 3, "wall_time": 9.0, "hardware": 7, "world_size": True, "images_seen": "48", "extra": {"x": 1}}
    summary = RunSummary.from_json(old)
    assert summary.step == 3
    assert summary.wall_time_s is None and summary.hardware is None and summary.world_size is None and summary.images_seen is None
    assert RunSummary.from_json({"wall_time_s": 2}).wall_time_s == 2.0  # an integral float written as an int
    resolved = Resolved.from_json({"optimizer": "adam", "lr": 1e-3, "betas": [0.5], "n_critic": 1.5})
    assert resolved == Resolved(optimizer="adam")
    assert Resolved.from_json({"betas": [0.5, "x"]}).betas is None
    for junk in (None, [], "text", 3):
        assert RunSummary.from_json(junk) == RunSummary() and Resolved.from_json(junk) == Resolved()


def test_a_card_from_old_records_says_not_recorded_instead_of_crashing() -> None:
    info = {
        "architecture": {"name": "dcgan", "args": {}}, "loss": {"name": "non-saturating", "args": {}},
        "dataset": {"name": "fake", "args": {}}, "data_shape": [1, 28, 28], "latent_dim": 16,
        "training": {"steps": 3, "batch_size": 8, "ema": 0.999, "seed": 0},
        "resolved": {"learning_rate": 2e-4, "betas": "0.5,0.999"},
        "summary": {"steps": 3, "hardware": 7, "wall_time": 1.0},
    }
    text = render_card_from(info, "org/old-run")
    assert "not recorded" in text and "3 steps" in text


def test_the_trainer_writes_exactly_these_records(tmp_path) -> None:
    config = TrainConfig(arch=PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16}), loss=PluginSpec("non-saturating"),
                         dataset=PluginSpec("fake", {"n": 16, "image_size": 28}), steps=1, batch_size=8, device="cpu",
                         sample_every=100, checkpoint_every=100)
    Trainer(config, tmp_path / "run", progress=False).fit()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    assert set(summary) == {f.name for f in fields(RunSummary)}
    assert set(resolved) == {f.name for f in fields(Resolved)}
    for record in (RunSummary.from_json(summary), Resolved.from_json(resolved)):
        assert None not in vars(record).values(), record
