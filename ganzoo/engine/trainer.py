"""The training loop: one loop for every (architecture, loss, tricks, dataset) combination."""
from __future__ import annotations

import contextlib
import json
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import Tensor, nn

from .. import __version__, registry
from ..build import build_dataset, build_loss, build_model, check_compatible
from ..contracts import GANZOO_DEFAULTS, Batch, DOut, PenaltyContext, TrainDefaults, Views
from ..data.base import batch_indices
from ..errors import CheckpointError, ConfigError, NonFiniteLossError
from ..safeio import read_json, write_json
from . import checkpoint, distributed
from .config import TrainConfig, differences
from .ema import EMA
from .grids import save_samples

GRID_SIZE = 64


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    images_per_second: float
    last_losses: dict[str, float]
    checkpoint: Path | None
    samples: Path | None


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was requested but no CUDA GPU is available; use --device cpu")
    return device


def make_optimizer(kind: str, params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=betas[0])
    raise ConfigError(f"unknown optimizer {kind!r}; use adam, rmsprop or sgd")


class Trainer:
    """Trains one run. ``fit()`` runs to ``config.steps`` generator steps, resuming if asked."""

    def __init__(self, config: TrainConfig, run_dir: str | Path, *, resume: bool = False, progress: bool = True) -> None:
        config.validate()
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.device = pick_device(config.device)
        self.dist = distributed.init_from_env(self.device.type)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.progress = progress and self.dist.is_main
        if resume:
            config = self._check_resume(config)
        self.config = config
        torch.manual_seed(config.seed)
        random.seed(config.seed)

        # --- plugins ---------------------------------------------------------------------------
        self.data, self.dataset_args = build_dataset(config.dataset)
        spec = self.data.spec()
        check_compatible(config.arch.name, config.loss.name, [t.name for t in config.tricks], spec, config.dataset.name)
        self.loss, self.loss_args = build_loss(config.loss)
        self.model, self.arch_args, self.tricks, self.trick_args = build_model(config.arch, config.tricks, spec, self.loss)
        self.hp = self._hyperparameters()
        self.trick_names = [t.name.replace("-", "_") for t in config.tricks]  # log keys

        self.model.to(self.device)
        self.loss.to(self.device)
        for trick in self.tricks:
            trick.to(self.device)
        if config.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.dist.enabled:
            distributed.broadcast_module(self.model)
        self.g_params = [p for p in self.model.g_parameters() if p.requires_grad]
        self.d_params = [p for p in self.model.d_parameters() if p.requires_grad]
        self.opt_g = make_optimizer(self.hp.optimizer, self.g_params, self.hp.lr_g, self.hp.betas)
        self.opt_d = make_optimizer(self.hp.optimizer, self.d_params, self.hp.lr_d, self.hp.betas)
        self.ema = EMA(self.model.generator, config.ema, config.ema_start).to(self.device) if config.ema else None
        if config.compile:
            self.model.generator.compile()
            self.model.discriminator.compile()

        # --- precision -------------------------------------------------------------------------
        use_amp = config.precision != "fp32"
        amp_dtype = torch.bfloat16 if config.precision == "bf16" else torch.float16
        if config.precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("fp16 mixed precision needs a CUDA device; use --precision bf16 or fp32 on CPU")
        self.autocast = lambda: torch.autocast(self.device.type, dtype=amp_dtype, enabled=use_amp)
        scaled = config.precision == "fp16"
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=scaled)
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=scaled)

        # --- state ------------------------------------------------------------------------------
        self.noise = torch.Generator().manual_seed(config.seed * 7919 + self.dist.rank)
        grid = torch.Generator().manual_seed(config.seed + 12345)
        self.fixed_z = self.model.generator.sample_latent(GRID_SIZE, generator=grid, device=self.device)
        self.fixed_y = self.model.generator.sample_labels(GRID_SIZE, generator=grid, device=self.device)
        if self.fixed_y is not None:  # one class per row of the grid, as users expect
            self.fixed_y = (torch.arange(GRID_SIZE, device=self.device) // 8) % self.model.generator.num_classes
        self.step = 0
        self.epoch = 0
        self.batch_pos = 0
        self.g_uses_real = self.loss.g_uses_real or any(t.g_uses_real for t in self.tricks)
        self._stop_requested = False
        self._writer = None

    # --- configuration ---------------------------------------------------------------------------
    def _hyperparameters(self) -> TrainDefaults:
        arch_cls = registry.architectures.get(self.config.arch.name)
        loss_cls = registry.losses.get(self.config.loss.name)
        c = self.config
        user = TrainDefaults(c.optimizer, c.lr_g, c.lr_d, tuple(c.betas) if c.betas else None, c.n_critic)
        return user.over(loss_cls.train_defaults.over(arch_cls.train_defaults.over(GANZOO_DEFAULTS)))

    def _check_resume(self, requested: TrainConfig) -> TrainConfig:
        saved_path = self.run_dir / "config.json"
        if not saved_path.is_file():
            raise CheckpointError(f"nothing to resume: {saved_path} does not exist; drop --resume to start a new run")
        saved = TrainConfig.from_json(read_json(saved_path, "run config"))
        changed = differences(saved, requested)
        if changed:
            raise ConfigError(f"--resume with different settings ({'; '.join(changed)}); use the original command or a new --out")
        for name in TrainConfig.RESUMABLE_CHANGES:
            setattr(saved, name, getattr(requested, name))
        return saved

    def run_config(self) -> dict[str, Any]:
        """config.json: what was trained and by which packages, so it can be rebuilt anywhere."""
        spec = self.data.spec()
        c = self.config
        return {
            "ganzoo_version": __version__,
            "architecture": {**c.arch.to_json(registry.architectures), "args": _json(self.arch_args)},
            "loss": {**c.loss.to_json(registry.losses), "args": _json(self.loss_args)},
            "tricks": [{**t.to_json(registry.tricks), "args": _json(a)} for t, a in zip(c.tricks, self.trick_args)],
            "dataset": {**c.dataset.to_json(registry.datasets), "args": _json(self.dataset_args)},
            "data_shape": list(spec.shape),
            "num_classes": self.model.generator.num_classes,
            "latent_dim": self.model.generator.latent_dim,
            "resolved": {"optimizer": self.hp.optimizer, "lr_g": self.hp.lr_g, "lr_d": self.hp.lr_d, "betas": list(self.hp.betas), "n_critic": self.hp.n_critic},
            "training": c.engine_settings(),
        }

    # --- data ------------------------------------------------------------------------------------
    def _batches(self) -> Iterator[Batch]:
        """Endless batches, resumable from (epoch, batch_pos)."""
        while True:
            order = batch_indices(
                len(self.data), self.config.batch_size, seed=self.config.seed, epoch=self.epoch,
                rank=self.dist.rank, world_size=self.dist.world_size,
            )
            pending = order[self.batch_pos :]
            if self.config.num_workers > 0:
                loader: Any = torch.utils.data.DataLoader(
                    _IndexBatches(self.data, pending), batch_size=None, shuffle=False,
                    num_workers=self.config.num_workers, pin_memory=self.device.type == "cuda",
                )
            else:
                loader = (self.data.get_batch(idx) for idx in pending)
            for batch in loader:
                self.batch_pos += 1
                yield batch.to(self.device, non_blocking=True)
            self.epoch += 1
            self.batch_pos = 0

    def _prepare(self, batch: Batch) -> Batch:
        if self.config.channels_last and batch.x.dim() == 4:
            batch.x = batch.x.contiguous(memory_format=torch.channels_last)
        return batch

    # --- one step --------------------------------------------------------------------------------
    def _views(self, batch: Batch) -> Views:
        z = self.model.sample_latent(len(batch), generator=self.noise).to(self.device)
        views = self.model.views(batch, z)
        for trick in self.tricks:
            views.real = trick.d_input(views.real, self.step)
            views.fake = trick.d_input(views.fake, self.step)
        return views

    def _backward(self, total: Tensor, scaler: torch.amp.GradScaler, opt: torch.optim.Optimizer, params: list[nn.Parameter]) -> None:
        opt.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        if self.dist.enabled:
            distributed.average_gradients(params, self.dist.world_size)
        scaler.step(opt)
        scaler.update()

    def train_step(self, batches: Iterator[Batch]) -> tuple[dict[str, Tensor], DOut, DOut]:
        model, loss = self.model, self.loss
        logs: dict[str, Tensor] = {}

        # (1) Discriminator: n_critic updates, each on a fresh real batch, generator frozen.
        # The last one builds its views with autograd on and shows D a detached copy, so the
        # generator step reuses the same fakes instead of running G again.
        for i in range(self.hp.n_critic):
            batch = self._prepare(next(batches))
            last = i == self.hp.n_critic - 1
            with torch.set_grad_enabled(last), self.autocast():
                views_g = self._views(batch)
            views = views_g.detach() if last else views_g
            with self.autocast():
                real, fake = model.critic(views.real), model.critic(views.fake)
                ctx = PenaltyContext(model, views, real, fake, self.step)
                terms = {"d_adv": loss.d_loss(real, fake)}
                penalty = loss.penalty(ctx)
                if penalty is not None:
                    terms["d_penalty"] = penalty
                for name, trick in zip(self.trick_names, self.tricks):
                    penalty = trick.d_penalty(ctx)
                    if penalty is not None:
                        terms[f"d_{name}"] = penalty
                terms.update({f"d_{k}": v for k, v in model.aux_losses("d", views, real, fake).items()})
            total_d = sum(terms.values())
            self._backward(total_d, self.scaler_d, self.opt_d, self.d_params)
            loss.after_d_step(model)
        logs.update(terms)
        logs["d_total"] = total_d
        d_real, d_fake = DOut(real.score.detach()), DOut(fake.score.detach())

        # (2) Generator: one update on the last real batch, discriminator frozen.
        for p in self.d_params:
            p.requires_grad_(False)
        try:
            with self.autocast():
                views = views_g
                fake = model.critic(views.fake)
                needs_real = views.real_depends_on_generator or self.g_uses_real
                real_g = model.critic(views.real) if needs_real else None
                ctx = PenaltyContext(model, views, real_g, fake, self.step)
                terms = {"g_adv": loss.g_loss(real_g, fake)}
                for name, trick in zip(self.trick_names, self.tricks):
                    penalty = trick.g_penalty(ctx)
                    if penalty is not None:
                        terms[f"g_{name}"] = penalty
                terms.update({f"g_{k}": v for k, v in model.aux_losses("g", views, real_g, fake).items()})
            total_g = sum(terms.values())
            self._backward(total_g, self.scaler_g, self.opt_g, self.g_params)
        finally:
            for p in self.d_params:
                p.requires_grad_(True)
        logs.update(terms)
        logs["g_total"] = total_g
        if self.ema is not None:
            self.ema.update(model.generator, self.step)
        return logs, d_real, d_fake

    # --- the loop --------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        c = self.config
        if self.resume:
            self._load(checkpoint.latest(self.run_dir))
        elif self.dist.is_main:
            if (self.run_dir / "checkpoints" / "latest").exists():
                raise ConfigError(f"{self.run_dir} already holds a run; pass --resume to continue it or choose another --out")
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.run_dir / "config.json", self.run_config())
        self._open_tensorboard()
        batches = self._batches()
        last_ckpt: Path | None = None
        last_grid: Path | None = None
        last: dict[str, float] = {}
        images_per_step = c.batch_size * self.hp.n_critic * self.dist.world_size
        bar = _progress(self.progress, self.step, c.steps, f"{c.arch.name}/{c.loss.name}")
        started, start_step = time.perf_counter(), self.step
        window_t, window_step = started, self.step
        rate = 0.0
        check_every = 1 if self.device.type == "cpu" else c.log_every
        previous = _install_stop_handler(self)
        spent_before = self._previous_wall_time()
        try:
            while self.step < c.steps and not self._stop_requested:
                if c.time_budget_s is not None and spent_before + time.perf_counter() - started >= c.time_budget_s:
                    break
                logs, d_real, d_fake = self.train_step(batches)
                self.step += 1
                extra = self.loss.end_step(d_real, d_fake)
                stats = dict(extra)
                for trick in self.tricks:
                    stats.update(trick.end_step(self.model, stats))
                if self.step % check_every == 0 or self.step % c.checkpoint_every == 0 or self.step == c.steps:
                    self._check_finite(logs)
                if self.step % c.log_every == 0 or self.step == c.steps:
                    now = time.perf_counter()
                    rate = (self.step - window_step) * images_per_step / max(now - window_t, 1e-9)
                    window_t, window_step = now, self.step
                    last = {k: float(v.detach()) for k, v in logs.items()} | stats
                    self._log(last, rate)
                    if bar is not None:
                        bar.set_postfix_str(f"D {last['d_total']:.3f} G {last['g_total']:.3f} {rate:.0f} img/s", refresh=False)
                if bar is not None:
                    bar.update(1)
                if self.step % c.sample_every == 0 or self.step == c.steps:
                    last_grid = self.save_grid()
                if self.step % c.checkpoint_every == 0 or self.step == c.steps:
                    last_ckpt = self.save_checkpoint()
            if self.step < c.steps and (self._stop_requested or c.time_budget_s is not None) and self.step > start_step:
                last_ckpt = self.save_checkpoint()
        finally:
            _restore_stop_handler(previous)
            if bar is not None:
                bar.close()
            if self._writer is not None:
                self._writer.close()
            distributed.shutdown(self.dist)
        elapsed = time.perf_counter() - started
        overall = (self.step - start_step) * images_per_step / max(elapsed, 1e-9)
        if self.dist.is_main:
            self._write_summary(elapsed, overall or rate)
        return TrainResult(self.run_dir, self.step, overall or rate, last, last_ckpt, last_grid)

    def _previous_wall_time(self) -> float:
        path = self.run_dir / "summary.json"
        if not (self.resume and path.is_file()):
            return 0.0
        return float(read_json(path, "run summary").get("wall_time_s", 0.0))

    def _write_summary(self, elapsed: float, rate: float) -> None:
        """RUN/summary.json: what model cards report about training (wall time adds up over resumes)."""
        path = self.run_dir / "summary.json"
        previous = read_json(path, "run summary") if (self.resume and path.is_file()) else {}
        hardware = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
        write_json(path, {
            "step": self.step,
            "wall_time_s": round(float(previous.get("wall_time_s", 0.0)) + elapsed, 2),
            "images_seen": self.step * self.config.batch_size * self.hp.n_critic * self.dist.world_size,
            "images_per_second_last_session": round(rate, 1),
            "hardware": hardware,
            "world_size": self.dist.world_size,
            "precision": self.config.precision,
            "torch_version": torch.__version__,
            "ganzoo_version": __version__,
        })

    def _check_finite(self, logs: dict[str, Tensor]) -> None:
        for name, value in logs.items():
            if not torch.isfinite(value).all():
                ckpt = None
                with contextlib.suppress(CheckpointError):
                    ckpt = checkpoint.latest(self.run_dir)
                kept = f"the last good checkpoint {ckpt} is kept" if ckpt else "no checkpoint was written yet"
                raise NonFiniteLossError(
                    f"{name} became {float(value.detach())} at step {self.step}; {kept}. "
                    "Lower --lr-g/--lr-d, add a regularizer or try another loss, then --resume"
                )

    def _log(self, values: dict[str, float], rate: float) -> None:
        if not self.dist.is_main:
            return
        record = {"step": self.step, "images_per_second": round(rate, 2), **{k: round(v, 6) for k, v in values.items()}}
        with open(self.run_dir / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"loss/{key}", value, self.step)
            self._writer.add_scalar("perf/images_per_second", rate, self.step)

    def _open_tensorboard(self) -> None:
        if not (self.config.tensorboard and self.dist.is_main):
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("--tensorboard needs the tensorboard package: pip install 'ganzoo[tensorboard]'") from None
        self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))

    def sampling_generator(self) -> nn.Module:
        return self.ema.average if self.ema is not None else self.model.generator

    @torch.no_grad()
    def save_grid(self) -> Path | None:
        if not self.dist.is_main:
            return None
        g = self.sampling_generator()
        was_training = g.training
        g.eval()
        with self.autocast():
            samples = g(self.fixed_z, self.fixed_y).float()
        g.train(was_training)
        return save_samples(samples, self.run_dir / "samples" / f"step-{self.step:08d}.png", nrow=8)

    # --- checkpoints -----------------------------------------------------------------------------
    def _weights(self) -> dict[str, Tensor]:
        weights = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        if self.ema is not None:
            weights.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        weights.update({f"loss.{k}": v for k, v in self.loss.state_dict().items()})
        for i, trick in enumerate(self.tricks):
            weights.update({f"tricks.{i}.{k}": v for k, v in trick.state_dict().items()})
        return weights

    def save_checkpoint(self) -> Path | None:
        if not self.dist.is_main:
            distributed.barrier(self.dist)
            return None
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_pos": self.batch_pos,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_noise": self.noise.get_state(),
            "rng_python": _python_rng(),
        }
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        path = checkpoint.save(self.run_dir, self.step, self._weights(), state, self.config.keep_checkpoints)
        distributed.barrier(self.dist)
        return path

    def _load(self, ckpt: Path | None) -> None:
        if ckpt is None:
            raise CheckpointError(f"nothing to resume: {self.run_dir} has no checkpoint yet; drop --resume")
        step, weights, state = checkpoint.load(ckpt)
        sections: dict[str, dict[str, Tensor]] = {}
        for key, value in weights.items():
            section, _, rest = key.partition(".")
            if section == "tricks":
                index, _, rest = rest.partition(".")
                section = f"tricks.{index}"
            sections.setdefault(section, {})[rest] = value
        targets: dict[str, nn.Module] = {"model": self.model, "loss": self.loss}
        if self.ema is not None:
            targets["ema"] = self.ema
        targets.update({f"tricks.{i}": t for i, t in enumerate(self.tricks)})
        for name, module in targets.items():
            load_strict(module, sections.get(name, {}), f"{ckpt.name}:{name}")
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        torch.set_rng_state(state["rng_torch"])
        self.noise.set_state(state["rng_noise"])
        random.setstate(_to_python_rng(state["rng_python"]))
        if "rng_cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.step, self.epoch, self.batch_pos = step, int(state["epoch"]), int(state["batch_pos"])


def load_strict(module: nn.Module, tensors: dict[str, Tensor], where: str) -> None:
    """load_state_dict that names the first missing, unexpected or mis-shaped tensor."""
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing:
        raise CheckpointError(f"{where}: tensor {missing[0]!r} is missing ({len(missing)} missing in all); the file does not match this model")
    if unexpected:
        raise CheckpointError(f"{where}: unexpected tensor {unexpected[0]!r} ({len(unexpected)} in all); the file does not match this model")
    for key, value in tensors.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise CheckpointError(f"{where}: tensor {key!r} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}")
    module.load_state_dict(tensors, strict=True)


class _IndexBatches(torch.utils.data.Dataset):
    """Each item is a whole batch, so DataLoader workers can prefetch batches from disk."""

    def __init__(self, data: Any, batches: list[Tensor]) -> None:
        self.data, self.batches = data, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> Batch:
        return self.data.get_batch(self.batches[i])


def _json(args: dict[str, Any]) -> dict[str, Any]:
    from ..args import jsonable

    return jsonable(args)


def _python_rng() -> list[Any]:
    version, state, gauss = random.getstate()
    return [version, list(state), gauss]


def _to_python_rng(saved: list[Any]) -> tuple[Any, ...]:
    version, state, gauss = saved
    return (version, tuple(state), gauss)


def _progress(enabled: bool, initial: int, total: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True, mininterval=0.5)


def _install_stop_handler(trainer: Trainer) -> dict[int, Any]:
    """SIGTERM or a first Ctrl-C finishes the current step and saves a checkpoint (so a resume
    stays step-exact); a second Ctrl-C interrupts at once."""

    def handler(signum: int, frame: Any) -> None:
        if trainer._stop_requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        trainer._stop_requested = True

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
    return previous


def _restore_stop_handler(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(sig, old)
