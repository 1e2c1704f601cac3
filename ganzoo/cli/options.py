"""Option parsing shared by commands: plugin specs from the command line."""
from __future__ import annotations

from ..args import parse_pairs
from ..build import PluginSpec
from ..errors import ConfigError


def trick_specs(values: tuple[str, ...]) -> list[PluginSpec]:
    """``--trick r1:gamma=10,every=4`` -> PluginSpec("r1", {"gamma": "10", "every": "4"})."""
    specs = []
    for value in values:
        name, _, rest = value.partition(":")
        if not name:
            raise ConfigError(f"--trick expects NAME or NAME:KEY=VALUE,..., got {value!r}")
        specs.append(PluginSpec(name, parse_pairs([p for p in rest.split(",") if p], f"--trick {name}")))
    return specs


def float_or_none(text: str | None, option: str) -> float | None:
    if text is None or text.lower() in ("none", "off", "0"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{option} must be a number or 'none', got {text!r}") from None


def betas(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        b1, b2 = (float(p) for p in text.split(","))
    except ValueError:
        raise ConfigError(f"--betas expects two numbers like 0.5,0.999, got {text!r}") from None
    return (b1, b2)
