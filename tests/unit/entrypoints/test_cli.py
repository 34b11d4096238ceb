"""The ``shop`` command line itself (CONTRACT §1): version, help, settings given as options,
one number type for every count, and a help that imports none of what the commands need."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest

from shop.entrypoints.cli.main import main, resolve
from shop.entrypoints.cli.params import Number

#: Every command and its actions, as ``shop --help`` and each group's help list them.
EVERY_COMMAND = [
    ["run"], ["api"], ["consumer"], ["relay"], ["db", "upgrade"], ["dead-letters", "list"],
    ["dead-letters", "replay"], ["failed-events", "list"], ["failed-events", "replay"],
    ["outbox", "status"], ["views", "rebuild"], ["openapi"], ["asyncapi"], ["health"],
    ["tokens", "issue"],
]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_version_is_the_installed_package_s(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"shop {version('shop')}\n", "")


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_a_help_that_shows_its_defaults(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, out, err = run(capsys, *argv, "--help")
    assert (status, err) == (0, "")
    assert out.startswith(f"Usage: shop {' '.join(argv)} ")


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["run"], "[default: 8000]"),
        (["api"], "[default: 2]"),
        (["consumer"], "[default: 4]"),
        (["dead-letters", "list"], "[default: 50]"),
        (["tokens", "issue"], "[default: 3600]"),
        ([], "[env var: DATABASE_URL; default: (sqlite:///var/shop.db)]"),
    ],
)
def test_a_default_is_shown_in_the_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], shown: str
) -> None:
    _, out, _ = run(capsys, *argv, "--help")
    assert shown in " ".join(out.split())


def test_arguments_are_checked_without_running_anything() -> None:
    assert resolve(["dead-letters", "replay", "--all"]).name == "replay"
    with pytest.raises(click.UsageError, match="ACTION is missing: one of upgrade"):
        resolve(["db"])
    with pytest.raises(click.UsageError, match="frobnicate"):
        resolve(["frobnicate"])
    with pytest.raises(click.BadParameter, match="port must be 0-65535"):
        resolve(["run", "--port", "65536"])


def test_a_setting_given_as_an_option_wins_over_its_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'from-the-variable.db'}")
    given = tmp_path / "from-the-option.db"
    status, out, _ = run(capsys, "--database-url", f"sqlite:///{given}", "db", "upgrade")
    assert (status, out) == (0, f"database upgraded: sqlite:///{given}\n")
    assert given.exists() and not (tmp_path / "from-the-variable.db").exists()


def test_a_bad_setting_given_as_an_option_is_one_line_naming_its_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "--channel-prefix", "bad prefix!", "outbox", "status")
    assert (status, out) == (2, "")
    assert err.startswith("shop: configuration error: SHOP_CHANNEL_PREFIX must be")
    assert len(err.splitlines()) == 1


def test_a_password_in_an_option_is_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://shop:hunter2@127.0.0.1:notaport/shop"
    status, _, err = run(capsys, "--database-url", url, "outbox", "status")
    assert status == 2 and "DATABASE_URL" in err and "hunter2" not in err


@pytest.mark.parametrize(
    ("number", "value", "said"),
    [
        (Number("workers", 1, 64), "0", "workers must be 1-64, got 0"),
        (Number("the limit", 1), "-3", "the limit must be 1 or more, got -3"),
        (Number("the ttl", 1, 60, unit=" seconds"), "61", "the ttl must be 1-60 seconds, got 61"),
        (Number("port", 0, 9, note="0: any"), "10", "port must be 0-9 (0: any), got 10"),
        (Number("workers", 1, 64), "many", "not a number: 'many'"),
    ],
)
def test_one_number_type_says_what_is_wrong(number: Number, value: str, said: str) -> None:
    with pytest.raises(click.BadParameter) as refused:
        number.convert(value, None, None)
    assert refused.value.message == said


def test_a_number_within_its_bounds_is_taken() -> None:
    assert Number("port", 0, 65535).convert("8000", None, None) == 8000


def test_the_help_imports_none_of_what_the_commands_need() -> None:
    probe = (
        "import sys\n"
        "from shop.entrypoints.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "heavy = {'shop.bootstrap', 'sqlalchemy', 'redis', 'flask', 'gunicorn'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
