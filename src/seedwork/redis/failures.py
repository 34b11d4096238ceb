"""Redis failures for ``seedwork.core.failures.Failures``: an unreachable or slow Redis is
transient; it says nothing about the message."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from seedwork.core.failures import Failures

REDIS = Failures(transient_types=(RedisConnectionError, RedisTimeoutError))
