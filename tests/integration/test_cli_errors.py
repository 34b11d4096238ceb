"""Bad CLI arguments and unreachable services give a clear message and an exit status, never a
traceback."""

from __future__ import annotations

import pytest

from shop.entrypoints.cli import main


def test_a_malformed_dead_letter_id_is_a_usage_error(capsys, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    with pytest.raises(SystemExit) as exit_:
        main(["dead-letters", "replay", "nope"])
    assert exit_.value.code == 2
    assert "not a dead-letter id: 'nope'" in capsys.readouterr().err


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


def test_an_unreachable_redis_is_named_not_traced(capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["dead-letters", "list"]) == 1
    assert capsys.readouterr().err.startswith("shop: Redis is unreachable:")
