"""Sending to Redis, and waiting for it to come back.

Reconnection waits come from tenacity and end early when the worker is stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.core.retry import sleeper

log = logging.getLogger("seedwork.redis")

#: Errors that mean "Redis is not reachable now": wait and reconnect.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisPublisher:
    """Publishes envelopes on channels and appends them to a stream, one pipeline per batch."""

    def __init__(self, client: Redis, stream: str, stream_maxlen: int | None = None) -> None:
        self._client = client
        self._stream = stream
        self._maxlen = stream_maxlen

    def publish_batch(self, messages: Sequence[tuple[str, str]]) -> None:
        """Send every (channel, text) in order; raises unless all of them went out."""
        pipe = self._client.pipeline(transaction=False)
        for channel, text in messages:
            pipe.publish(channel, text)
            pipe.xadd(self._stream, {"message": text}, maxlen=self._maxlen, approximate=True)
        pipe.execute()


def await_redis(client: Redis, stop: threading.Event, worker: str) -> bool:
    """Ping until Redis answers, backing off between tries; False when stopped first."""

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "redis unreachable, reconnecting worker=%s attempt=%d wait=%.2fs error=%r",
            worker,
            state.attempt_number,
            wait,
            error,
        )

    retrying = Retrying(
        retry=retry_if_exception_type(UNREACHABLE),
        wait=wait_random_exponential(multiplier=0.05, max=5.0),
        stop=stop_when_event_set(stop),
        sleep=sleeper(stop),
        before_sleep=note,
        reraise=True,
    )
    try:
        retrying(client.ping)
    except UNREACHABLE:
        return False
    log.info("redis reachable worker=%s", worker)
    return True
