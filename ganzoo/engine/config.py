"""The run configuration: plugins with their arguments, and the engine's own settings."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ..build import PluginSpec
from ..errors import ConfigError

Precision = Literal["fp32", "bf16", "fp16"]


@dataclass
class TrainConfig:
    """Everything that determines a run. Optimizer fields left as None take the plugins' defaults."""

    arch: PluginSpec
    loss: PluginSpec
    dataset: PluginSpec
    tricks: list[PluginSpec] = field(default_factory=list)
    steps: int = 1000
    batch_size: int = 64
    seed: int = 0
    optimizer: Literal["adam", "rmsprop", "sgd"] | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    n_critic: int | None = None
    ema: float | None = 0.999  # None disables the averaged generator
    ema_start: int = 0
    precision: Precision = "fp32"
    channels_last: bool = False
    compile: bool = False
    device: str = "auto"
    sample_every: int = 100
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    log_every: int = 10
    num_workers: int = 0
    tensorboard: bool = False
    time_budget_s: float | None = None  # stop (with a checkpoint) once the run's total wall time reaches this

    # Settings that may change between a run and its resumption.
    RESUMABLE_CHANGES = ("steps", "sample_every", "checkpoint_every", "keep_checkpoints", "log_every", "num_workers", "tensorboard", "device", "time_budget_s")

    def validate(self) -> None:
        positive = ("steps", "batch_size", "sample_every", "checkpoint_every", "log_every")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        for name in ("lr_g", "lr_d", "n_critic"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, got {value}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ConfigError(f"ema must be in (0, 1) or 'none', got {self.ema}")
        if self.betas is not None and not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"betas must be in [0, 1), got {self.betas}")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ConfigError(f"time budget must be positive, got {self.time_budget_s}")
        if self.num_workers < 0 or self.keep_checkpoints < 0:
            raise ConfigError("num-workers and keep-checkpoints must be >= 0")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ConfigError(f"precision must be fp32, bf16 or fp16, got {self.precision!r}")

    def engine_settings(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            if f.name not in ("arch", "loss", "dataset", "tricks"):
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

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


def differences(saved: TrainConfig, requested: TrainConfig) -> list[str]:
    """Settings that differ between a saved run and a resume request, ignoring resumable ones."""
    out = []
    a, b = asdict(saved), asdict(requested)
    for key in a:
        if key in TrainConfig.RESUMABLE_CHANGES:
            continue
        if key in ("arch", "loss", "dataset"):
            wanted = _typed(key, b[key]) if a[key]["name"] == b[key]["name"] else b[key]["args"]
            if a[key]["name"] != b[key]["name"] or (wanted and _norm(a[key]["args"]) != _norm({**a[key]["args"], **wanted})):
                out.append(f"{key} {a[key]['name']} -> {b[key]['name']}")
        elif key == "tricks":
            if [t["name"] for t in a[key]] != [t["name"] for t in b[key]]:
                out.append("tricks")
        elif _norm(a[key]) != _norm(b[key]):
            out.append(f"{key} {a[key]} -> {b[key]}")
    return out


def _typed(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Command-line arguments arrive as strings ("32"); compare them as the plugin's typed values."""
    from .. import registry
    from ..args import coerce, jsonable
    from ..errors import GanzooError

    kind = {"arch": registry.architectures, "loss": registry.losses, "dataset": registry.datasets}[key]
    try:
        return jsonable(coerce(kind.get(spec["name"]), spec["args"], owner=f"{kind.kind} {spec['name']!r}"))
    except GanzooError:  # an unknown name or bad value is reported when the run is built
        return spec["args"]


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value
