"""Every bad setting or argument, for every command: exit 2 and one line naming it (CONTRACT §1).

Each case runs ``shop`` as a real process, as an operator would: whatever the command, the
answer is one line on stderr, exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EVERY_COMMAND = [
    ["run", "--port", "0"],
    ["api", "--port", "0"],
    ["consumer"],
    ["relay"],
    ["db", "upgrade"],
    ["dead-letters", "list"],
    ["dead-letters", "replay", "1-0"],
    ["failed-events", "list"],
    ["failed-events", "replay", "1"],
    ["outbox", "status"],
    ["views", "rebuild"],
]

#: Settings that are wrong whatever the servers say: (variable, value, what the line names).
BAD_SETTINGS = [
    ("DATABASE_URL", "postgresql+psycopg://127.0.0.1:notaport/x", "DATABASE_URL"),
    ("DATABASE_URL", "postgresql+psycopg://127.0.0.1:99999/x", "DATABASE_URL"),
    ("DATABASE_URL", "postgresql+psycopg://127.0.0.1:0/x", "DATABASE_URL"),
    ("DATABASE_URL", "foo://bar", "DATABASE_URL"),
    ("DATABASE_URL", "not a url", "DATABASE_URL"),
    ("REDIS_URL", "redis://127.0.0.1:notaport/0", "REDIS_URL"),
    ("REDIS_URL", "redis://127.0.0.1:99999/0", "REDIS_URL"),
    ("REDIS_URL", "redis://127.0.0.1:6379/x", "REDIS_URL"),
    ("REDIS_URL", "redis://127.0.0.1:6379/-1", "REDIS_URL"),
    ("REDIS_URL", "redis://127.0.0.1:6379/0?socket_timeout=abc", "REDIS_URL"),
    ("REDIS_URL", "unix:///tmp/redis.sock?db=x", "REDIS_URL"),
    ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL"),
    ("SHOP_LOG_FORMAT", "xml", "SHOP_LOG_FORMAT"),
    ("SHOP_LOG_LEVEL", "LOUD", "SHOP_LOG_LEVEL"),
    ("SHOP_CHANNEL_PREFIX", "bad prefix!", "SHOP_CHANNEL_PREFIX"),
    ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER"),
]

#: Arguments no command accepts: (argv, what the line says).
BAD_ARGUMENTS = [
    (["dead-letters", "replay", "18446744073709551616-0"], "not a dead-letter id"),
    (["dead-letters", "replay", "1-18446744073709551616"], "not a dead-letter id"),
    (["dead-letters", "replay", "nope"], "not a dead-letter id"),
    (["dead-letters", "list", "--limit", "0"], "--limit"),
    (["failed-events", "replay", "0"], "not a failed-event id"),
    (["failed-events", "replay", "99999999999999999999"], "not a failed-event id"),
    (["run", "--port", "70000"], "--port"),
    (["api", "--workers", "0"], "--workers"),
    (["consumer", "--workers", "many"], "--workers"),
    ([], "COMMAND"),
    (["frobnicate"], "frobnicate"),
    (["db"], "ACTION"),
    (["outbox", "status", "--extra"], "--extra"),
]


def shop(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``shop`` with only the given environment; it must end by itself."""
    return subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", *argv],
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], named: str) -> None:
    """Exit 2, exactly one line on stderr naming ``named``, no traceback anywhere."""
    shown = f"exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode == 2, shown
    assert "Traceback" not in result.stderr + result.stdout, shown
    lines = result.stderr.splitlines()
    assert len(lines) == 1, shown
    assert named in lines[0], shown
    assert lines[0].startswith("shop"), shown


@pytest.fixture
def base_env(tmp_path: Path, redis_url: str, channel_prefix: str) -> dict[str, str]:
    """Good settings: a fresh SQLite file, the test Redis, a prefix of this test's own."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "REDIS_URL": redis_url,
        "SHOP_CHANNEL_PREFIX": channel_prefix,
    }


@pytest.mark.parametrize(
    ("variable", "value", "named"), BAD_SETTINGS, ids=[f"{v}={x}" for v, x, _ in BAD_SETTINGS]
)
def test_a_bad_setting_is_one_line_and_exit_2(base_env, tmp_path, variable, value, named):
    # Rotate the commands, so each setting meets a different one (all of them meet below).
    argv = EVERY_COMMAND[BAD_SETTINGS.index((variable, value, named)) % len(EVERY_COMMAND)]
    assert_one_line_exit_2(shop(argv, {**base_env, variable: value}, tmp_path), named)


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=" ".join)
def test_every_command_refuses_a_bad_setting_the_same_way(base_env, tmp_path, argv):
    env = {**base_env, "REDIS_URL": "redis://127.0.0.1:notaport/0"}
    assert_one_line_exit_2(shop(argv, env, tmp_path), "REDIS_URL")


@pytest.mark.parametrize(
    ("argv", "named"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS]
)
def test_a_bad_argument_is_one_line_and_exit_2(base_env, tmp_path, argv, named):
    assert_one_line_exit_2(shop(argv, base_env, tmp_path), named)


REDIS_COMMANDS = [
    argv for argv in EVERY_COMMAND if argv[0] not in ("db", "failed-events", "outbox", "views")
]


@pytest.mark.redis
@pytest.mark.parametrize("argv", REDIS_COMMANDS, ids=" ".join)
def test_a_redis_database_the_server_does_not_have_is_a_bad_setting(
    base_env, tmp_path, redis_url, argv
):
    if not redis_url.startswith("redis://"):
        pytest.skip("needs a Redis server reached over TCP")
    env = {**base_env, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/99"}
    assert_one_line_exit_2(shop(argv, env, tmp_path), "REDIS_URL")


@pytest.mark.redis
@pytest.mark.parametrize("argv", REDIS_COMMANDS, ids=" ".join)
def test_a_redis_password_the_server_refuses_is_a_bad_setting(base_env, tmp_path, redis_url, argv):
    if not redis_url.startswith("redis://"):
        pytest.skip("needs a Redis server reached over TCP")
    env = {**base_env, "REDIS_URL": redis_url.replace("redis://", "redis://:Wr0ngPassw0rd@")}
    result = shop(argv, env, tmp_path)
    assert_one_line_exit_2(result, "REDIS_URL")
    assert "Wr0ngPassw0rd" not in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize(
    "argv", [["outbox", "status"], ["db", "upgrade"], ["run", "--port", "0"]], ids=" ".join
)
def test_a_database_the_server_does_not_have_is_a_bad_setting(
    base_env, tmp_path, postgres_url, argv
):
    from sqlalchemy.engine import make_url

    missing = make_url(postgres_url).set(database="shop_no_such_database", password="s3cretpw")
    env = {**base_env, "DATABASE_URL": missing.render_as_string(hide_password=False)}
    result = shop(argv, env, tmp_path)
    assert_one_line_exit_2(result, "DATABASE_URL")
    assert "s3cretpw" not in result.stderr


def test_a_bad_setting_never_shows_a_password(base_env, tmp_path):
    env = {**base_env, "REDIS_URL": "http://:Sup3rSecret@127.0.0.1:6379/0"}
    result = shop(["outbox", "status"], env, tmp_path)
    assert_one_line_exit_2(result, "REDIS_URL")
    assert "Sup3rSecret" not in result.stderr
    assert "***" in result.stderr
