"""Times one trainer on ganzoo's DCGAN-28 and prints one JSON line (the last line of stdout).

    <venv>/bin/python benchmarks/peers/run_one.py --trainer lightning --config fp32 --steps 60 --seed 0

Trainers: ganzoo (its engine), handwritten (benchmarks/throughput.py's pytorch/examples-style loop,
imported), lightning (a LightningModule with two optimizers and manual optimization), torchgan
(torchgan.trainer.Trainer), mimicry (torch_mimicry.training.Trainer). Each peer runs in its own venv
(benchmarks/peers/setup.sh); ganzoo and handwritten run with the main venv. All of them train
``ganzoo.architectures.dcgan.DCGAN(channels=1, image_size=28)`` with Adam 2e-4 (0.5, 0.999) and the
non-saturating loss on Fashion-MNIST held in memory, batch 128.

Configs: ``fp32`` (each trainer's default precision), ``bf16-cl`` (bf16 autocast on CPU and
channels_last modules and inputs: the trainer's own switch where it has one, else the run is wrapped
in ``torch.autocast("cpu", dtype=torch.bfloat16)``), and ``default`` (ganzoo only: ``--precision auto``,
which chooses precision and layout per machine; the default once benchmarks/precision/ shows it costs no quality).

Images/s counts real images through D per second over steps [warmup, steps): every trainer runs
``steps`` timed-or-warm-up steps (the peers one more, so the last interval has an end; see
:class:`StepClock`).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _p in (str(REPO), str(REPO / "benchmarks"), str(HERE)):  # ganzoo of this checkout, throughput.py, shims.py
    if _p not in sys.path:
        sys.path.insert(0, _p)

import torch  # noqa: E402  (after the path set-up on purpose)
import torch.nn.functional as F  # noqa: E402

TRAINERS = ("ganzoo", "handwritten", "lightning", "torchgan", "mimicry")
PEERS = ("handwritten", "lightning", "torchgan", "mimicry")  # the trainers ganzoo is compared with
CONFIGS = ("fp32", "bf16-cl", "default")
LATENT = 100
LR, BETAS = 2e-4, (0.5, 0.999)
# Distributions whose versions a result records, per trainer (besides torch, torchvision, ganzoo).
DISTS = {
    "ganzoo": (),
    "handwritten": (),
    "lightning": ("pytorch-lightning", "lightning-utilities", "torchmetrics"),
    "torchgan": ("torchgan",),
    "mimicry": ("torch-mimicry", "tensorboard"),
}


# --- shared pieces ----------------------------------------------------------------------------------
_DATA: dict[str, Any] = {}


def fashion_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    """The same in-memory tensors every trainer uses (uint8 images, int64 labels), loaded once."""
    if "xy" not in _DATA:
        from ganzoo.data.images import FashionMNIST

        _DATA["xy"] = FashionMNIST().tensors()
    return _DATA["xy"]


def dcgan(seed: int, channels_last: bool) -> Any:
    """ganzoo's exact DCGAN-28 (its own N(0, 0.02) init), seeded like the hand-written loop."""
    from ganzoo.architectures.dcgan import DCGAN

    torch.manual_seed(seed)
    model = DCGAN(channels=1, image_size=28)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def d_logits(D: Any, x: torch.Tensor) -> torch.Tensor:
    """ganzoo's discriminator through its own forward (features, then head: the path the engine
    runs, layout-keeping flatten included): one logit per image, shape (N,)."""
    from ganzoo.contracts import DInput

    return D(DInput(x)).score


class _WholeBatches(torch.utils.data.Dataset):
    """Fashion-MNIST in memory; the DataLoader fetches each batch with one ``__getitems__`` call
    (uint8 -> [-1, 1] floats per batch, exactly as ganzoo's in-memory datasets do), so the peers pay
    no per-sample collation that ganzoo does not pay either."""

    def __init__(self, channels_last: bool) -> None:
        self.x, self.y = fashion_mnist()
        self.channels_last = channels_last

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.__getitems__([i])

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices)
        x = self.x[idx].float().div_(127.5).sub_(1.0)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.y[idx]


def _already_batched(batch: Any) -> Any:
    return batch


class _SeededOrder(torch.utils.data.Sampler):
    """ganzoo's seeded batch order (ganzoo.data.base.batch_indices), flattened, for ``n_batches``
    batches (continuing into the next epoch's order if needed)."""

    def __init__(self, n: int, batch: int, seed: int, n_batches: int) -> None:
        self.n, self.batch, self.seed, self.n_batches = n, batch, seed, n_batches

    def __len__(self) -> int:
        return self.n_batches * self.batch

    def __iter__(self) -> Iterator[int]:
        from ganzoo.data.base import batch_indices

        left, epoch = self.n_batches, 0
        while left > 0:
            for idx in batch_indices(self.n, self.batch, seed=self.seed, epoch=epoch)[:left]:
                yield from idx.tolist()
                left -= 1
            epoch += 1


def peer_loader(n_batches: int, batch: int, seed: int, channels_last: bool) -> torch.utils.data.DataLoader:
    """A plain DataLoader (batch_size=batch, num_workers=0) over the in-memory tensors: exactly
    ``n_batches`` batches in ganzoo's seeded order."""
    data = _WholeBatches(channels_last)
    return torch.utils.data.DataLoader(
        data, batch_size=batch, sampler=_SeededOrder(len(data), batch, seed, n_batches),
        drop_last=True, collate_fn=_already_batched, num_workers=0,
    )


class StepClock:
    """perf_counter marks at the start of each training step (when the trainer receives its batch).
    The interval between marks k and k+1 is one whole step as the trainer runs it (its logging and
    bookkeeping included); a run of ``steps + 1`` steps gives ``steps`` such intervals."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def tick(self) -> None:
        self.marks.append(time.perf_counter())

    def rate(self, batch: int, warmup: int, steps: int) -> float:
        if len(self.marks) < steps + 1:
            raise RuntimeError(f"the trainer ran {len(self.marks)} steps; the clock needs {steps + 1}")
        return batch * (steps - warmup) / (self.marks[steps] - self.marks[warmup])


class TimedLoader:
    """Wraps a DataLoader for trainers that iterate it themselves: marks the clock as each batch is
    handed over. Keeps the attributes trainers read (batch_size, dataset, len)."""

    def __init__(self, loader: torch.utils.data.DataLoader, clock: StepClock) -> None:
        self.loader, self.clock = loader, clock
        self.batch_size = loader.batch_size
        self.dataset = loader.dataset

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            self.clock.tick()
            yield batch


def bf16_autocast(enabled: bool) -> contextlib.AbstractContextManager:
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


# --- the trainers ------------------------------------------------------------------------------------
def run_ganzoo(steps: int, warmup: int, batch: int, seed: int, config: str, shims: bool) -> tuple[float, dict]:
    """Trainer.fit, rated from its own windowed log as benchmarks/throughput.py does (log_every =
    warmup, first window dropped). EMA off: no peer keeps one. Grids and checkpoints stay outside the
    timed windows (sample/checkpoint_every past the end; the final ones come after the last log)."""
    from ganzoo.build import PluginSpec
    from ganzoo.engine.config import TrainConfig
    from ganzoo.engine.trainer import Trainer

    if steps % warmup:
        raise ValueError(f"ganzoo's windows need steps ({steps}) to be a multiple of warmup ({warmup})")
    tricks = {"fp32": dict(precision="fp32", channels_last=False), "bf16-cl": dict(precision="bf16", channels_last=True), "default": dict(precision="auto")}[config]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(
            arch=PluginSpec("dcgan"), loss=PluginSpec("non-saturating"), dataset=PluginSpec("fashion-mnist"),
            steps=steps, batch_size=batch, seed=seed, ema=None, device="cpu",
            sample_every=10**9, checkpoint_every=10**9, keep_checkpoints=1, log_every=warmup, **tricks,
        )
        trainer = Trainer(cfg, tmp, progress=False)
        trainer.fit()
        rows = [json.loads(line) for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
        resolved = json.loads((Path(tmp) / "config.json").read_text()).get("resolved", {})
    windows = [r["images_per_second"] for r in rows if r["step"] % warmup == 0][1:]
    # The settings as given, then what the engine made of them (an "auto" default resolves per machine).
    details = {"precision_setting": cfg.precision, "channels_last_setting": cfg.channels_last, "ema": None,
               "precision": resolved.get("precision", cfg.precision), "channels_last": resolved.get("channels_last", cfg.channels_last),
               "precision_reason": resolved.get("precision_reason"), "autocast": _autocast_of(trainer)}
    return statistics.harmonic_mean(windows), details


def _autocast_of(trainer: Any) -> str | None:
    """The autocast dtype the engine resolved (None: autocast off), read from a live context."""
    try:
        ctx = trainer.autocast()
        return str(ctx.fast_dtype).replace("torch.", "") if getattr(ctx, "_enabled", False) else None
    except Exception:  # an engine that names things differently: the config fields still say it
        return "unknown"


@contextlib.contextmanager
def _channels_last_dcgan() -> Iterator[None]:
    """throughput.handwritten_rate builds its DCGAN inside (``from ganzoo.architectures.dcgan
    import DCGAN``): for the channels_last config that name is swapped for a factory returning the
    model in channels_last, and put back afterwards."""
    import ganzoo.architectures.dcgan as module

    original = module.DCGAN

    def factory(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs).to(memory_format=torch.channels_last)

    module.DCGAN = factory
    try:
        yield
    finally:
        module.DCGAN = original


def run_handwritten(steps: int, warmup: int, batch: int, seed: int, config: str, shims: bool) -> tuple[float, dict]:
    """benchmarks/throughput.py's hand-written loop, imported (its WARMUP set to ``warmup``). With
    bf16-cl the whole loop runs under CPU bf16 autocast and the model is channels_last (its input
    batches stay NCHW: the first convolution's channels_last weights make its output channels_last)."""
    import throughput

    tricks = config == "bf16-cl"
    saved, throughput.WARMUP = throughput.WARMUP, warmup
    try:
        with bf16_autocast(tricks), (_channels_last_dcgan() if tricks else contextlib.nullcontext()):
            rate = throughput.handwritten_rate(steps, batch, "cpu", seed)
    finally:
        throughput.WARMUP = saved
    return rate, {"autocast": "bfloat16 (torch.autocast around the loop)" if tricks else None, "channels_last": tricks}


def run_lightning(steps: int, warmup: int, batch: int, seed: int, config: str, shims: bool) -> tuple[float, dict]:
    """Lightning's GAN pattern: two optimizers, manual optimization, toggle_optimizer around each
    player's update. Same work per step as the hand-written loop and ganzoo (one G forward whose
    fakes serve both updates; D first, then G with D's parameters toggled off)."""
    import pytorch_lightning as pl

    tricks = config == "bf16-cl"
    clock = StepClock()

    class GAN(pl.LightningModule):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.G, self.D = model.generator, model.discriminator
            self.automatic_optimization = False

        def training_step(self, batch_: Any, batch_idx: int) -> None:
            real, _ = batch_
            opt_g, opt_d = self.optimizers()
            n = real.shape[0]
            fake = self.G(torch.randn(n, LATENT, 1, 1, device=self.device))
            ones, zeros = torch.ones(n, device=self.device), torch.zeros(n, device=self.device)
            self.toggle_optimizer(opt_d)
            loss_d = F.binary_cross_entropy_with_logits(d_logits(self.D, real), ones) + \
                F.binary_cross_entropy_with_logits(d_logits(self.D, fake.detach()), zeros)
            opt_d.zero_grad()
            self.manual_backward(loss_d)
            opt_d.step()
            self.untoggle_optimizer(opt_d)
            self.toggle_optimizer(opt_g)
            loss_g = F.binary_cross_entropy_with_logits(d_logits(self.D, fake), ones)
            opt_g.zero_grad()
            self.manual_backward(loss_g)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            self.log_dict({"d_loss": loss_d, "g_loss": loss_g}, prog_bar=True)

        def configure_optimizers(self) -> list[torch.optim.Optimizer]:
            return [torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS),
                    torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)]

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch_: Any, batch_idx: int) -> None:
            clock.tick()

    module = GAN(dcgan(seed, tricks))
    precision = "bf16-mixed" if tricks else "32-true"
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, precision=precision,
        # In manual optimization every optimizer.step() counts as a global step: two per batch.
        max_steps=2 * (steps + 1), max_epochs=1,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, callbacks=[Clock()],
    )
    trainer.fit(module, train_dataloaders=peer_loader(steps + 1, batch, seed, tricks))
    details = {"precision": precision, "channels_last": tricks, "global_step": trainer.global_step}
    return clock.rate(batch, warmup, steps), details


def run_torchgan(steps: int, warmup: int, batch: int, seed: int, config: str, shims: bool) -> tuple[float, dict]:
    """torchgan.trainer.Trainer with MinimaxGeneratorLoss (non-saturating, its default) and
    MinimaxDiscriminatorLoss, ganzoo's networks wrapped in torchgan's Generator/Discriminator base
    classes. One epoch over a loader of exactly steps + 1 batches; torchgan's per-iteration loss and
    gradient-norm logging is its default and stays on. torchgan has no precision switch: bf16-cl
    wraps the run in CPU bf16 autocast."""
    from torchgan.losses import MinimaxDiscriminatorLoss, MinimaxGeneratorLoss
    from torchgan.models import Discriminator, Generator
    from torchgan.trainer import Trainer

    import shims as shim_module

    class GanzooGenerator(Generator):
        def __init__(self, net: Any) -> None:
            super().__init__(encoding_dims=LATENT, label_type="none")
            self.net = net

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.net(z)  # reshapes (N, 100) noise to (N, 100, 1, 1) itself

    class GanzooDiscriminator(Discriminator):
        def __init__(self, net: Any) -> None:
            super().__init__(input_dims=1, label_type="none")
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return d_logits(self.net, x)

    tricks = config == "bf16-cl"
    model = dcgan(seed, tricks)
    adam = {"name": torch.optim.Adam, "args": {"lr": LR, "betas": BETAS}}
    clock = StepClock()
    applied = []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            {"generator": {"name": GanzooGenerator, "args": {"net": model.generator}, "optimizer": adam},
             "discriminator": {"name": GanzooDiscriminator, "args": {"net": model.discriminator}, "optimizer": adam}},
            [MinimaxGeneratorLoss(), MinimaxDiscriminatorLoss()],
            device=torch.device("cpu"), epochs=1, checkpoints=f"{tmp}/model/gan", recon=f"{tmp}/images",
        )
        if shims and (note := shim_module.skip_torchgan_image_logging(trainer)):
            applied.append(note)
        loader = TimedLoader(peer_loader(steps + 1, batch, seed, tricks), clock)
        with bf16_autocast(tricks):
            trainer(loader)
    details = {"precision": "bf16 autocast around trainer(loader)" if tricks else "fp32", "channels_last": tricks,
               "generator_loss": "MinimaxGeneratorLoss(nonsaturating=True)", "shims": applied}
    return clock.rate(batch, warmup, steps), details


def run_mimicry(steps: int, warmup: int, batch: int, seed: int, config: str, shims: bool) -> tuple[float, dict]:
    """torch_mimicry.training.Trainer with loss_type "ns" (its non-saturating loss), ganzoo's
    networks behind mimicry's DCGAN base classes. Mimicry's logging defaults stay (a stdout line
    every step, TensorBoard scalars every 50); image grids and checkpoints are set past the end.
    Its ``amp`` switch is CUDA-only (torch.cuda.amp), so bf16-cl wraps the run in CPU bf16 autocast."""
    import shims as shim_module

    applied = []
    if shims:
        applied = [n for n in (shim_module.stub_torch_six(), shim_module.stub_tensorflow()) if n]
    import torch_mimicry as mmc
    from torch_mimicry.nets.dcgan.dcgan_base import DCGANBaseDiscriminator, DCGANBaseGenerator

    class GanzooGenerator(DCGANBaseGenerator):
        def __init__(self, net: Any) -> None:
            super().__init__(nz=LATENT, ngf=64, bottom_width=7, loss_type="ns")
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    class GanzooDiscriminator(DCGANBaseDiscriminator):
        def __init__(self, net: Any) -> None:
            super().__init__(ndf=64, loss_type="ns")
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return d_logits(self.net, x).unsqueeze(1)  # mimicry's losses expect (N, 1) logits

    tricks = config == "bf16-cl"
    model = dcgan(seed, tricks)
    netG, netD = GanzooGenerator(model.generator), GanzooDiscriminator(model.discriminator)
    optG = torch.optim.Adam(netG.parameters(), lr=LR, betas=BETAS)
    optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=BETAS)
    clock = StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = mmc.training.Trainer(
            netD=netD, netG=netG, optD=optD, optG=optG, n_dis=1, num_steps=steps + 1,
            dataloader=TimedLoader(peer_loader(steps + 1, batch, seed, tricks), clock),
            log_dir=tmp, device=torch.device("cpu"), vis_steps=10**9, save_steps=10**9,
        )
        with bf16_autocast(tricks):
            trainer.train()
    details = {"precision": "bf16 autocast around trainer.train()" if tricks else "fp32", "channels_last": tricks,
               "loss_type": "ns", "shims": applied}
    return clock.rate(batch, warmup, steps), details


RUNNERS: dict[str, Callable[..., tuple[float, dict]]] = {
    "ganzoo": run_ganzoo, "handwritten": run_handwritten, "lightning": run_lightning,
    "torchgan": run_torchgan, "mimicry": run_mimicry,
}


def versions(trainer: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("torch", "torchvision", "ganzoo", *DISTS[trainer]):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def measure(trainer: str, config: str, *, steps: int, warmup: int, batch: int, seed: int, threads: int, shims: bool = True) -> dict[str, Any]:
    """One timed run; the dict run_one prints as its JSON line."""
    if trainer not in RUNNERS:
        raise ValueError(f"unknown trainer {trainer!r}; choose from {', '.join(TRAINERS)}")
    if config not in CONFIGS or (config == "default" and trainer != "ganzoo"):
        raise ValueError(f"config {config!r} is not timed for {trainer}")
    if not 0 < warmup < steps:
        raise ValueError(f"need 0 < warmup ({warmup}) < steps ({steps})")
    saved_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    started = time.perf_counter()
    try:
        rate, details = RUNNERS[trainer](steps, warmup, batch, seed, config, shims)
        threads_after = torch.get_num_threads()
    finally:  # in-process callers (the driver's dry run, a test) get their setting back
        torch.set_num_threads(saved_threads)
    return {
        "trainer": trainer, "config": config, "seed": seed, "steps": steps, "warmup": warmup, "batch_size": batch,
        "images_per_second": round(rate, 2), "threads_after": threads_after,
        "wall_s": round(time.perf_counter() - started, 2), "versions": versions(trainer),
        "python": sys.executable, "torch_file": torch.__file__, "details": details,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainer", required=True, choices=TRAINERS)
    parser.add_argument("--config", default="fp32", choices=CONFIGS)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-shims", action="store_true", help="run the peer as installed (to record why a shim is needed)")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):  # the trainers' own prints: stdout carries only the result
        result = measure(args.trainer, args.config, steps=args.steps, warmup=args.warmup, batch=args.batch_size,
                         seed=args.seed, threads=args.threads, shims=not args.no_shims)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
