"""The training loop: one loop for every (architecture, loss, tricks, dataset) combination.

``Trainer.fit`` runs generator steps until ``config.steps`` (or the time budget, or a stop
signal); each ``train_step`` is a discriminator step (n_critic updates) followed by a generator
step, with the extra terms of the loss, the tricks and the architecture collected through one
hook (``terms``), as in pytorch/examples' dcgan loop. Logging, sample grids and checkpoints are
bookkeeping around that loop (``_after_step``).

What a run has saved is never lost: ``--out`` must be new, empty or a run (layout.check_run_folder);
no checkpoint holding a NaN or an infinity is written; a resume that would go back in steps is
refused before anything is touched; a stop signal (also one sent to the whole process group, which
DataLoader workers ignore) finishes the step and saves.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import __version__, registry
from ..args import jsonable
from ..build import build_dataset, build_loss, build_model, check_batch_fits, check_compatible
from ..contracts import Batch, DOut, StepContext, StepHooks, TrainDefaults, Views, paper_defaults
from ..data.base import batch_indices
from ..errors import CheckpointError, CheckpointWriteError, ConfigError, NonFiniteLossError
from ..layout import CHECKPOINTS, CONFIG, METRICS, SUMMARY, check_run_folder
from ..records import Resolved, RunSummary
from ..safeio import read_json, write_atomic, write_json
from . import checkpoint, distributed
from .config import TrainConfig, apply_changes, differences, resume_changes
from .device import pick_device
from .ema import EMA
from .lookahead import DiscriminatorSnapshot
from .precision import plan_precision
from .grids import class_layout, sample_picture, save_png

GRID_SIZE = 64
log = logging.getLogger("ganzoo.trainer")


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    images_per_second: float
    last_losses: dict[str, float]
    checkpoint: Path | None
    samples: Path | None
    status: str = "done"  # or "interrupted" (a stop signal), "time budget", "nothing to do" (a finished run resumed)


@dataclass
class CriticResult:
    """What the discriminator step hands on: its logged terms, the last update's views (still
    attached to the generator's graph, for the generator step to reuse) and D's last verdicts."""

    logs: dict[str, Tensor]
    views: Views
    real: DOut
    fake: DOut


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

    def __init__(self, config: TrainConfig, run_dir: str | Path, *, resume: bool = False, progress: bool = True,
                 resume_from: str | None = None, init_from: str | os.PathLike[str] | None = None) -> None:
        config.validate()
        self.run_dir = Path(run_dir)
        check_run_folder(self.run_dir)
        self.resume, self.resume_from = resume or resume_from is not None, resume_from
        self.changes: list[dict[str, Any]] = []  # config.json's resume_changes, this resume's included
        self.init_record: dict[str, Any] | None = None  # config.json's init_from: the weights a new run started from
        self._run_config: dict[str, Any] | None = None
        self.device = pick_device(config.device)
        self.dist = distributed.init_from_env(self.device.type)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.progress = progress and self.dist.is_main
        self.config = self._check_resume(config) if self.resume else config
        if self.resume:
            self.config.validate()  # the saved settings with the resume's: a longer --steps may outrun the rates' decay
        torch.manual_seed(self.config.seed)
        random.seed(self.config.seed)
        self._build_plugins()
        if init_from is not None and not self.resume:  # a resume's weights come from its checkpoint
            self._init_weights(init_from)
        self._set_precision()
        self._build_optimizers()
        self._set_state()

    # --- setup -----------------------------------------------------------------------------------
    def _build_plugins(self) -> None:
        c = self.config
        self.data, self.dataset_args = build_dataset(c.dataset)
        check_batch_fits(c.batch_size, len(self.data), c.dataset.name, self.dist.world_size)
        spec = self.data.spec()
        check_compatible(c.arch.name, c.loss.name, [t.name for t in c.tricks], spec, c.dataset.name)
        self.loss, self.loss_args = build_loss(c.loss)
        self.model, self.arch_args, self.tricks, self.trick_args = build_model(c.arch, c.tricks, spec, self.loss)
        # Every hook owner, in the order their terms are added and their hooks called.
        self.hooks: tuple[StepHooks, ...] = (self.loss, *self.tricks, self.model)
        for module in self.hooks:
            module.to(self.device)
        self.g_uses_real = self.loss.g_uses_real or any(t.g_uses_real for t in self.tricks)

    def _init_weights(self, source: str | os.PathLike[str]) -> None:
        """Start from a published model's raw generator and discriminator (ganzoo/finetune.py)."""
        from .. import finetune  # the Hub client: only a run that starts from a published model needs it

        init = finetune.read_init_weights(source)
        finetune.initialize(self.model, init, self.config.arch, self.config.tricks, self.data.spec())
        self.init_record = init.record

    def _build_optimizers(self) -> None:
        c = self.config
        if self.dist.enabled:
            distributed.broadcast_module(self.model)
        self.hp = self._hyperparameters()
        self.g_params = [p for p in self.model.g_parameters() if p.requires_grad]
        self.d_params = [p for p in self.model.d_parameters() if p.requires_grad]
        self.opt_g = make_optimizer(self.hp.optimizer, self.g_params, self.hp.lr_g, self.hp.betas)
        self.opt_d = make_optimizer(self.hp.optimizer, self.d_params, self.hp.lr_d, self.hp.betas)
        self.ema = EMA(self.model.generator, c.ema, c.ema_start).to(self.device) if c.ema else None
        if c.compile:
            self.model.generator.compile()
            self.model.discriminator.compile()
        # Extra D updates the generator step is played against (unrolled GANs); largest request wins.
        self.lookahead = max(hooks.lookahead_steps() for hooks in self.hooks)
        # Real images per generator step, over all processes (what img/s counts).
        self.images_per_step = c.batch_size * (self.hp.n_critic + self.lookahead) * self.dist.world_size

    def _set_precision(self) -> None:
        self.precision = plan_precision(
            self.config.precision, self.config.channels_last, self.device, self.model,
            images=self.data.spec().is_image, plugins=self.hooks,
        )
        if self.precision.channels_last:
            self.model.to(memory_format=torch.channels_last)
        precision = self.precision.precision
        if precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("fp16 mixed precision needs a CUDA device; use --precision bf16 or fp32 on CPU")
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        self.autocast = lambda: torch.autocast(self.device.type, dtype=dtype, enabled=precision != "fp32")
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=precision == "fp16")
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=precision == "fp16")

    def _set_state(self) -> None:
        seed = self.config.seed
        self.noise = torch.Generator().manual_seed(seed * 7919 + self.dist.rank)
        grid = torch.Generator().manual_seed(seed + 12345)
        generator = self.model.generator
        # A conditional grid shows every class: one per row, or one per column past 8 (class_layout).
        labels, self.grid_nrow = class_layout(generator.num_classes) if generator.num_classes else (None, 8)
        n = GRID_SIZE if labels is None else len(labels)
        self.fixed_z = generator.sample_latent(n, generator=grid, device=self.device)
        self.fixed_y = None if labels is None else labels.to(self.device)
        self.step = self.epoch = self.batch_pos = 0
        self._stop_requested = False
        self._resumed_from: Path | None = None
        self._writer: Any = None  # a TensorBoard SummaryWriter with --tensorboard

    def _hyperparameters(self) -> TrainDefaults:
        c = self.config
        user = TrainDefaults(c.optimizer, c.lr_g, c.lr_d, tuple(c.betas) if c.betas else None, c.n_critic)
        return user.over(paper_defaults(type(self.model), type(self.loss)))

    def _check_resume(self, requested: TrainConfig) -> TrainConfig:
        saved_json = self._saved_run_config()
        try:
            saved = TrainConfig.from_json(saved_json)
        except (KeyError, TypeError, ValueError, AttributeError):  # sections missing or of the wrong type
            raise CheckpointError(f"{self.run_dir / CONFIG} is not a ganzoo run config; restore it, or start a new run with another --out") from None
        changed = differences(saved, requested)
        if changed:
            raise ConfigError(f"--resume with different settings ({'; '.join(changed)}); a resume may change only the learning "
                              "rates and their decay, --n-critic, --g-steps, tricks' arguments and bookkeeping; use the original command or a new --out")
        changes = resume_changes(saved, requested)
        apply_changes(saved, changes)
        resolved = saved_json.get("resolved") if isinstance(saved_json.get("resolved"), dict) else {}
        self.init_record = saved_json.get("init_from") if isinstance(saved_json.get("init_from"), dict) else None
        past = saved_json.get("resume_changes")
        self.changes = (list(past) if isinstance(past, list) else []) + [
            {**c, "from": resolved.get(c["setting"]) if c["from"] is None else c["from"]} for c in changes]
        for name in TrainConfig.RESUMABLE_CHANGES:
            setattr(saved, name, getattr(requested, name))
        return saved

    def _saved_run_config(self) -> dict[str, Any]:
        """RUN/config.json or, when it is missing or damaged, the copy the newest checkpoint keeps."""
        if not (self.run_dir / CHECKPOINTS).is_dir():
            raise CheckpointError(f"nothing to resume: {self.run_dir} has no checkpoints/; drop --resume to start a new run")
        try:
            return read_json(self.run_dir / CONFIG, "run config")
        except CheckpointError as exc:
            copy = checkpoint.saved_run_config(self.run_dir)
            if copy is None:
                raise CheckpointError(f"cannot resume: {exc}, and no checkpoint keeps a copy; restore it, or start a new run with another --out") from None
            log.warning(f"warning: {exc}; resuming with the copy kept in {copy[1]}")
            return copy[0]

    def run_config(self) -> dict[str, Any]:
        """config.json: what was trained and by which packages, so it can be rebuilt anywhere."""
        c, hp = self.config, self.hp
        return {
            "ganzoo_version": __version__,
            "architecture": {**c.arch.to_json(registry.architectures), "args": jsonable(self.arch_args)},
            "loss": {**c.loss.to_json(registry.losses), "args": jsonable(self.loss_args)},
            "tricks": [{**t.to_json(registry.tricks), "args": jsonable(a)} for t, a in zip(c.tricks, self.trick_args)],
            "dataset": {**c.dataset.to_json(registry.datasets), "args": jsonable(self.dataset_args)},
            "data_shape": list(self.data.spec().shape),
            "num_classes": self.model.generator.num_classes,
            "latent_dim": self.model.generator.latent_dim,
            "resolved": Resolved(
                hp.optimizer, hp.lr_g, hp.lr_d, hp.betas, hp.n_critic,
                self.precision.precision, self.precision.channels_last, self.precision.reason,
            ).to_json(),
            "training": c.engine_settings(),
            **({"resume_changes": self.changes} if self.changes else {}),
            **({"init_from": self.init_record} if self.init_record else {}),
        }

    # --- data ------------------------------------------------------------------------------------
    def _batches(self) -> Iterator[Batch]:
        """Endless batches, resumable from (epoch, batch_pos)."""
        while True:
            order = batch_indices(
                len(self.data), self.config.batch_size, seed=self.config.seed, epoch=self.epoch,
                rank=self.dist.rank, world_size=self.dist.world_size,
            )
            for batch in self._loader(order[self.batch_pos :]):
                self.batch_pos += 1
                yield self._prepare(batch.to(self.device, non_blocking=True))
            self.epoch += 1
            self.batch_pos = 0

    def _loader(self, pending: list[Tensor]) -> Any:
        if self.config.num_workers == 0:
            return (self.data.get_batch(idx) for idx in pending)
        return torch.utils.data.DataLoader(
            _IndexBatches(self.data, pending), batch_size=None, shuffle=False,
            num_workers=self.config.num_workers, pin_memory=self.device.type == "cuda",
            worker_init_fn=_ignore_stop_signals,
        )

    def _next_batches(self, batches: Iterator[Batch], n: int) -> list[Batch]:
        """The step's ``n`` real batches, fetched before any update so that a failure to fetch leaves
        the last step whole. When workers died of a stop signal sent to the whole process group, the
        data position goes back to the step's start and the step is skipped (_StoppedBeforeStep)."""
        position = (self.epoch, self.batch_pos)
        try:
            return [next(batches) for _ in range(n)]
        except RuntimeError as exc:  # "DataLoader worker (pid N) is killed by signal: Terminated"
            if not self._stop_requested:
                raise
            self.epoch, self.batch_pos = position
            raise _StoppedBeforeStep from exc

    def _prepare(self, batch: Batch) -> Batch:
        if self.precision.channels_last and batch.x.dim() == 4:
            batch.x = batch.x.contiguous(memory_format=torch.channels_last)
        return batch

    # --- one step --------------------------------------------------------------------------------
    def train_step(self, batches: Iterator[Batch]) -> tuple[dict[str, Tensor], dict[str, float]]:
        """One generator step: the discriminator's n_critic updates, then the generator's update(s).
        Returns the logged terms and what the end-of-step hooks reported."""
        self._schedule_learning_rates()
        fetched = self._next_batches(batches, self.hp.n_critic + self.lookahead)
        critic = self.discriminator_step(fetched[: self.hp.n_critic])
        ahead = fetched[self.hp.n_critic :]
        logs = critic.logs | self._generator_step_ahead(critic.views, ahead)
        for _ in range(self.config.g_steps - 1):
            # A further update needs fakes of the generator just updated: fresh noise, the same real batch.
            with torch.enable_grad(), self.autocast():
                views = self._views(fetched[self.hp.n_critic - 1])
            logs |= self._generator_step_ahead(views, ahead)
        if self.ema is not None:
            self.ema.update(self.model.generator, self.step)
        stats: dict[str, float] = {}
        end = StepContext(self.model, critic.views.detach(), critic.real, critic.fake, self.step)
        for hooks in self.hooks:
            stats.update(hooks.end_step(end, stats))
        return logs, stats

    def _schedule_learning_rates(self) -> None:
        """--lr-decay-until: both rates fall in a straight line from their set values to 0 at that step.
        They follow from the step count alone, so a resumed run takes the same rates step for step."""
        until = self.config.lr_decay_until
        if until is None:
            return
        scale = 1 - self.step / until
        for opt, lr in ((self.opt_g, self.hp.lr_g), (self.opt_d, self.hp.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def discriminator_step(self, fetched: list[Batch]) -> CriticResult:
        # (1) Update D: maximize its objective over n_critic updates, each on a fresh real batch,
        # generator frozen. Only the last update keeps the generator's graph, for step (2).
        for i, batch in enumerate(fetched):
            result = self._critic_update(batch, keep_graph=i == len(fetched) - 1)
        return result

    def _critic_update(self, batch: Batch, *, keep_graph: bool) -> CriticResult:
        # With keep_graph the views are built with autograd on and D sees a detached copy: the
        # generator step reuses these fakes instead of running G again.
        with torch.set_grad_enabled(keep_graph), self.autocast():
            views_g = self._views(batch)
        views = views_g.detach() if keep_graph else views_g
        with self.autocast():
            real, fake = self.model.critic(views.real), self.model.critic(views.fake)
            ctx = StepContext(self.model, views, real, fake, self.step, self._grad_scale(self.scaler_d))
            terms = self._with_terms("d", {"d_adv": self.loss.d_loss(real, fake)}, ctx)
        total = sum(terms.values())
        self._backward(total, self.scaler_d, self.opt_d, self.d_params)
        for hooks in self.hooks:
            hooks.after_d_step(self.model)
        return CriticResult({**terms, "d_total": total}, views_g, DOut(real.score.detach()), DOut(fake.score.detach()))

    def _generator_step_ahead(self, views: Views, ahead: list[Batch]) -> dict[str, Tensor]:
        """Step (2), against D advanced one update per batch of ``ahead`` when a hook owner asks for
        a look-ahead (unrolled GANs, first order: no gradient through D's updates); D, its
        optimizer and scaler, and every buffer then go back to where step (1) left them."""
        if not ahead:
            return self.generator_step(views)
        snapshot = DiscriminatorSnapshot(self.d_params, self.hooks, self.opt_d, self.scaler_d)
        try:
            for batch in ahead:
                self._critic_update(batch, keep_graph=False)
            return self.generator_step(views)
        finally:
            snapshot.restore()

    def generator_step(self, views: Views) -> dict[str, Tensor]:
        # (2) Update G: make D take the fakes of the last critic update for real, on that update's
        # batch; D is frozen, so its weights collect no gradients.
        with _frozen(self.d_params):
            with self.autocast():
                fake = self.model.critic(views.fake)
                needs_real = views.real_depends_on_generator or self.g_uses_real
                real = self.model.critic(views.real) if needs_real else None
                ctx = StepContext(self.model, views, real, fake, self.step, self._grad_scale(self.scaler_g))
                terms = self._with_terms("g", {"g_adv": self.loss.g_loss(real, fake)}, ctx)
            total = sum(terms.values())
            self._backward(total, self.scaler_g, self.opt_g, self.g_params)
        return {**terms, "g_total": total}

    def _views(self, batch: Batch) -> Views:
        z = self.model.sample_latent(len(batch), generator=self.noise).to(self.device)
        views = self.model.views(batch, z)
        for trick in self.tricks:
            views.real = trick.d_input(views.real, self.step)
            views.fake = trick.d_input(views.fake, self.step)
        return views

    def _with_terms(self, side: str, terms: dict[str, Tensor], ctx: StepContext) -> dict[str, Tensor]:
        """``terms`` plus every hook owner's extra terms for ``side``, logged as ``<side>_<name>``."""
        for hooks in self.hooks:
            for name, value in hooks.terms(side, ctx).items():
                key = f"{side}_{name}"
                if key in terms:
                    raise ConfigError(f"{type(hooks).__name__} adds a term {key!r} that another plugin already added; rename one")
                terms[key] = value
        return terms

    @staticmethod
    def _grad_scale(scaler: torch.amp.GradScaler) -> float:
        return scaler.get_scale() if scaler.is_enabled() else 1.0

    def _backward(self, total: Tensor, scaler: torch.amp.GradScaler, opt: torch.optim.Optimizer, params: list[nn.Parameter]) -> None:
        opt.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        if self.dist.enabled:
            distributed.average_gradients(params, self.dist.world_size)
        scaler.step(opt)
        scaler.update()

    # --- the loop --------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        if not self._open_run():  # a finished run resumed to its own step: nothing touched
            return TrainResult(self.run_dir, self.step, 0.0, {}, self._resumed_from, None, status="nothing to do")
        batches = self._batches()
        book = _Bookkeeping(self.step, self._previous_wall_time())
        bar = self._progress_bar()
        previous = _install_stop_handler(self)
        try:
            self._train(batches, book, bar)
            status = "done" if self.step >= self.config.steps else "interrupted" if self._stop_requested else "time budget"
            saved = book.checkpoint is not None and book.checkpoint.name == checkpoint.step_name(self.step)
            if status != "done" and self.step > book.start_step and not saved:
                book.checkpoint = self.save_checkpoint()  # interrupted or out of time: keep the progress
        finally:
            batches.close()  # shuts DataLoader workers down now rather than at garbage collection
            self._close(previous, bar)
        return self._finish(book, status)

    def _train(self, batches: Iterator[Batch], book: "_Bookkeeping", bar: Any) -> None:
        while self.step < self.config.steps and not self._stop_requested and not book.over_budget(self.config.time_budget_s):
            try:
                logs, stats = self.train_step(batches)
            except _StoppedBeforeStep:  # the workers died of the stop signal; this step never began
                return
            self.step += 1
            self._after_step(logs, stats, book, bar)

    def _after_step(self, logs: dict[str, Tensor], stats: dict[str, float], book: "_Bookkeeping", bar: Any) -> None:
        c, step = self.config, self.step
        final = step == c.steps
        # On a GPU a finiteness check syncs the stream, so there it runs with the logging only.
        check_every = 1 if self.device.type == "cpu" else c.log_every
        if step % check_every == 0 or step % c.checkpoint_every == 0 or final:
            self._check_finite(logs)
        if step % c.log_every == 0 or final:
            book.last = {k: float(v.detach()) for k, v in logs.items()} | stats
            self._log(book.last, book.rate(step, self.images_per_step))
            if bar is not None:
                bar.set_postfix_str(f"D {book.last['d_total']:.3f} G {book.last['g_total']:.3f} {book.window_rate:.0f} img/s", refresh=False)
        if bar is not None:
            bar.update(1)
        if step % c.sample_every == 0 or final:
            book.grid = self.save_grid()
        if step % c.checkpoint_every == 0 or final:
            book.checkpoint = self.save_checkpoint()

    def _open_run(self) -> bool:
        """Load the checkpoint a resume continues, then prepare the folder; False (and nothing
        written) when a resumed run is already at its --steps."""
        if self.resume:
            self._resume_checkpoint()
            if self.step == self.config.steps:
                return False
        elif self.dist.is_main and ((self.run_dir / CHECKPOINTS / "latest").exists() or checkpoint.complete(self.run_dir)):
            raise ConfigError(f"{self.run_dir} already holds a run; pass --resume to continue it or choose another --out")
        if self.dist.is_main:
            self._prepare_folder()
        return True

    def _resume_checkpoint(self) -> None:
        if self.resume_from is not None:
            ckpt = checkpoint.named(self.run_dir, self.resume_from)
            step, weights, state = checkpoint.load(ckpt)
        else:
            found = checkpoint.load_latest(self.run_dir)
            if found is None:
                raise CheckpointError(f"nothing to resume: {self.run_dir} has no checkpoint yet; drop --resume")
            ckpt, step, weights, state = found
        if step > self.config.steps:
            raise ConfigError(f"{self.run_dir} is already at step {step} ({ckpt.name}); --steps {self.config.steps} would go back: "
                              f"pass --steps above {step} to train further (the run is left as it is)")
        self._load(ckpt, step, weights, state)
        self._resumed_from = ckpt
        for change in self.changes:
            change.setdefault("step", step)  # this resume's changes take effect from its checkpoint

    def _prepare_folder(self) -> None:
        """Create the folder, clear what a killed run left (temporary checkpoint folders, metrics
        logged past the step training restarts from) and write config.json."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create --out {self.run_dir} ({exc.strerror}); choose another folder") from None
        checkpoint.clean_stale(self.run_dir)
        self._truncate_metrics()
        self._run_config = self.run_config()
        write_json(self.run_dir / CONFIG, self._run_config)
        if self.config.tensorboard:
            self._writer = _summary_writer(self.run_dir / "tensorboard")

    def _truncate_metrics(self) -> None:
        """metrics.jsonl keeps the lines up to the step training starts from (none for a new run), so
        no step is logged twice after a resume; a line torn by a kill goes too."""
        path = self.run_dir / METRICS
        if not path.is_file():
            return
        lines = path.read_text(errors="replace").splitlines()
        steps = [_logged_step(line) for line in lines]
        kept = [line for line, step in zip(lines, steps) if step is not None and step <= self.step]
        if len(kept) != len(lines):
            write_atomic(path, lambda p: p.write_text("".join(line + "\n" for line in kept)))

    def _close(self, previous_handlers: dict[int, Any], bar: Any) -> None:
        _restore_stop_handler(previous_handlers)
        if bar is not None:
            bar.close()
        if self._writer is not None:
            self._writer.close()
        distributed.shutdown(self.dist)

    def _finish(self, book: "_Bookkeeping", status: str) -> TrainResult:
        elapsed = book.elapsed()
        rate = (self.step - book.start_step) * self.images_per_step / max(elapsed, 1e-9) or book.window_rate
        if self.dist.is_main:
            self._write_summary(book.wall_before + elapsed, rate)
        return TrainResult(self.run_dir, self.step, rate, book.last, book.checkpoint, book.grid, status)

    def _progress_bar(self) -> Any:
        if not self.progress:
            return None
        desc = f"{self.config.arch.name}/{self.config.loss.name}"
        return tqdm(total=self.config.steps, initial=self.step, desc=desc, unit="step", dynamic_ncols=True, mininterval=0.5)

    def _previous_wall_time(self) -> float:
        path = self.run_dir / SUMMARY
        if not (self.resume and path.is_file()):
            return 0.0
        return RunSummary.from_json(read_json(path, "run summary")).wall_time_s or 0.0

    def _write_summary(self, wall_time_s: float, rate: float) -> None:
        """RUN/summary.json: what model cards report about training (wall time adds up over resumes)."""
        threads = torch.get_num_threads()
        hardware = (torch.cuda.get_device_name(self.device) if self.device.type == "cuda"
                    else f"CPU ({threads} thread{'' if threads == 1 else 's'})")
        summary = RunSummary(
            step=self.step, wall_time_s=round(wall_time_s, 2), images_seen=self.step * self.images_per_step,
            images_per_second_last_session=round(rate, 1), hardware=hardware, world_size=self.dist.world_size,
            precision=self.precision.precision, torch_version=str(torch.__version__), ganzoo_version=__version__,
        )
        write_json(self.run_dir / SUMMARY, summary.to_json())

    def _check_finite(self, logs: dict[str, Tensor]) -> None:
        for name, value in logs.items():
            if not torch.isfinite(value).all():
                raise NonFiniteLossError(f"{name} became {float(value.detach())} at step {self.step}; {self._recovery()}")

    def _last_good(self) -> Path | None:
        with contextlib.suppress(CheckpointError):
            return checkpoint.latest(self.run_dir)
        return None

    def _recovery(self) -> str:
        """What a diverged run keeps, and a command that continues it with lower learning rates."""
        ckpt = self._last_good()
        lower = f"--lr-g {self.hp.lr_g / 2:g} --lr-d {self.hp.lr_d / 2:g}"
        if ckpt is None:
            return (f"no checkpoint was written yet: rerun the command with lower learning rates ({lower}), "
                    "or with a regularizer (--trick) or another loss")
        return (f"the last good checkpoint {ckpt} is kept: rerun the command with --resume {lower} (a resume may change "
                "the learning rates, --n-critic and tricks' arguments), or start a new --out with a regularizer or another loss")

    def _log(self, values: dict[str, float], rate: float) -> None:
        if not self.dist.is_main:
            return
        record = {"step": self.step, "images_per_second": round(rate, 2), **{k: round(v, 6) for k, v in values.items()}}
        with open(self.run_dir / METRICS, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"loss/{key}", value, self.step)
            self._writer.add_scalar("perf/images_per_second", rate, self.step)

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
        picture = sample_picture(samples, self.grid_nrow)
        path = save_png(picture, self.run_dir / "samples" / f"step-{self.step:08d}.png")
        if self._writer is not None:  # TensorBoard shows the grid next to the losses
            self._writer.add_image("samples", picture.numpy(), self.step, dataformats="HWC")
        return path

    # --- checkpoints -----------------------------------------------------------------------------
    def _stateful(self) -> dict[str, nn.Module]:
        """The modules whose tensors a checkpoint holds, by section (see engine/checkpoint.py)."""
        modules: dict[str, nn.Module] = {checkpoint.MODEL: self.model}
        if self.ema is not None:
            modules[checkpoint.EMA] = self.ema
        modules[checkpoint.LOSS] = self.loss
        modules.update({checkpoint.trick_section(i): t for i, t in enumerate(self.tricks)})
        return modules

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of this step, unless a weight or an optimizer state is not finite: then
        nothing is written (every rank holds the same weights, so all of them stop)."""
        weights, state = checkpoint.pack(self._stateful()), self._trainer_state()
        bad = checkpoint.first_non_finite(weights, state)
        if bad is not None:
            raise NonFiniteLossError(f"{bad} became NaN or infinite at step {self.step}, so no checkpoint was written; {self._recovery()}")
        if not self.dist.is_main:
            distributed.barrier(self.dist)
            return None
        path = self._write_checkpoint(weights, state)
        distributed.barrier(self.dist)
        return path

    def _write_checkpoint(self, weights: dict[str, Tensor], state: dict[str, Any]) -> Path:
        try:
            return checkpoint.save(self.run_dir, self.step, weights, state, self.config.keep_checkpoints, self._run_config)
        except OSError as exc:  # a full disk, a folder made read-only: the previous checkpoint is untouched
            last = self._last_good()
            kept = f"the last checkpoint {last} is intact" if last else "no earlier checkpoint exists"
            where = self.run_dir / CHECKPOINTS / checkpoint.step_name(self.step)
            raise CheckpointWriteError(f"could not write checkpoint {where} ({exc.strerror or exc}); {kept}; "
                                  "free space or fix the folder, then rerun the command with --resume") from exc

    def _trainer_state(self) -> dict[str, Any]:
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
        return state

    def _load(self, ckpt: Path, step: int, weights: dict[str, Tensor], state: dict[str, Any]) -> None:
        parts = checkpoint.sections(weights)
        for name, module in self._stateful().items():
            checkpoint.load_strict(module, parts.get(name, {}), f"{ckpt.name}:{name}")
        try:
            self._load_trainer_state(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # a state for another optimizer or setup
            raise CheckpointError(f"{ckpt / 'trainer.json'}: its trainer state does not fit this run ({type(exc).__name__}: "
                                  f"{str(exc)[:200]}); resume from another checkpoint with --resume-from") from exc
        for opt, lr in ((self.opt_g, self.hp.lr_g), (self.opt_d, self.hp.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr  # the saved state holds the old rate; a resume may have changed it
        self.step = step

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        torch.set_rng_state(state["rng_torch"])
        self.noise.set_state(state["rng_noise"])
        random.setstate(_to_python_rng(state["rng_python"]))
        if "rng_cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.epoch, self.batch_pos = int(state["epoch"]), int(state["batch_pos"])


class _Bookkeeping:
    """Clocks and the latest outputs of one ``fit``: throughput windows, the time budget, the last
    logged values, grid and checkpoint."""

    def __init__(self, start_step: int, wall_before: float) -> None:
        self.start_step, self.wall_before = start_step, wall_before
        self.started = self.window_t = time.perf_counter()
        self.window_step = start_step
        self.window_rate = 0.0
        self.last: dict[str, float] = {}
        self.grid: Path | None = None
        self.checkpoint: Path | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def over_budget(self, budget_s: float | None) -> bool:
        return budget_s is not None and self.wall_before + self.elapsed() >= budget_s

    def rate(self, step: int, images_per_step: int) -> float:
        """Images per second since the previous call."""
        now = time.perf_counter()
        self.window_rate = (step - self.window_step) * images_per_step / max(now - self.window_t, 1e-9)
        self.window_t, self.window_step = now, step
        return self.window_rate


class _StoppedBeforeStep(Exception):
    """The data of a step could not be fetched because a stop signal killed the DataLoader workers."""


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader worker_init_fn: SIGTERM/SIGINT sent to the whole process group (systemd, Slurm,
    Ctrl-C) are the main process's to handle; it finishes the step, saves, and stops the workers."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _logged_step(line: str) -> int | None:
    """The step of a metrics.jsonl line; None for a line a kill tore."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    step = record.get("step") if isinstance(record, dict) else None
    return step if isinstance(step, int) else None


class _IndexBatches(torch.utils.data.Dataset):
    """Each item is a whole batch, so DataLoader workers can prefetch batches from disk."""

    def __init__(self, data: Any, batches: list[Tensor]) -> None:
        self.data, self.batches = data, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> Batch:
        return self.data.get_batch(self.batches[i])


def _summary_writer(folder: Path) -> Any:
    try:  # tensorboard is an optional extra, so it is imported only when asked for
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install 'ganzoo[tensorboard]'") from None
    return SummaryWriter(str(folder))


@contextlib.contextmanager
def _frozen(params: list[nn.Parameter]) -> Iterator[None]:
    """Parameters that collect no gradients inside the block (the other player's, in a step)."""
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _python_rng() -> list[Any]:
    version, state, gauss = random.getstate()
    return [version, list(state), gauss]


def _to_python_rng(saved: list[Any]) -> tuple[Any, ...]:
    version, state, gauss = saved
    return (version, tuple(state), gauss)


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
