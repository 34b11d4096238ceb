"""A dead letter's ``error`` names the kind (and field), never the SQL or its parameters."""

from __future__ import annotations

import json
from collections.abc import Callable

from redis import Redis

from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from tests.integration.redis.world import World


def test_a_value_the_database_rejects_is_a_dead_letter_without_sql_or_parameters(
    world: World, make_consumer: Callable[..., CommandConsumer], redis: Redis, channels: Channels
):
    too_long = "R" * 30 + "-secret-ish-value"  # the column holds 40 characters
    message = json.dumps({"type": "AddStock", "payload": {"reference": too_long, "quantity": 1}})
    outcome = make_consumer().consume(message, channels.commands_stream, stream_entry="1-0")
    assert not outcome.ok
    [(_, fields)] = redis.xrange(channels.dead_letters_stream)
    error = fields[b"error"].decode()
    assert error == (
        "DataError: the database refused the command (StringDataRightTruncation, SQLSTATE 22001)"
    )
    for leaked in ("INSERT", "bridge_stocks", "[SQL", "parameters", too_long):
        assert leaked not in error
    assert world.stock(too_long) is None
