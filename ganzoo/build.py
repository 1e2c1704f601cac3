"""Building plugins from names and typed arguments, and refusing incompatible combinations early."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from . import args as typed_args
from . import registry
from .errors import ConfigError, GanzooError, IncompatibleError

if TYPE_CHECKING:  # annotations only: PluginSpec (config.json, `ganzoo train --help`) must not load torch
    from .contracts import DataSpec, DatasetPlugin, GANModel, Loss, Trick


@dataclass
class PluginSpec:
    """A plugin by name with its constructor arguments (as in config.json)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_json(self, kind: registry.Registry) -> dict[str, Any]:
        entry = kind.entry(self.name)
        return {
            "name": self.name,
            "args": typed_args.jsonable(self.args),
            "distribution": entry.distribution,
            "version": entry.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PluginSpec":
        return cls(str(data["name"]), dict(data.get("args") or {}))

    @classmethod
    def parse(cls, text: str, option: str = "--trick") -> "PluginSpec":
        """``"r1:gamma=10,every=4"`` -> PluginSpec("r1", {"gamma": "10", "every": "4"}) (values stay text)."""
        name, _, rest = text.partition(":")
        if not name:
            raise ConfigError(f"{option} expects NAME or NAME:KEY=VALUE,..., got {text!r}")
        return cls(name, typed_args.parse_pairs([p for p in rest.split(",") if p], f"{option} {name}"))


def instantiate(kind: registry.Registry, spec: PluginSpec, fill: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """Construct a plugin; returns it with every constructor argument it was built with."""
    cls = kind.get(spec.name)
    owner = f"{kind.kind} {spec.name!r}"
    given = typed_args.coerce(cls, spec.args, owner=owner)
    params = typed_args.parameters(cls)
    for key, value in (fill or {}).items():
        if key in params and key not in given:
            given[key] = value
    try:
        obj = cls(**given)
    except GanzooError:
        raise
    except (ValueError, TypeError, RuntimeError, OverflowError, MemoryError) as exc:
        # torch says "negative dimension" or "can't allocate memory" for sizes no layer can have
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{owner}: {reason}; check its arguments") from exc
    resolved = {**typed_args.defaults(cls), **given}
    return obj, resolved


def check_compatible(arch: str, loss: str | None, tricks: list[str], data: DataSpec | None, dataset: str = "") -> None:
    """Refuse a combination before the first step, naming both sides of every mismatch."""
    arch_cls = registry.architectures.get(arch)
    data_caps = data.provides if data is not None else frozenset()
    if data is not None:
        missing = arch_cls.requires - data.provides
        if missing:
            raise IncompatibleError(
                f"architecture {arch!r} needs a dataset with {', '.join(sorted(missing))}, "
                f"but dataset {dataset!r} provides {', '.join(sorted(data.provides)) or 'nothing'}"
            )
    offered = arch_cls.provides | data_caps
    loss_cls = registry.losses.get(loss) if loss else None
    if loss_cls is not None:
        missing = loss_cls.requires - offered
        if missing:
            raise IncompatibleError(
                f"loss {loss!r} needs an architecture that provides {', '.join(sorted(missing))}; "
                f"architecture {arch!r} provides {', '.join(sorted(arch_cls.provides)) or 'nothing of the kind'}"
            )
    for name in tricks:
        trick_cls = registry.tricks.get(name)
        missing = trick_cls.requires - offered
        if missing:
            raise IncompatibleError(
                f"trick {name!r} needs {', '.join(sorted(missing))}, which architecture {arch!r}"
                f"{f' with dataset {dataset!r}' if dataset else ''} does not provide"
            )
        if loss_cls is not None:
            missing = trick_cls.requires_loss - loss_cls.provides
            if missing:
                raise IncompatibleError(
                    f"trick {name!r} needs a loss with {', '.join(sorted(missing))}; loss {loss!r} has none"
                )


def build_dataset(spec: PluginSpec) -> tuple[DatasetPlugin, dict[str, Any]]:
    """The dataset and its arguments, with any a dataset read from its files (``inferred_args``, e.g.
    an image folder's size) recorded as given, so a resume or an eval rebuilds the same data."""
    data, args = instantiate(registry.datasets, spec)
    return data, {**args, **getattr(data, "inferred_args", {})}


def check_batch_fits(batch_size: int, samples: int, dataset: str, processes: int = 1) -> None:
    """Refuse a batch larger than what each of ``processes`` holds of ``dataset``'s ``samples``."""
    per_process = samples // processes
    if batch_size > per_process:
        raise ConfigError(f"--batch-size {batch_size} is larger than the {per_process} samples of dataset {dataset!r}"
                          f"{' per process' if processes > 1 else ''}; lower --batch-size or add data")


def build_model(
    arch: PluginSpec, tricks: list[PluginSpec], data: DataSpec | None, loss: Loss | None = None
) -> tuple[GANModel, dict[str, Any], list[Trick], list[dict[str, Any]]]:
    """The architecture with its tricks attached; ``data`` fills shape arguments when given."""
    fill = data.architecture_defaults() if data is not None else {}
    model, arch_args = instantiate(registry.architectures, arch, fill)
    built_tricks, trick_args = [], []
    for spec in tricks:
        trick, resolved = instantiate(registry.tricks, spec)
        trick.attach(model, loss)
        built_tricks.append(trick)
        trick_args.append(resolved)
    return model, arch_args, built_tricks, trick_args


def build_loss(spec: PluginSpec) -> tuple[Loss, dict[str, Any]]:
    return instantiate(registry.losses, spec)
