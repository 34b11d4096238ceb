"""``DeadLetterStream`` on a real Redis passes the dead-letter contract (as the fake does)."""

from __future__ import annotations

import pytest
from redis import Redis

from seedwork.redis.dead_letters import DeadLetterStore, DeadLetterStream
from seedwork.testing.contracts import DeadLetterStoreContract


class TestDeadLetterStream(DeadLetterStoreContract):
    @pytest.fixture
    def store(self, redis: Redis, channel_prefix: str) -> DeadLetterStore:
        return DeadLetterStream(redis, f"{channel_prefix}.dead_letters")
