"""Training on a CUDA GPU: mixed precision, channels_last, torch.compile and two-process NCCL.

Every test is marked ``gpu`` and skipped where no CUDA device is present, so the default suite
(CPU) only reports them as skipped. On a GPU machine: ``pytest -m gpu tests/test_gpu.py``
(benchmarks/gpu/run.py runs exactly that). These tests also run where ganzoo is not installed
(``PYTHONPATH=.``, as on the lent device machine): the plugins they use are then registered from
their classes, since the entry points that normally name them do not exist.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from ganzoo import registry
from ganzoo.build import PluginSpec
from ganzoo.engine.config import TrainConfig
from ganzoo.engine.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

# Registered from their classes when no entry point names them (ganzoo not installed).
PLUGINS = (
    ("architectures", "dcgan", "ganzoo.architectures.dcgan", "DCGAN"),
    ("losses", "non-saturating", "ganzoo.losses.classic", "NonSaturating"),
    ("datasets", "fake", "ganzoo.data.fake", "FakeData"),
)
ENSURE_PLUGINS = textwrap.dedent(
    """
    import importlib
    from ganzoo import registry
    for kind, name, module, attr in %r:
        if name not in registry.REGISTRIES[kind]:
            registry.REGISTRIES[kind].register(getattr(importlib.import_module(module), attr), name=name)
    """
) % (PLUGINS,)


def ensure_plugins() -> None:
    for kind, name, module, attr in PLUGINS:
        reg = registry.REGISTRIES[kind]
        if name not in reg:
            reg.register(getattr(importlib.import_module(module), attr), name=name)


def config(**overrides) -> TrainConfig:
    ensure_plugins()
    values = dict(arch=PluginSpec("dcgan", {"g_width": 16, "d_width": 16, "latent_dim": 32}), loss=PluginSpec("non-saturating"),
                  dataset=PluginSpec("fake", {"n": 256, "image_size": 32, "channels": 3}), steps=4, batch_size=32,
                  sample_every=1000, checkpoint_every=1000, log_every=1, seed=3, device="cuda")
    values.update(overrides)
    return TrainConfig(**values)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> list[str]:
    after = module.state_dict()
    return [k for k, v in before.items() if not torch.equal(v, after[k])]


def train_and_check(tmp_path: Path, **overrides) -> Trainer:
    """Fit a few steps; every logged loss finite, every weight finite, G and D both updated."""
    trainer = Trainer(config(**overrides), tmp_path / "run", progress=False)
    g0, d0 = snapshot(trainer.model.generator), snapshot(trainer.model.discriminator)
    result = trainer.fit()
    assert result.step == trainer.config.steps
    assert result.last_losses and all(math.isfinite(v) for v in result.last_losses.values()), result.last_losses
    for p in trainer.model.parameters():
        assert p.device.type == "cuda" and torch.isfinite(p).all()
    g_weights = [k for k in g0 if "running" not in k and "num_batches" not in k]
    d_weights = [k for k in d0 if "running" not in k and "num_batches" not in k]
    assert set(g_weights) & set(changed(g0, trainer.model.generator)), "generator weights did not change"
    assert set(d_weights) & set(changed(d0, trainer.model.discriminator)), "discriminator weights did not change"
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == trainer.config.steps and json.loads(lines[-1])["images_per_second"] > 0
    return trainer


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_are_finite_and_update_both_players(tmp_path, precision) -> None:
    trainer = train_and_check(tmp_path, precision=precision, steps=8)
    for scaler in (trainer.scaler_d, trainer.scaler_g):
        if precision == "fp16":  # GradScaler is on, and its scale stayed a usable finite number
            assert scaler.is_enabled()
            assert math.isfinite(scaler.get_scale()) and scaler.get_scale() > 0
        else:
            assert not scaler.is_enabled()
    # the checkpoint written at the last step holds both scalers' state
    assert (tmp_path / "run" / "checkpoints" / "latest").exists()


def test_channels_last_bf16_step(tmp_path) -> None:
    trainer = train_and_check(tmp_path, precision="bf16", channels_last=True)
    convs = [m for m in trainer.model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)


def test_compiled_step(tmp_path) -> None:
    train_and_check(tmp_path, compile=True, steps=3)


def test_fp32_gpu_step_matches_cpu_step(tmp_path) -> None:
    """One fp32 SGD step moves the weights on the GPU as on the CPU (same seed, data and noise).
    SGD, not Adam: Adam's first step is lr * sign(grad), which rounding can flip for tiny gradients."""
    allow = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False  # plain fp32 convolutions, like the CPU's
    try:
        deltas = {}
        for device in ("cpu", "cuda"):
            trainer = Trainer(config(device=device, steps=1, ema=None, optimizer="sgd", lr_g=0.1, lr_d=0.1),
                              tmp_path / device, progress=False)
            before = torch.cat([p.detach().float().cpu().flatten() for p in trainer.model.parameters()])
            trainer.fit()
            after = torch.cat([p.detach().float().cpu().flatten() for p in trainer.model.parameters()])
            deltas[device] = (after - before).double()
        rel = float((deltas["cuda"] - deltas["cpu"]).norm() / deltas["cpu"].norm())
        assert deltas["cpu"].norm() > 0 and rel < 1e-3, f"GPU and CPU updates differ by {rel:.2e}"
    finally:
        torch.backends.cudnn.allow_tf32 = allow


RANK_SCRIPT = ENSURE_PLUGINS + textwrap.dedent(
    """
    import hashlib, os, sys
    import torch
    from ganzoo.build import PluginSpec
    from ganzoo.engine.config import TrainConfig
    from ganzoo.engine.trainer import Trainer

    cfg = TrainConfig(arch=PluginSpec("dcgan", {"g_width": 8, "d_width": 8, "latent_dim": 16}),
                      loss=PluginSpec("non-saturating"), dataset=PluginSpec("fake", {"n": 64, "image_size": 28}),
                      steps=2, batch_size=8, checkpoint_every=2, sample_every=2, log_every=1, device="cuda",
                      precision="bf16")
    trainer = Trainer(cfg, sys.argv[1], progress=False)
    assert trainer.device.index == trainer.dist.local_rank, (trainer.device, trainer.dist)
    trainer.fit()
    digest = hashlib.sha256()
    for p in list(trainer.model.parameters()):
        digest.update(p.detach().float().cpu().numpy().tobytes())
    with open(os.path.join(sys.argv[1], f"rank{trainer.dist.rank}.sha"), "w") as fh:
        fh.write(digest.hexdigest())
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs: the engine binds rank r to cuda:r with NCCL, "
                    "which refuses two ranks on one GPU (the CPU/gloo path is tests/test_engine.py's torchrun test)")
def test_torchrun_two_gpu_processes_stay_in_lockstep(tmp_path) -> None:
    script = tmp_path / "train_rank.py"
    script.write_text(RANK_SCRIPT)
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), str(script), str(run)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    hashes = {(run / f"rank{r}.sha").read_text() for r in (0, 1)}
    assert len(hashes) == 1, "ranks diverged: gradients were not averaged"
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2  # only rank 0 logs
    assert json.loads((run / "summary.json").read_text())["world_size"] == 2
