"""Message ids and envelopes."""

from __future__ import annotations

import json
import os
import threading
import uuid

import attrs
import pytest

from seedwork.core.errors import InvalidPayload, MessageError
from seedwork.core.messages import Command, Envelope, Event, MessageRegistry, new_id
from seedwork.core.serialization import Serializer


@attrs.frozen(kw_only=True)
class Ping(Command):
    n: int


@attrs.frozen(kw_only=True)
class Pinged(Event):
    n: int


def test_message_ids_are_distinct_rfc4122_version_4_uuids() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_threads_and_forked_children_never_share_message_ids() -> None:
    made: list[str] = []
    threads = [
        threading.Thread(target=lambda: made.extend(new_id() for _ in range(600))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    new_id()  # this thread has random bytes read ahead, which a child must not reuse
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.write(write, " ".join(new_id() for _ in range(300)).encode())
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        made += answer.read().decode().split()
    made += [new_id() for _ in range(300)]
    assert len(made) == 3000
    assert len(set(made)) == len(made)


def test_a_first_message_correlates_with_itself_and_has_no_cause() -> None:
    envelope = Envelope(message=Ping(n=1))
    assert envelope.correlation_id == envelope.message_id
    assert envelope.causation_id is None
    assert envelope.dedupe is False


def test_what_follows_keeps_the_correlation_and_names_its_cause() -> None:
    first = Envelope(message=Ping(n=1))
    second = first.caused(Pinged(n=1))
    assert second.correlation_id == first.message_id
    assert second.causation_id == first.message_id
    assert second.message_id != first.message_id
    assert second.dedupe is True  # events are applied at most once per handler


def _serializer() -> Serializer:
    return Serializer(MessageRegistry().add(Ping, Pinged))


def test_json_nested_too_deeply_is_a_message_error_not_a_crash() -> None:
    with pytest.raises(MessageError, match="nested too deeply"):
        _serializer().loads("[" * 200_000)


@pytest.mark.parametrize("bad", ["yesterday", 1, ["2026-01-01"]])
def test_a_bad_occurred_at_is_a_field_error(bad: object) -> None:
    text = json.dumps({"type": "Ping", "payload": {"n": 1}, "occurred_at": bad})
    with pytest.raises(InvalidPayload) as error:
        _serializer().loads(text)
    assert [e.field for e in error.value.errors] == ["occurred_at"]
