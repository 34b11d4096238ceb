"""The AsyncAPI 3.0 document of the Redis channels and streams (CONTRACT §3, §5).

Generated from the code: the channel names from ``Channels``, the events published and the
commands accepted from ``shop.domain.integration``, the envelope from ``seedwork.core.envelopes``
and each payload from its message class, by the same schema generator as the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from seedwork.core.envelopes import InboundEnvelope, OutboundEnvelope
from seedwork.core.messages import Command, Message
from seedwork.core.schema import SchemaBuilder
from seedwork.redis.channels import Channels
from seedwork.redis.dead_letters import DeadLetter
from shop.domain.integration import ACCEPTED_COMMANDS, INTEGRATION_EVENTS, wire_names
from shop.entrypoints.documents import version

MESSAGES = "#/components/messages/"


def asyncapi_document(prefix: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every channel and stream under ``prefix``."""
    names = Channels(prefix)
    events, commands = wire_names(INTEGRATION_EVENTS), wire_names(ACCEPTED_COMMANDS)
    builder = SchemaBuilder("#/components/schemas/")
    messages: dict[str, Any] = {}
    for event in INTEGRATION_EVENTS:
        messages[event.message_name()] = _message(builder, event, OutboundEnvelope)
    for command in ACCEPTED_COMMANDS:
        messages[command.message_name()] = _command_message(builder, command)
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "A message that could not be processed",
        "summary": "The fields of a dead-letter stream entry: the raw message text, the error "
        "(its kind and field, e.g. `InvalidField: reference: …`), the channel and when.",
        # The stream entry's fields; ``raw``/``raw_channel`` are those same bytes, read back.
        "payload": builder.ref(builder.component(DeadLetter, exclude=("id", "raw", "raw_channel"))),
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name in events:
        key = f"event{name}"
        channels[key] = _channel(names.event_channel(name), f"Pub/sub: every {name}.", name)
        operations[f"publish{name}"] = _operation("send", key, [name])
    channels["events"] = _channel(
        names.events_stream,
        "Stream: every published event in commit order per aggregate; each entry's field "
        "`message` holds the envelope.",
        *events,
    )
    operations["appendEvents"] = _operation("send", "events", events)
    for name in commands:
        key = f"command{name}"
        about = f"Pub/sub: {name} commands in (the channel names the type)."
        channels[key] = _channel(names.command_channel(name), about, name)
        operations[f"receive{name}"] = _operation("receive", key, [name])
    channels["commands"] = _channel(
        names.commands_stream,
        "Stream: commands in, read by the consumer group `shop` (durable; a message is "
        "re-delivered until handled); each entry's field `message` holds the envelope.",
        *commands,
    )
    operations["readCommands"] = _operation("receive", "commands", commands)
    channels["deadLetters"] = _channel(
        names.dead_letters_stream,
        "Stream: messages that could not be processed (invalid, unknown type, refused by a "
        "rule, larger than 64 KiB); `shop dead-letters` lists and replays them.",
        "DeadLetter",
    )
    operations["deadLetter"] = _operation("send", "deadLetters", ["DeadLetter"])
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "shop",
            "version": version(),
            "description": "The shop's Redis channels and streams. Delivery is at least once; "
            "consumers de-duplicate by message_id. Commands are authorized as SHOP_REDIS_ROLE.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": builder.components},
    }


def _message(builder: SchemaBuilder, cls: type[Message], envelope: type) -> dict[str, Any]:
    name = cls.message_name()
    payload = {
        "allOf": [builder.ref(builder.component(envelope))],
        "properties": {"type": {"const": name}, "payload": builder.schema(cls)},
    }
    return {"name": name, "title": name, "summary": _summary(cls), "payload": payload}


def _command_message(builder: SchemaBuilder, cls: type[Command]) -> Any:
    """A command in: an envelope (``type`` may be left to the channel), or a bare payload."""
    message = _message(builder, cls, InboundEnvelope)
    message["payload"] = {"anyOf": [message["payload"], builder.schema(cls)]}
    return message


def _summary(cls: type) -> str:
    return " ".join((cls.__doc__ or cls.__name__).strip().split("\n\n")[0].split())


def _channel(address: str, description: str, *messages: str) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "messages": {name: {"$ref": MESSAGES + name} for name in messages},
    }


def _operation(action: str, channel: str, messages: Any) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in messages],
    }
