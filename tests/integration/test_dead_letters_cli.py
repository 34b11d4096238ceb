"""``shop dead-letters replay --all [--error KIND]`` re-drives every dead letter (of a kind)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from seedwork.redis.channels import Channels
from seedwork.redis.dead_letters import DeadLetterStream
from shop.adapters import tables as db
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.entrypoints.cli.main import main


@pytest.fixture
def shop(
    tmp_path: Path, redis_url: str, channel_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shop]:
    database_url = f"sqlite:///{tmp_path / 'shop.db'}"
    for name, value in {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SHOP_CHANNEL_PREFIX": channel_prefix,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "upgrade"]) == 0
    wired = bootstrap(Settings(database_url=database_url))
    wired.bus.handle(commands.AddProduct(sku="SKU-1", name="A", price=Money.of(100, "EUR")))
    yield wired
    wired.close()
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{channel_prefix}.*"))
    if keys:
        client.delete(*keys)
    client.close()


def add_batch(reference: str, quantity: int) -> str:
    payload = {"reference": reference, "sku": "SKU-1", "quantity": quantity, "eta": None}
    return json.dumps({"type": "AddBatch", "payload": payload})


def batches(shop: Shop) -> list[str]:
    with shop.engine.connect() as connection:
        return sorted(connection.execute(select(db.batches.c.reference)).scalars())


def test_replay_all_of_a_kind_then_all_applies_what_it_can_and_keeps_the_rest(
    shop: Shop, redis_url: str, channel_prefix: str, capsys: pytest.CaptureFixture[str]
):
    channels = Channels(channel_prefix)
    letters = DeadLetterStream(Redis.from_url(redis_url), channels.dead_letters_stream)
    stream = channels.commands_stream
    down = "Unavailable: OperationalError: the database is unavailable (ConnectionRefused)"
    first = letters.add(add_batch("B-1", 1), down, channels.command_channel("AddBatch"))
    letters.add(add_batch("B-0", -1), "InvalidField: quantity: must be at least 1", stream)
    second = letters.add(add_batch("B-2", 2), down, stream)
    limit = letters.add(add_batch("B-3", 3), "DeliveryLimit: delivered 6 times", stream)
    capsys.readouterr()

    assert main(["dead-letters", "replay", "--all", "--error", "Unavailable"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"replayed {first}: applied, and removed",
        f"replayed {second}: applied, and removed",
        "2 dead letters of kind Unavailable replayed: 2 applied and removed, 0 kept",
    ]
    assert batches(shop) == ["B-1", "B-2"]
    assert letters.count() == 2

    assert main(["dead-letters", "replay", "--all"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("kept ") and "failed again: InvalidPayload: " in out[0]
    assert out[1:] == [
        f"replayed {limit}: applied, and removed",
        "2 dead letters replayed: 1 applied and removed, 1 kept",
    ]
    assert batches(shop) == ["B-1", "B-2", "B-3"]
    [left] = letters.list()
    assert json.loads(left.message)["payload"]["reference"] == "B-0"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["replay"], "one of the arguments id --all is required"),
        (["replay", "1-0", "--all"], "not allowed with argument id"),
        (["replay", "--all", "--error", "no such"], "not an error kind: 'no such'"),
    ],
)
def test_bad_replay_arguments_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exit_:
        main(["dead-letters", *argv])
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


def test_an_error_kind_without_all_is_a_usage_error(shop: Shop, capsys: pytest.CaptureFixture[str]):
    assert main(["dead-letters", "replay", "1-0", "--error", "InvalidField"]) == 2
    assert capsys.readouterr().err == "shop: --error KIND goes with --all\n"
