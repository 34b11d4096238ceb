"""Contract tests to reuse: one set of tests that a fake and its real counterpart both pass.

Each contract is a plain class of pytest-style tests asking for one fixture; a test module
subclasses it under a ``Test`` name and provides the fixture, once for the fake (in
tests/unit) and once per real backend (in tests/integration)::

    class TestFakeDeadLetterStream(DeadLetterStoreContract):
        @pytest.fixture
        def store(self) -> DeadLetterStore:
            return FakeDeadLetterStream()

So a fake cannot drift from what it stands for without a unit test saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from seedwork.core.errors import AlreadyHandled
from seedwork.core.messages import Envelope, Event
from seedwork.core.uow import AbstractUnitOfWork, Handling, Inbox
from seedwork.redis.dead_letters import DeadLetterStore


class DeadLetterStoreContract:
    """What the consumer and the replay command rely on in a dead-letter store (fixture:
    ``store``)."""

    def test_a_kept_message_is_read_back_with_why_and_where_it_failed(
        self, store: DeadLetterStore
    ) -> None:
        entry_id = store.add('{"type": "Deposit"}', "amount: must be positive", "app.commands")
        letter = store.get(entry_id)
        assert letter is not None
        assert (letter.id, letter.message, letter.error, letter.channel) == (
            entry_id,
            '{"type": "Deposit"}',
            "amount: must be positive",
            "app.commands",
        )
        assert datetime.fromisoformat(letter.failed_at).tzinfo is not None
        assert store.count() == 1

    def test_the_bytes_are_kept_as_they_came_for_a_replay(self, store: DeadLetterStore) -> None:
        entry_id = store.add(b"\xff{not utf-8", "not UTF-8", b"app.commands")
        letter = store.get(entry_id)
        assert letter is not None
        assert (letter.raw, letter.raw_channel) == (b"\xff{not utf-8", b"app.commands")
        # for reading, a byte that is not UTF-8 is shown escaped
        assert (letter.message, letter.channel) == ("\\xff{not utf-8", "app.commands")

    def test_a_text_message_is_kept_as_its_utf8_bytes(self, store: DeadLetterStore) -> None:
        letter = store.get(store.add("café", "bad", "app.commands"))
        assert letter is not None
        assert (letter.raw, letter.raw_channel) == ("café".encode(), b"app.commands")

    def test_letters_are_listed_oldest_first_a_page_at_a_time(self, store: DeadLetterStore) -> None:
        ids = [store.add(f"m{n}", "bad", "app.commands") for n in range(5)]
        assert [letter.id for letter in store.list()] == ids
        assert [letter.message for letter in store.list(limit=2)] == ["m0", "m1"]
        assert [letter.id for letter in store.list(limit=2, after=ids[1])] == ids[2:4]
        assert store.list(after=ids[-1]) == []

    def test_a_removed_letter_is_gone_and_removing_it_again_is_harmless(
        self, store: DeadLetterStore
    ) -> None:
        kept, removed = store.add("kept", "bad", "c"), store.add("removed", "bad", "c")
        store.remove(removed)
        store.remove(removed)
        assert store.get(removed) is None
        assert [letter.id for letter in store.list()] == [kept]
        assert store.count() == 1

    def test_an_id_never_given_finds_nothing(self, store: DeadLetterStore) -> None:
        store.add("m", "bad", "c")
        assert store.get("999999999999999-0") is None
        store.remove("999999999999999-0")
        assert store.count() == 1


@attrs.frozen(kw_only=True)
class Probed(Event):
    """The message the inbox contract handles (an event: applied at most once per handler)."""

    probe: str = "p"


@attrs.frozen
class InboxCase:
    """An inbox and the units of work that write to it (fixture ``inbox_case`` of the contract)."""

    inbox: Inbox
    unit_of_work: Callable[[], AbstractUnitOfWork]


class InboxContract:
    """What the consumer relies on in an inbox: it knows exactly the committed (message,
    handler) pairs (fixture: ``inbox_case``)."""

    def handled(self, case: InboxCase, envelope: Envelope, handler: str) -> AbstractUnitOfWork:
        uow = case.unit_of_work()
        uow.handling = Handling(envelope, handler)
        return uow

    def test_an_inbox_knows_no_message_at_first(self, inbox_case: InboxCase) -> None:
        assert not inbox_case.inbox.applied(Envelope(message=Probed()).message_id, "handler")

    def test_a_committed_message_is_applied_for_its_handler_alone(
        self, inbox_case: InboxCase
    ) -> None:
        envelope, other = Envelope(message=Probed()), Envelope(message=Probed())
        with self.handled(inbox_case, envelope, "first") as uow:
            uow.commit()
        inbox = inbox_case.inbox
        assert inbox.applied(envelope.message_id, "first")
        assert not inbox.applied(envelope.message_id, "second")
        assert not inbox.applied(other.message_id, "first")

    def test_a_block_left_without_commit_leaves_no_trace(self, inbox_case: InboxCase) -> None:
        envelope = Envelope(message=Probed())
        with self.handled(inbox_case, envelope, "first"):
            pass
        assert not inbox_case.inbox.applied(envelope.message_id, "first")

    def test_a_message_applied_once_is_refused_to_its_handler_only(
        self, inbox_case: InboxCase
    ) -> None:
        envelope = Envelope(message=Probed())
        with self.handled(inbox_case, envelope, "first") as uow:
            uow.commit()
        again = self.handled(inbox_case, envelope, "first")
        try:
            with again:
                raise AssertionError("a message applied once was handled again")
        except AlreadyHandled:
            pass
        with self.handled(inbox_case, envelope, "second") as uow:
            uow.commit()
        assert inbox_case.inbox.applied(envelope.message_id, "second")
