"""The run configuration: plugins with their arguments, and the engine's own settings.

Each engine setting is declared once, as a field made by :func:`setting`: its default, its help (the
``ganzoo train`` option is generated from both), whether a resumed run may change it, and the bounds
:meth:`TrainConfig.validate` checks. Choices come from the field's ``Literal`` type. Torch-free, so
``ganzoo train --help`` stays fast.

A resume may change two kinds of settings: bookkeeping (``resumable``: steps, logging, the device)
freely, and the hyper-parameters a diverging run needs changed (``tunable``: the learning rates and
their decay, n_critic, g_steps and every trick's arguments), each change recorded with its step in
the run's config.json under ``resume_changes``.
"""
from __future__ import annotations

import math
import typing
from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

from .. import registry
from ..args import coerce, jsonable
from ..build import PluginSpec
from ..errors import ConfigError, GanzooError

Precision = Literal["auto", "fp32", "bf16", "fp16"]


@dataclass(frozen=True)
class Bounds:
    """An interval a setting (each item of a tuple setting) must lie in; None leaves a side open-ended."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: float) -> bool:
        above = self.low is None or value > self.low or (value == self.low and not self.low_open)
        below = self.high is None or value < self.high or (value == self.high and not self.high_open)
        return above and below

    def __str__(self) -> str:
        if self.high is None:
            if self.low == 0 and self.low_open:
                return "positive"
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return f"in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}{')' if self.high_open else ']'}"


def _number(value: float | None) -> str:
    """4294967295 rather than 4.29497e+09, 0.5 as 0.5."""
    return str(int(value)) if value is not None and float(value).is_integer() else f"{value:g}"


POSITIVE = Bounds(0, low_open=True)
NON_NEGATIVE = Bounds(0)
SEEDS = Bounds(0, 2**32 - 1)  # data order and noise seed generators with seed * 1_000_003: keep that in 64 bits


@dataclass(frozen=True)
class Setting:
    """What the command line and validation know about an engine field, besides its type and default."""

    help: str
    resumable: bool = False  # may differ between a run and its --resume
    tunable: bool = False  # may be changed by a --resume, which records the change in config.json
    bounds: Bounds | None = None
    option: str | None = None  # the `ganzoo train` option when it is not --field-name
    metavar: str | None = None
    none_words: tuple[str, ...] = ()  # command-line spellings of None besides "none"


def setting(default: Any, help: str, **facts: Any) -> Any:
    """A TrainConfig engine field; ``facts`` are :class:`Setting`'s other fields."""
    return field(default=default, metadata={"setting": Setting(help, **facts)})


@dataclass
class TrainConfig:
    """Everything that determines a run. Optimizer fields left as None take the plugins' defaults."""

    arch: PluginSpec
    loss: PluginSpec
    dataset: PluginSpec
    tricks: list[PluginSpec] = field(default_factory=list)
    steps: int = setting(1000, "Generator steps to train to.", resumable=True, bounds=POSITIVE)
    batch_size: int = setting(64, "Batch size per process.", bounds=POSITIVE)
    seed: int = setting(0, "Random seed (initial weights, data order, noise).", bounds=SEEDS)
    optimizer: Literal["adam", "rmsprop", "sgd"] | None = setting(None, "Default: the loss's / architecture's paper choice.")
    lr_g: float | None = setting(None, "Generator learning rate (default: the paper's); a --resume may change it.",
                                 bounds=POSITIVE, tunable=True)
    lr_d: float | None = setting(None, "Discriminator learning rate (two time-scale rule when different); a --resume "
                                 "may change it.", bounds=POSITIVE, tunable=True)
    lr_decay_until: int | None = setting(
        None, "Lower both learning rates in a straight line to 0 at this generator step (usually the final --steps); "
        "unset keeps them constant. A --resume may change it.", bounds=POSITIVE, tunable=True, metavar="STEP")
    betas: tuple[float, float] | None = setting(
        None, "Adam betas (default: the paper's).", bounds=Bounds(0, 1, high_open=True), metavar="B1,B2")
    n_critic: int | None = setting(None, "Discriminator steps per generator step (default: the loss's); a --resume may "
                                   "change it.", bounds=POSITIVE, tunable=True)
    g_steps: int = setting(1, "Generator updates per step, each on fresh noise after the discriminator's (PacGAN's "
                           "stacked-MNIST code runs 2); a --resume may change it.", bounds=POSITIVE, tunable=True)
    # None disables the averaged generator; "--ema 0" and "--ema off" have always meant that too.
    ema: float | None = setting(
        0.999, "Generator EMA decay, or 'none'.", bounds=Bounds(0, 1, low_open=True, high_open=True), none_words=("off", "0"))
    ema_start: int = setting(0, "Step from which the EMA averages (copies before).", bounds=NON_NEGATIVE)
    precision: Precision = setting(
        # auto: benchmarks/precision/ shows it costs DCGAN no FID against fp32 (same seeds and budget).
        "auto", "Mixed-precision autocast dtype (fp32: none); auto picks bf16 where the hardware runs it "
        "natively (AMX/AVX512-BF16 CPUs, bf16 GPUs) and fp32 elsewhere, and says why.")
    channels_last: bool | None = setting(
        None, "channels_last memory format (default: on for conv nets under mixed precision).", metavar="")
    compile: bool = setting(False, "torch.compile the generator and discriminator.")
    device: str = setting("auto", "auto, cpu, cuda or cuda:N.", resumable=True)
    sample_every: int = setting(100, "Write a sample grid every N steps.", resumable=True, bounds=POSITIVE)
    checkpoint_every: int = setting(100, "Write a checkpoint every N steps.", resumable=True, bounds=POSITIVE)
    keep_checkpoints: int = setting(3, "Checkpoints to keep (0 keeps all).", resumable=True, bounds=NON_NEGATIVE)
    log_every: int = setting(10, "Log losses to metrics.jsonl every N steps.", resumable=True, bounds=POSITIVE)
    num_workers: int = setting(0, "DataLoader workers for on-disk datasets.", resumable=True, bounds=NON_NEGATIVE)
    tensorboard: bool = setting(False, "Also write TensorBoard scalars and sample grids to RUN/tensorboard.", resumable=True)
    time_budget_s: float | None = setting(
        None, "Stop (with a checkpoint) once the run's total wall time reaches this many seconds.",
        resumable=True, bounds=POSITIVE, option="--time-budget")

    RESUMABLE_CHANGES: ClassVar[tuple[str, ...]]  # set below from the fields' Setting.resumable
    TUNABLE: ClassVar[tuple[str, ...]]  # set below from the fields' Setting.tunable

    def validate(self) -> None:
        """Check every engine setting against its type's choices and its declared bounds."""
        for f in ENGINE_FIELDS:
            check_setting(f, getattr(self, f.name), option_name(f).lstrip("-"))

        if self.lr_decay_until is not None and self.steps > self.lr_decay_until:
            raise ConfigError(f"--steps {self.steps} runs past --lr-decay-until {self.lr_decay_until}, where the learning "
                              "rates reach 0; give a --lr-decay-until of at least --steps")

    def engine_settings(self) -> dict[str, Any]:
        """The "training" section of config.json."""
        return {f.name: jsonable(getattr(self, f.name)) for f in ENGINE_FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        settings = dict(data.get("training") or {})
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in settings.items() if k in known}
        if kwargs.get("betas") is not None:
            kwargs["betas"] = tuple(kwargs["betas"])
        return cls(
            arch=PluginSpec.from_json(data["architecture"]),
            loss=PluginSpec.from_json(data["loss"]),
            dataset=PluginSpec.from_json(data["dataset"]),
            tricks=[PluginSpec.from_json(t) for t in data.get("tricks") or []],
            **kwargs,
        )


ENGINE_FIELDS: tuple[Field, ...] = tuple(f for f in fields(TrainConfig) if "setting" in f.metadata)
HINTS: dict[str, Any] = typing.get_type_hints(TrainConfig)
TrainConfig.RESUMABLE_CHANGES = tuple(f.name for f in ENGINE_FIELDS if f.metadata["setting"].resumable)
TrainConfig.TUNABLE = tuple(f.name for f in ENGINE_FIELDS if f.metadata["setting"].tunable)


def setting_of(f: Field) -> Setting:
    return f.metadata["setting"]


def check_setting(f: Field, value: Any, label: str) -> None:
    """Check one engine setting's value against its type's choices and its declared bounds."""
    hint, facts = HINTS[f.name], setting_of(f)
    if value is None:
        if not _optional(hint):
            raise ConfigError(f"{label} must be set")
        return
    choices = literal_choices(hint)
    if choices and value not in choices:
        raise ConfigError(f"{label} must be one of {', '.join(map(str, choices))}, got {value!r}")
    items = value if isinstance(value, (tuple, list)) else (value,)
    if any(isinstance(v, float) and not math.isfinite(v) for v in items):
        raise ConfigError(f"{label} must be a finite number, got {value}")
    if facts.bounds is not None and not all(facts.bounds.holds(v) for v in items):
        # Say "or 'none'" where None is a choice rather than "use the default".
        none = " or 'none'" if f.default is not None and _optional(hint) else ""
        raise ConfigError(f"{label} must be {facts.bounds}{none}, got {value}")


def option_name(f: Field) -> str:
    """The field's `ganzoo train` option: --time-budget for time_budget_s, else --field-name."""
    return setting_of(f).option or "--" + f.name.replace("_", "-")


def default(name: str) -> Any:
    """A TrainConfig engine field's default, for other commands that build a TrainConfig."""
    return next(f.default for f in ENGINE_FIELDS if f.name == name)


def literal_choices(hint: Any) -> tuple[Any, ...]:
    """The values of a ``Literal`` (or ``Literal | None``) annotation; () for any other type."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    if _optional(hint):
        return next((literal_choices(a) for a in typing.get_args(hint) if a is not type(None)), ())
    return ()


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def differences(saved: TrainConfig, requested: TrainConfig) -> list[str]:
    """Settings that differ between a saved run and a resume request, ignoring resumable and tunable
    ones (and tricks' arguments, which are tunable)."""
    out = []
    a, b = asdict(saved), asdict(requested)
    for key in a:
        if key in TrainConfig.RESUMABLE_CHANGES or key in TrainConfig.TUNABLE:
            continue
        if key in ("arch", "loss", "dataset"):
            wanted = _typed(key, b[key]) if a[key]["name"] == b[key]["name"] else b[key]["args"]
            if a[key]["name"] != b[key]["name"] or (wanted and jsonable(a[key]["args"]) != jsonable({**a[key]["args"], **wanted})):
                out.append(f"{key} {a[key]['name']} -> {b[key]['name']}")
        elif key == "tricks":
            if [t["name"] for t in a[key]] != [t["name"] for t in b[key]]:
                out.append("tricks")
        elif jsonable(a[key]) != jsonable(b[key]):
            out.append(f"{key} {a[key]} -> {b[key]}")
    return out


def resume_changes(saved: TrainConfig, requested: TrainConfig) -> list[dict[str, Any]]:
    """The tunable settings a resume request changes, as ``{"setting", "from", "to"}``: a learning
    rate or n_critic given and different, a trick argument given and different (``tricks.<i>.<arg>``).
    A tunable setting the request leaves out keeps its saved value."""
    out = []
    for name in TrainConfig.TUNABLE:
        old, new = getattr(saved, name), getattr(requested, name)
        if new is not None and jsonable(new) != jsonable(old):
            out.append({"setting": name, "from": old, "to": new})
    for i, (old_trick, new_trick) in enumerate(zip(saved.tricks, requested.tricks)):
        for key, value in _typed("tricks", asdict(new_trick)).items():
            if jsonable(value) != jsonable(old_trick.args.get(key)):
                out.append({"setting": f"tricks.{i}.{key}", "from": jsonable(old_trick.args.get(key)), "to": jsonable(value)})
    return out


def apply_changes(config: TrainConfig, changes: list[dict[str, Any]]) -> None:
    """Apply :func:`resume_changes`' list to the saved config a resume continues."""
    for change in changes:
        setting = change["setting"]
        if setting.startswith("tricks."):
            _, index, key = setting.split(".", 2)
            config.tricks[int(index)].args[key] = change["to"]
        else:
            setattr(config, setting, change["to"])


def _typed(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Command-line arguments arrive as strings ("32"); compare them as the plugin's typed values."""
    kind = {"arch": registry.architectures, "loss": registry.losses, "dataset": registry.datasets, "tricks": registry.tricks}[key]
    try:
        return jsonable(coerce(kind.get(spec["name"]), spec["args"], owner=f"{kind.kind} {spec['name']!r}"))
    except GanzooError:  # an unknown name or bad value is reported when the run is built
        return spec["args"]
