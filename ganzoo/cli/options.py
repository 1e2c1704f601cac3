"""Option parsing shared by commands: plugin specs, and TrainConfig's engine settings as options."""
from __future__ import annotations

import typing
from dataclasses import Field
from typing import Any, Callable

import click

from .. import args as typed_args
from ..args import parse_pairs
from ..build import PluginSpec
from ..engine.config import ENGINE_FIELDS, HINTS, check_setting, literal_choices, option_name, setting_of
from ..errors import ConfigError


def trick_specs(values: tuple[str, ...]) -> list[PluginSpec]:
    """``--trick r1:gamma=10,every=4`` -> PluginSpec("r1", {"gamma": "10", "every": "4"})."""
    return [PluginSpec.parse(value, "--trick") for value in values]


class Typed(click.ParamType):
    """A value parsed by its annotation with :func:`ganzoo.args.convert`, as plugin arguments are; a bad
    value raises ConfigError, which the CLI prints as one line (click's own error is a usage block)."""

    def __init__(self, hint: Any, option: str, metavar: str | None = None, none_words: tuple[str, ...] = ()) -> None:
        self.hint, self.option, self.none_words = hint, option, none_words
        self.metavar = metavar or _metavar(hint)
        self.name = self.metavar.lower()

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):  # a default, already typed
            return value
        if value.lower() in self.none_words:
            return None
        return typed_args.convert(value, self.hint, self.option)


def _metavar(hint: Any) -> str:
    choices = literal_choices(hint)
    if choices:
        return "[" + "|".join(map(str, choices)) + "]"
    args = typing.get_args(hint)
    kind = next(a for a in args if a is not type(None)) if type(None) in args else hint  # X | None -> X
    return {int: "INTEGER", float: "FLOAT"}.get(kind, "TEXT")


def _typed(f: Field) -> Typed:
    facts = setting_of(f)
    return Typed(HINTS[f.name], option_name(f), facts.metavar, facts.none_words)


def _engine_option(f: Field) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    facts, name = setting_of(f), option_name(f)
    if HINTS[f.name] is bool:
        return click.option(name, f.name, is_flag=True, default=f.default, help=facts.help)
    if HINTS[f.name] == bool | None:  # --x / --no-x, and neither leaves the choice to the engine
        return click.option(f"{name}/--no-{name.removeprefix('--')}", f.name, default=None, help=facts.help)
    return click.option(name, f.name, type=_typed(f), default=f.default, show_default=True, help=facts.help)


def engine_value(name: str, text: str) -> Any:
    """``text`` as `ganzoo train`'s option for engine setting ``name`` reads it ("none" and its other spellings
    included), checked against the setting's bounds: for commands that take one engine setting as a flag."""
    f = next(f for f in ENGINE_FIELDS if f.name == name)
    value = _typed(f).convert(text, None, None)
    check_setting(f, value, option_name(f))
    return value


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One option per TrainConfig engine field, in field order, passed to the command by field name."""
    for f in reversed(ENGINE_FIELDS):  # click lists options in the reverse of decoration order
        command = _engine_option(f)(command)
    return command
