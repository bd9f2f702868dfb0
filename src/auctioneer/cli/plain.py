"""Call a command whose parameters are all strings and flags without typer's value coercion.

Typer (0.29) passes every parameter value through a pydantic ``TypeAdapter``
built when the command runs: importing pydantic for that costs about 80 ms,
a third of the start-up budget of ``auctioneer clear`` on a small file
(``auctioneer bench startup``). The command line's commands take their
values as strings and parse them themselves (:mod:`auctioneer.cli.options`,
so errors quote what was typed), so for such a command the coercion has
nothing to do. :func:`plain_arguments` maps the words of a command line onto
the command function's keyword arguments, reading the names, defaults and
flags from the same ``typer.Option``/``typer.Argument`` declarations typer
reads; :func:`auctioneer.cli.app.main` then calls the function directly.

It handles only the plain forms (``--opt VALUE``, ``--opt=VALUE``, flags,
positional arguments) and returns None for anything else: help, an unknown
or repeated option, ``--``, a value that looks like an option, a missing or
extra argument, a parameter that is not ``str``, ``str | None`` or a
declared ``bool`` flag, or one with a callback or environment variable. Typer then
parses the line as before, so every usage error is still typer's own. A
differential test (``tests/cli/test_plain.py``) checks that whenever this
gives arguments, typer's parser gives the same.

Example:
    >>> from typing import Annotated
    >>> import typer
    >>> def hello(name: Annotated[str, typer.Argument()],
    ...           greeting: Annotated[str, typer.Option()] = "hi",
    ...           loud: Annotated[bool, typer.Option("--loud")] = False) -> None: ...
    >>> plain_arguments(hello, ["bob", "--greeting=yo"])
    {'name': 'bob', 'greeting': 'yo', 'loud': False}
    >>> plain_arguments(hello, ["bob", "--help"]) is None
    True
"""

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from typer.models import ArgumentInfo, OptionInfo

__all__ = ["plain_arguments"]


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    flag: bool
    required: bool
    default: Any


def _is_plain_text(annotation: object) -> bool:
    """``str`` or ``str | None``."""
    if annotation is str:
        return True
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and set(typing.get_args(annotation)) == {str, type(None)}


def _signature(command: Callable[..., Any]) -> tuple[list[_Param], dict[str, _Param]] | None:
    """The positional parameters in order, and the options by every name they answer to."""
    hints = typing.get_type_hints(command, include_extras=True)
    positional: list[_Param] = []
    options: dict[str, _Param] = {}
    for name, parameter in inspect.signature(command).parameters.items():
        hint = hints.get(name)
        if typing.get_origin(hint) is not typing.Annotated:
            return None
        base, *extras = typing.get_args(hint)
        info = next((e for e in extras if isinstance(e, OptionInfo | ArgumentInfo)), None)
        if (info is None or info.callback is not None or info.envvar is not None
                or info.default_factory is not None):
            return None
        flag = base is bool
        if not (flag or _is_plain_text(base)):
            return None
        required = parameter.default is inspect.Parameter.empty
        param = _Param(name, flag, required, None if required else parameter.default)
        if isinstance(info, ArgumentInfo):
            if flag:
                return None
            positional.append(param)
            continue
        # In Annotated, typer.Option's first positional is a name, not a default.
        named = (info.default,) if isinstance(info.default, str) else ()
        decls = [*named, *(info.param_decls or ())]
        if any(not d.startswith("-") or "/" in d for d in decls) or (flag and not decls):
            return None  # a flag without names gets a --no- twin: leave that to typer
        for decl in decls or [f"--{name.replace('_', '-')}"]:
            options[decl] = param
    return positional, options


def plain_arguments(command: Callable[..., Any], words: Sequence[str]) -> dict[str, Any] | None:
    """``command``'s keyword arguments for the command line ``words``, or None to let typer
    parse it (see the module doc)."""
    shape = _signature(command)
    if shape is None:
        return None
    positional, options = shape
    values: list[str] = []
    given: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "-" or not word.startswith("-"):
            values.append(word)
            continue
        name, eq, inline = word.partition("=")
        param = options.get(name)
        if param is None or param.name in given:
            return None
        if param.flag:
            if eq:
                return None
            given[param.name] = True
            continue
        if not eq:
            if i == len(words) or words[i].startswith("-"):
                return None
            inline = words[i]
            i += 1
        given[param.name] = inline
    required = sum(p.required for p in positional)
    if not required <= len(values) <= len(positional):
        return None
    out = {p.name: v for p, v in zip(positional, values, strict=False)}
    for p in positional[len(values):]:
        out[p.name] = p.default
    for p in options.values():
        if p.name not in given and p.name not in out:
            if p.required:
                return None
            out[p.name] = p.default
    out.update(given)
    return {name: out[name] for name in inspect.signature(command).parameters}
