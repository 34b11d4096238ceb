"""Bad CLI arguments and unreachable services give a clear message and an exit status, never a
traceback."""

from __future__ import annotations

import contextlib

import pytest

from shop.entrypoints.cli.main import main
from tests import services


def test_a_malformed_dead_letter_id_is_a_usage_error(capsys, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    with pytest.raises(SystemExit) as exit_:
        main(["dead-letters", "replay", "nope"])
    assert exit_.value.code == 2
    assert "not a dead-letter id: 'nope'" in capsys.readouterr().err


def test_a_malformed_failed_event_id_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["failed-events", "replay", "0"])
    assert exit_.value.code == 2
    assert "not a failed-event id: '0'" in capsys.readouterr().err


def test_failed_events_are_listed_through_the_command_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["failed-events", "list", "--limit", "5"]) == 0
    assert capsys.readouterr().out == "no failed events\n"


def test_an_unknown_dead_letter_is_reported(capsys, monkeypatch, redis_url, channel_prefix):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SHOP_CHANNEL_PREFIX", channel_prefix)
    assert main(["dead-letters", "replay", "1-0"]) == 1
    assert "no dead letter with id '1-0'" in capsys.readouterr().err


def test_an_unreachable_database_is_named_not_traced(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nowhere")
    assert main(["outbox", "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("shop: the database is unreachable:")
    assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_unmigrated_database_asks_for_the_upgrade(capsys, monkeypatch, tmp_path, backend):
    empty = (
        services.fresh_postgres_database()
        if backend == "postgres"
        else contextlib.nullcontext(f"sqlite:///{tmp_path / 'empty.db'}")
    )
    with empty as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["outbox", "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("shop: the database has no shop tables yet; run `shop db upgrade` first")
    assert "Traceback" not in err


def test_an_unreachable_redis_is_named_not_traced(capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["dead-letters", "list"]) == 1
    assert capsys.readouterr().err.startswith("shop: Redis is unreachable:")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://postgres@127.0.0.1/postgres", "postgresql+psycopg://"),
        ("postgresql+psycopg2://postgres@127.0.0.1/postgres", "postgresql+psycopg://"),
        ("mysql://u@h/db", "not installed"),
        ("foo://bar", "unknown kind of database"),
    ],
)
def test_a_database_url_whose_driver_cannot_load_is_a_configuration_error(
    capsys, monkeypatch, url, named
):
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["outbox", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shop: configuration error: DATABASE_URL")
    assert named in err
    assert "Traceback" not in err


def test_a_database_url_hides_its_password_in_the_error(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop:s3cret@127.0.0.1/shop")
    assert main(["outbox", "status"]) == 2
    assert "s3cret" not in capsys.readouterr().err


def test_an_sqlite_directory_that_cannot_be_created_is_a_configuration_error(
    capsys, monkeypatch, tmp_path
):
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/a-file/sub/shop.db")
    assert main(["outbox", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shop: configuration error: DATABASE_URL: cannot create the directory")
    assert "Traceback" not in err


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_a_dead_letter_limit_must_be_a_positive_number(capsys, monkeypatch, redis_url, limit):
    monkeypatch.setenv("REDIS_URL", redis_url)
    with pytest.raises(SystemExit) as exit_:
        main(["dead-letters", "list", "--limit", limit])
    assert exit_.value.code == 2
    assert "argument --limit" in capsys.readouterr().err
