"""The pub/sub way in: a pattern subscription on ``<prefix>.commands.*``.

Pub/sub is fire-and-forget: what is published while the listener is disconnected is not seen
(the stream is the durable way in, ``seedwork.redis.stream_listener``).
"""

from __future__ import annotations

import logging
import threading

from redis import Redis

from seedwork.redis.channels import Channels
from seedwork.redis.publisher import UNREACHABLE, await_redis
from seedwork.redis.sinks import Sink
from seedwork.redis.wire import shown

log = logging.getLogger("seedwork.redis.consumer")


class ChannelListener:
    """Pattern-subscribes to ``<prefix>.commands.*`` and hands each message to the consumer."""

    def __init__(
        self, client: Redis, channels: Channels, consumer: Sink, *, poll: float = 0.5
    ) -> None:
        self._client = client
        self._channels = channels
        self._consumer = consumer
        self._poll = poll
        self.subscribed = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Listen until stopped."""
        while not stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.psubscribe(self._channels.commands_pattern)
                log.info("consumer subscribed pattern=%s", self._channels.commands_pattern)
                self.subscribed.set()
                while not stop.is_set():
                    message = pubsub.get_message(timeout=self._poll)
                    if message is not None and message["type"] == "pmessage":
                        self._hand_over(message["data"], message["channel"], stop)
            except UNREACHABLE as error:
                self.subscribed.clear()
                log.warning("consumer lost redis source=channels error=%r", error)
                if not await_redis(self._client, stop, "consumer-channels"):
                    break
            finally:
                self.subscribed.clear()
                pubsub.close()
        log.info("consumer stopped source=channels")

    def _hand_over(self, raw: bytes, channel: bytes, stop: threading.Event) -> None:
        """Submit one message; one the sink fails on is a dead letter (it cannot come again)."""
        try:
            self._consumer.submit(raw, channel, stop=stop)
        except UNREACHABLE:
            raise
        except Exception as error:
            log.exception("consumer failed on a message channel=%s", shown(channel))
            self._consumer.reject(raw, f"InternalError: {type(error).__name__}", channel)
