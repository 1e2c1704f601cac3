"""The zoo build lanes (benchmarks/zoo/lanes.py): which model each lane takes next, so that training and scoring overlap safely."""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parents[1] / "benchmarks" / "zoo"


@pytest.fixture
def lanes_module(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(ZOO))  # lanes.py imports its sibling build.py as `build`
    monkeypatch.delitem(sys.modules, "build", raising=False)
    spec = importlib.util.spec_from_file_location("ganzoo_zoo_lanes", ZOO / "lanes.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def make_lanes(module, monkeypatch: pytest.MonkeyPatch, trained: dict[str, bool], done: set[str], minutes_left: float):
    steps = {i: module.RECIPES[i].steps for i in trained}
    monkeypatch.setattr(module, "trained_to", lambda runs, i: steps[i] if trained[i] else 0)
    monkeypatch.setattr(module, "scored", lambda i: i in done)
    return module.Lanes(list(trained), Path("runs"), time.time() + minutes_left * 60, score_s=3600)


def test_one_lane_scores_a_trained_model_while_the_other_trains_the_next(lanes_module, monkeypatch) -> None:
    q = make_lanes(lanes_module, monkeypatch, {"cgan-fashion-mnist": True, "lsgan-fashion-mnist": False}, set(), 120)
    assert q._claim(want_scoring=True) == ("cgan-fashion-mnist", True)
    assert q._claim(want_scoring=False) == ("lsgan-fashion-mnist", False)
    assert q._claim(want_scoring=True) is None  # both models are busy: never two processes on one run


def test_a_lane_with_nothing_to_score_trains_and_scored_models_are_skipped(lanes_module, monkeypatch) -> None:
    q = make_lanes(lanes_module, monkeypatch, {"dcgan-fashion-mnist": True, "aae-fashion-mnist": False,
                                               "mlp-fashion-mnist": False}, {"dcgan-fashion-mnist"}, 120)
    assert q._claim(want_scoring=True) == ("aae-fashion-mnist", False)
    assert q._claim(want_scoring=True) == ("mlp-fashion-mnist", False)


def test_nothing_starts_that_cannot_finish_before_the_deadline(lanes_module, monkeypatch) -> None:
    q = make_lanes(lanes_module, monkeypatch, {"cgan-fashion-mnist": True, "lsgan-fashion-mnist": False}, set(), 30)
    assert q._claim(want_scoring=True) == ("lsgan-fashion-mnist", False)  # 30 min: too short to score, enough to train
    q = make_lanes(lanes_module, monkeypatch, {"cgan-fashion-mnist": True, "lsgan-fashion-mnist": False}, set(), 5)
    assert q._claim(want_scoring=False) is None


def test_the_scoring_lane_caches_the_real_features_first_and_the_training_lane_does_not(lanes_module, monkeypatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(lanes_module.subprocess, "call", lambda command, env: calls.append(command) or 0)
    q = make_lanes(lanes_module, monkeypatch, {}, set(), 5)  # nothing to build: each lane returns after its preparation
    q.lane("lane 1", prefers_scoring=False)
    assert calls == []
    q.lane("lane 2", prefers_scoring=True)
    (command,) = calls
    assert command[1:] == ["-m", "ganzoo.cli", "reference", "fashion-mnist", "--split", "test", "--n-real", "10000"]
    assert lanes_module.N_EVAL == 10_000  # the count build.py scores at, so its scoring hits this cache
