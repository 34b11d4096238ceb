"""What the ``shop`` command line accepts, and how it says no (CONTRACT §1: one line, exit 2).

One type for every number (a port, a count, a limit, seconds), one for every id or name checked
by its shape, one for a word among a few; and the group whose missing command is an error of one
line rather than a page of help. Light on purpose: ``shop --help`` imports this and click only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import click

#: Every group and command: ``--help`` shows each option's default.
CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True}


class Given(dict[str, str]):
    """Settings given on the command line, by the name of their environment variable."""


@attrs.frozen
class Number(click.ParamType[int]):
    """A whole number between ``low`` and ``high`` (no upper bound if None).

    ``what`` names it in the error (``the limit must be 1 or more, got 0``), ``unit`` follows the
    bounds (`` seconds``) and ``note`` explains them (``0: any free port``).
    """

    name = "integer"

    what: str
    low: int
    high: int | None = None
    unit: str = attrs.field(default="", kw_only=True)
    note: str = attrs.field(default="", kw_only=True)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        """``1-64`` or ``1+``, in the usage line and the help."""
        return f"{self.low}-{self.high}" if self.high is not None else f"{self.low}+"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The number, or a one-line refusal naming the bounds."""
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(value)
            except ValueError:
                self.fail(f"not a number: {value!r}", param, ctx)
        if self.low <= number and (self.high is None or number <= self.high):
            return number
        bounds = f"{self.low} or more" if self.high is None else f"{self.low}-{self.high}"
        note = f" ({self.note})" if self.note else ""
        self.fail(f"{self.what} must be {bounds}{self.unit}{note}, got {number}", param, ctx)


class Shaped(click.ParamType[Any]):
    """A text of a given shape (a regular expression, and ``check`` of its match if given).

    ``refusal`` is the error, formatted with ``value`` (its repr); ``convert`` turns the text into
    the value the command takes (``int`` for a numeric id).
    """

    def __init__(
        self,
        name: str,
        pattern: str,
        refusal: str,
        *,
        check: Callable[[re.Match[str]], bool] = lambda found: True,
        convert: Callable[[str], Any] = str,
    ) -> None:
        self.name = name
        self._pattern = re.compile(pattern)
        self._refusal = refusal
        self._check = check
        self._convert = convert

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value, or a one-line refusal saying what such a value looks like."""
        found = self._pattern.fullmatch(str(value))
        if found is None or not self._check(found):
            self.fail(self._refusal.format(value=repr(value)), param, ctx)
        return self._convert(str(value))


class OneOf(click.Choice[str]):
    """One of a few words; an other word is refused in one line that lists them."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The word, or ``invalid choice: 'x' (choose from a, b)``."""
        if value in self.choices:
            return str(value)
        listed = ", ".join(str(choice) for choice in self.choices)
        self.fail(f"invalid choice: {value!r} (choose from {listed})", param, ctx)


class Group(click.Group):
    """A group of commands; called without one, it says which are missing in one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        kwargs.setdefault("subcommand_metavar", "ACTION")
        kwargs.setdefault("no_args_is_help", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse an empty command line before click would print the whole help."""
        if not args and not ctx.resilient_parsing:
            names = ", ".join(self.list_commands(ctx))
            raise click.UsageError(f"{self.subcommand_metavar} is missing: one of {names}", ctx)
        return super().parse_args(ctx, args)


def usage_line(error: click.UsageError) -> str:
    """The one line a usage error is told in: what is wrong, and where to read more."""
    path = error.ctx.command_path if error.ctx is not None else "shop"
    param = error.param if isinstance(error, click.BadParameter) else None
    named = ""
    if param is not None:
        named = param.opts[-1] if isinstance(param, click.Option) else param.human_readable_name
    if isinstance(error, click.MissingParameter) and named:
        message = f"argument {named} is required"
    elif named and error.message:
        message = f"argument {named}: {error.message}"
    else:
        message = error.format_message()
    return " ".join(f"{path}: error: {message} (see '{path} --help')".split())
