"""``SHOP_STREAM_MAXLEN``: how many entries the events and dead-letter streams keep."""

from __future__ import annotations

import pytest

from seedwork.core.errors import ConfigurationError
from shop.config import Settings
from shop.entrypoints.cli.main import main


def test_it_defaults_to_a_million_and_takes_a_whole_number():
    assert Settings.from_env({}).stream_maxlen == 1_000_000
    assert Settings.from_env({"SHOP_STREAM_MAXLEN": "5000"}).stream_maxlen == 5000


@pytest.mark.parametrize("value", ["0", "-1", "1e6", "many", "12.5", "9" * 13])
def test_anything_else_is_refused_naming_the_variable(value: str):
    with pytest.raises(ConfigurationError, match="SHOP_STREAM_MAXLEN"):
        Settings.from_env({"SHOP_STREAM_MAXLEN": value})


def test_the_command_line_refuses_it_with_status_2(monkeypatch, capsys):
    monkeypatch.setenv("SHOP_STREAM_MAXLEN", "lots")
    assert main(["outbox", "status"]) == 2
    assert "SHOP_STREAM_MAXLEN" in capsys.readouterr().err
