"""--precision auto, the layout-keeping flatten, and loss-scaled gradient penalties."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import run_cli
from ganzoo.architectures.common import flatten_maps
from ganzoo.architectures.dcgan import DCGAN
from ganzoo.architectures.mlp import MLPGAN
from ganzoo.contracts import DInput, DOut, GANModel, Loss, StepHooks
from ganzoo.engine import precision
from ganzoo.engine.precision import plan_precision
from ganzoo.losses.classic import NonSaturating
from ganzoo.losses.penalties import gradient_penalty, input_gradients

CPU = torch.device("cpu")


@pytest.fixture
def amx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "amx_bf16", "amx_tile"}))


@pytest.fixture
def no_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))


def test_auto_picks_bf16_and_channels_last_for_a_conv_net_on_an_amx_cpu(amx: None) -> None:
    plan = plan_precision("auto", None, CPU, DCGAN(), images=True, plugins=[NonSaturating()])
    assert (plan.precision, plan.channels_last) == ("bf16", True) and "AMX-BF16" in plan.reason
    assert plan.describe().startswith("bf16 mixed precision + channels_last (auto: this CPU has AMX-BF16")
    # A fully connected net gains nothing from channels_last.
    mlp = plan_precision("auto", None, CPU, MLPGAN(data_dim=784), images=True, plugins=[])
    assert (mlp.precision, mlp.channels_last) == ("bf16", False)


def test_auto_stays_fp32_without_native_bf16_for_points_and_when_a_plugin_says_so(amx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan_precision("auto", None, CPU, MLPGAN(data_dim=2), images=False, plugins=[]).precision == "fp32"

    class Fragile(Loss):
        fp32_only = "its k_t controller drifts in bf16"

    plan = plan_precision("auto", None, CPU, DCGAN(), images=True, plugins=[Fragile()])
    assert (plan.precision, plan.channels_last) == ("fp32", False) and "Fragile keeps fp32: its k_t" in plan.reason
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    plan = plan_precision("auto", None, CPU, DCGAN(), images=True, plugins=[])
    assert plan.precision == "fp32" and plan.reason == "auto: no native bf16 on this cpu"


def test_an_explicit_choice_wins(amx: None) -> None:
    assert plan_precision("fp32", None, CPU, DCGAN(), images=True, plugins=[]) == precision.PrecisionPlan("fp32", False, "as asked")
    assert plan_precision("bf16", False, CPU, DCGAN(), images=True, plugins=[]).channels_last is False
    assert plan_precision("fp32", True, CPU, DCGAN(), images=True, plugins=[]).channels_last is True
    assert StepHooks.fp32_only == "" and GANModel.fp32_only == ""


def test_train_says_what_it_chose_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_bf16: None) -> None:
    run = tmp_path / "run"
    code, out, err = run_cli(["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fake", "--steps", "1",
                              "--batch-size", "4", "--out", str(run), "--quiet", "--device", "cpu", "--precision", "auto"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "precision: fp32 (auto: no native bf16 on this cpu)"
    resolved = json.loads((run / "config.json").read_text())["resolved"]
    assert resolved["precision"] == "fp32" and resolved["precision_reason"] == "auto: no native bf16 on this cpu"
    assert json.loads((run / "config.json").read_text())["training"]["precision"] == "auto"
    code, card, _ = run_cli(["card", str(run)], capsys)
    assert code == 0 and "| precision | fp32 (auto: no native bf16 on this cpu) |" in card


def test_train_on_an_amx_cpu_runs_bf16_with_channels_last(tmp_path: Path, capsys: pytest.CaptureFixture[str], amx: None) -> None:
    run = tmp_path / "run"
    code, out, err = run_cli(["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fake", "--steps", "2",
                              "--batch-size", "4", "--out", str(run), "--quiet", "--device", "cpu", "--precision", "auto"], capsys)
    assert code == 0, err
    assert out.startswith("precision: bf16 mixed precision + channels_last (auto: this CPU has AMX-BF16)")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["precision"] == "bf16"
    code, out, err = run_cli(["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fake", "--steps", "1",
                              "--batch-size", "4", "--out", str(tmp_path / "b"), "--quiet", "--device", "cpu",
                              "--precision", "bf16", "--no-channels-last"], capsys)
    assert code == 0 and out.startswith("precision: bf16 mixed precision (as asked)"), err


def test_flatten_maps_keeps_values_and_returns_the_gradient_in_the_input_layout() -> None:
    h = torch.randn(3, 4, 5, 5).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    flat = flatten_maps(h)
    assert torch.equal(flat, h.flatten(1))  # NCHW order: the linear head's weights mean the same
    seen = []
    h.register_hook(lambda g: seen.append(g.is_contiguous(memory_format=torch.channels_last)))
    (flat * torch.randn_like(flat)).sum().backward()
    assert seen == [True]
    # Twice differentiable, as gradient penalties need.
    x = torch.randn(2, 1, 4, 4, requires_grad=True)
    w = torch.randn(16, 1)
    (g,) = torch.autograd.grad((torch.tanh(flatten_maps(x)) @ w).sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


class _TinyCritic(GANModel):
    """D(x) = 1e-5 * (1e-3 * sum(x)) in fp16: each factor is representable, but the input
    gradient (1e-8) underflows to zero in fp16 unless the output is scaled first."""

    def critic(self, inp: DInput) -> DOut:
        return DOut((inp.x.half() * 1e-3 * 1e-5).flatten(1).sum(1))


def test_penalty_gradients_survive_fp16_with_the_loss_scale() -> None:
    inp = DInput(torch.randn(4, 8))
    _, (lost,) = input_gradients(_TinyCritic(), inp)
    _, (kept,) = input_gradients(_TinyCritic(), inp, grad_scale=2.0**12)
    assert torch.count_nonzero(lost) == 0
    assert kept.dtype == torch.float32 and torch.allclose(kept, torch.full_like(kept, 1e-8), rtol=0.05)
    # The penalties take the scale from the step context.
    torch.manual_seed(0)
    a = gradient_penalty(_TinyCritic(), inp, DInput(torch.randn(4, 8)), weight=1.0, grad_scale=2.0**12)
    assert torch.isfinite(a)


def test_the_default_is_auto_and_picks_bf16_on_an_amx_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str], amx: None) -> None:
    # The default since benchmarks/precision/ showed auto costs DCGAN no FID against fp32 (2 seeds, 10k vs 10k).
    code, out, err = run_cli(["train", "--arch", "dcgan", "--loss", "non-saturating", "--dataset", "fake", "--steps", "1",
                              "--batch-size", "4", "--out", str(tmp_path / "run"), "--quiet", "--device", "cpu"], capsys)
    assert code == 0 and out.splitlines()[0] == "precision: bf16 mixed precision + channels_last (auto: this CPU has AMX-BF16)", err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["precision"] == "auto"
