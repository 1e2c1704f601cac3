"""What a run records besides its configuration: RUN/summary.json and config.json's "resolved" section.

The trainer writes them with ``to_json``; cards, ``ganzoo info`` and benchmarks read them with
``from_json``, which never raises: a missing key, an unknown key or a value of the wrong type (an
older or hand-edited file) reads as None, and the reader says "not recorded" instead of crashing.
Torch-free, because cards and ``ganzoo info`` read these without training anything.
"""
from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping, TypeVar

from .args import jsonable

R = TypeVar("R", bound="_Record")


class _Record:
    """``to_json``/``from_json`` for a dataclass whose fields are all ``X | None``."""

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls: type[R], data: Any) -> R:
        data = data if isinstance(data, Mapping) else {}
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _typed(data.get(f.name), hints[f.name]) for f in fields(cls)})


def _typed(value: Any, hint: Any) -> Any:
    """``value`` if it has the annotated type (an int passes as a float, a list as a tuple), else None."""
    kind = next(a for a in typing.get_args(hint) if a is not type(None))  # every field is X | None
    if typing.get_origin(kind) is tuple:
        items = typing.get_args(kind)
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            return None
        typed = tuple(_typed(v, t | None) for v, t in zip(value, items))
        return None if None in typed else typed
    if isinstance(value, bool) != (kind is bool):  # JSON true is not a step count, nor 1 a flag
        return None
    if kind is float and isinstance(value, int):
        return float(value)
    return value if isinstance(value, kind) else None


@dataclass
class RunSummary(_Record):
    """RUN/summary.json: how training went, as model cards report it (wall time adds up over resumes)."""

    step: int | None = None
    wall_time_s: float | None = None
    images_seen: int | None = None
    images_per_second_last_session: float | None = None
    hardware: str | None = None
    world_size: int | None = None
    precision: str | None = None
    torch_version: str | None = None
    ganzoo_version: str | None = None


@dataclass
class Resolved(_Record):
    """config.json "resolved": the optimizer settings after the plugins' defaults filled the gaps."""

    optimizer: str | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    n_critic: int | None = None
    precision: str | None = None  # what --precision (auto by default) resolved to, and why
    channels_last: bool | None = None
    precision_reason: str | None = None
