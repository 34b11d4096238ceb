"""The ``shop`` command line (CONTRACT §1): the commands, and what a usage error looks like.

Each command lives in the module of its family; this one names them and imports a module only
when its command runs (``LazyGroup``): what the commands need (SQLAlchemy, Redis, Flask,
gunicorn, the bootstrap) stays unimported by ``shop --help`` and by a usage error.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import attrs
import click

from shop.entrypoints.cli.params import CONTEXT, Given, Group, usage_line


@attrs.frozen
class Entry:
    """A command of ``shop``: where it is defined (``module:name``), and its line in the help."""

    where: str
    summary: str


#: The commands, in the order ``shop --help`` lists them.
COMMANDS = {
    "run": Entry("roles:run", "all-in-one: migrations, API, consumer and relay"),
    "api": Entry("roles:api", "serve the HTTP API under gunicorn"),
    "consumer": Entry("roles:consumer", "consume commands from Redis"),
    "relay": Entry("roles:relay", "relay the outbox to Redis"),
    "db": Entry("operations:db", "database migrations"),
    "dead-letters": Entry("dead_letters:dead_letters", "messages that could not be processed"),
    "failed-events": Entry(
        "failed_events:failed_events", "events an in-process handler kept failing on"
    ),
    "outbox": Entry("operations:outbox", "the outbox of events"),
    "views": Entry("operations:views", "read models"),
    "openapi": Entry("operations:openapi", "print the OpenAPI 3.1 document of the HTTP API"),
    "asyncapi": Entry(
        "operations:asyncapi", "print the AsyncAPI 3.0 document of the Redis channels"
    ),
    "health": Entry("roles:health", "exit 0 if a role beats in this directory"),
    "tokens": Entry("tokens:tokens", "access tokens for the HTTP API"),
}


class LazyGroup(Group):
    """A group whose commands are imported when one is run or asked for its help."""

    def __init__(self, *args: Any, commands: Mapping[str, Entry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands' names, in the table's order."""
        return list(self.entries)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module imported now; None for a name that is no command."""
        entry = self.entries.get(cmd_name)
        if entry is None:
            return None
        module, name = entry.where.split(":")
        command = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from the table, importing none of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.summary) for name, entry in self.entries.items()])


#: The settings an option of ``shop`` gives instead of the variable CONTRACT §1 names; the
#: variable is read when the option is not given. Secrets have no option: a command line is seen
#: by every user of the machine (``ps``).
SETTINGS = {
    "--database-url": ("DATABASE_URL", "any SQLAlchemy URL", "sqlite:///var/shop.db"),
    "--redis-url": ("REDIS_URL", "the Redis server", "shop run's embedded one"),
    "--channel-prefix": ("SHOP_CHANNEL_PREFIX", "prefix of every channel and stream", "shop"),
    "--log-level": ("SHOP_LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR or CRITICAL", "INFO"),
    "--log-format": ("SHOP_LOG_FORMAT", "text or json", "text on a terminal, else json"),
}


def _setting_options(function: Any) -> Any:
    for option, (variable, summary, default) in reversed(SETTINGS.items()):
        function = click.option(
            option,
            variable,
            envvar=variable,
            show_envvar=True,
            show_default=default,
            metavar="TEXT",
            help=summary,
        )(function)
    return function


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    try:
        installed = version("shop")
    except PackageNotFoundError:  # run from the sources without being installed
        installed = "(not installed)"
    click.echo(f"shop {installed}")
    ctx.exit()


@click.group(
    "shop", cls=LazyGroup, commands=COMMANDS, subcommand_metavar="COMMAND", context_settings=CONTEXT
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
@_setting_options
@click.pass_context
def shop(ctx: click.Context, /, **settings: str | None) -> None:
    """shop: e-commerce order management.

    Settings come from the environment (DATABASE_URL, REDIS_URL, SHOP_*; see the README); the
    options before the command give some of them for this run.
    """
    ctx.obj = Given({name: value for name, value in settings.items() if value is not None})


def resolve(argv: Sequence[str]) -> click.Command:
    """The command ``argv`` names, its arguments parsed and checked, nothing run.

    Raises ``click.UsageError`` as ``shop`` would refuse them (a deployment's commands are checked
    this way without running them).
    """
    command: click.Command = shop
    args = list(argv)
    name = "shop"
    parent: click.Context | None = None
    while isinstance(command, click.Group):
        parent = click.Context(command, info_name=name, parent=parent)
        if not args:
            command.parse_args(parent, [])  # refuses an empty command line
        name, *args = args
        found = command.get_command(parent, name)
        if found is None:
            raise click.UsageError(f"No such command {name!r}.", parent)
        command = found
    command.make_context(name, args, parent=parent)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the shop command line; returns the exit status (exits 2 on a usage error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = shop.main(args, prog_name="shop", standalone_mode=False)
    except click.UsageError as error:
        print(usage_line(error), file=sys.stderr)
        raise SystemExit(2) from None
    except click.Abort:
        return 130
    except click.ClickException as error:
        print(f"shop: {error.format_message()}", file=sys.stderr)
        return error.exit_code
    return status if isinstance(status, int) else 0
