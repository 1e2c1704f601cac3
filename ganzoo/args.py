"""Typed plugin arguments: the constructor signature is the schema.

``key=value`` strings from the command line are converted with the constructor's annotations, so a
plugin author writes ordinary typed keyword arguments and gets validation for free.
"""
from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Mapping

from .errors import ConfigError


def parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Keyword parameters of ``cls.__init__`` (without self / *args / **kwargs)."""
    sig = inspect.signature(cls.__init__)
    return {
        name: p
        for name, p in sig.parameters.items()
        if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        return {}


def defaults(cls: type) -> dict[str, Any]:
    return {n: p.default for n, p in parameters(cls).items() if p.default is not inspect.Parameter.empty}


def convert(text: str, hint: Any, label: str) -> Any:
    """``text`` as the annotated type; ``label`` starts the one-line error (``--betas``, ``... argument k``)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if text.lower() in ("none", "null") and len(options) < len(typing.get_args(hint)):
            return None
        errors = []
        for option in options:
            try:
                return convert(text, option, label)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{label}: cannot parse {text!r}")
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        for choice in choices:
            if str(choice) == text:
                return choice
        raise ConfigError(f"{label} must be one of {', '.join(map(str, choices))}, got {text!r}")
    if origin in (tuple, list):
        args = typing.get_args(hint)
        parts = [p for p in text.replace(" ", "").strip("()[]").split(",") if p]
        if origin is tuple and args and args[-1] is not Ellipsis:  # fixed length: tuple[float, float]
            return _fixed_tuple(parts, args, text, label)
        item = args[0] if args else str
        return tuple(convert(p, item, label) for p in parts)
    if hint is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{label} must be true or false, got {text!r}")
    if hint in (int, float):
        try:
            return hint(text)
        except ValueError:
            raise ConfigError(f"{label} must be {'an integer' if hint is int else 'a number'}, got {text!r}") from None
    return text


def _fixed_tuple(parts: list[str], items: tuple[Any, ...], text: str, label: str) -> tuple[Any, ...]:
    """``"0.5,0.999"`` as ``tuple[float, float]``; a wrong count is refused, not truncated later."""
    nouns = {int: "integers", float: "numbers"}
    noun = nouns.get(items[0], "values") if len(set(items)) == 1 else "values"
    count = {1: "one", 2: "two", 3: "three", 4: "four"}.get(len(items), str(len(items)))
    error = ConfigError(f"{label} expects {count} {noun} separated by commas, got {text!r}")
    if len(parts) != len(items):
        raise error
    try:
        return tuple(convert(p, t, label) for p, t in zip(parts, items))
    except ConfigError:
        raise error from None


def coerce(cls: type, raw: Mapping[str, Any], *, owner: str) -> dict[str, Any]:
    """Check names against the constructor and convert string values to the annotated types."""
    params = parameters(cls)
    hints = _hints(cls)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in params:
            valid = ", ".join(params) or "none"
            raise ConfigError(f"{owner} has no argument {key!r}; valid arguments: {valid}")
        if isinstance(value, str):
            hint = hints.get(key)
            if hint is None:
                default = params[key].default
                hint = type(default) if default not in (inspect.Parameter.empty, None) else str
            value = convert(value, hint, f"{owner} argument {key}")
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def parse_pairs(pairs: tuple[str, ...] | list[str], option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``, with a one-line error for a malformed pair."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{option} expects KEY=VALUE, got {pair!r}")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def jsonable(value: Any) -> Any:
    """Arguments as they are written to config.json (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
