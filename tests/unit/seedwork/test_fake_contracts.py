"""The fakes pass the contracts their real counterparts pass in tests/integration."""

from __future__ import annotations

import pytest

from seedwork.redis.dead_letters import DeadLetterStore
from seedwork.testing.contracts import DeadLetterStoreContract, InboxCase, InboxContract
from seedwork.testing.fakes import FakeDeadLetterStream, FakeInbox, FakeUnitOfWork


class TestFakeDeadLetterStream(DeadLetterStoreContract):
    @pytest.fixture
    def store(self) -> DeadLetterStore:
        return FakeDeadLetterStream()


class TestFakeInbox(InboxContract):
    @pytest.fixture
    def inbox_case(self) -> InboxCase:
        inbox = FakeInbox()
        return InboxCase(inbox, lambda: FakeUnitOfWork(inbox))
