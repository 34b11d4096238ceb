"""Background workers (consumer, relay, recovery) and the operational sub-commands.

``shop run`` starts all three as threads of one process; ``shop consumer`` runs the consumer
and the recovery sweep; ``shop relay`` runs the relay. The consumer applies commands on
``workers`` lanes (threads), one batch or order per lane so that its commands stay in order.
How events get from the outbox to Redis in each process (the three routes) is told in one
place: ``seedwork.sqlalchemy.relay``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from redis import Redis

from seedwork.core.supervision import Supervisor
from seedwork.redis.channel_listener import ChannelListener
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.dead_letters import DeadLetterStream
from seedwork.redis.lanes import Lanes, key_fields
from seedwork.redis.publisher import RedisPublisher
from seedwork.redis.reader import CommandReader
from seedwork.redis.stream_listener import StreamListener
from seedwork.sqlalchemy.inbox import SqlInbox
from seedwork.sqlalchemy.outbox_status import outbox_status
from seedwork.sqlalchemy.recovery import RecoverySweep
from seedwork.sqlalchemy.relay import OutboxRelay
from shop.adapters import tables as db
from shop.adapters.failures import FAILURES
from shop.bootstrap import Shop
from shop.domain.integration import ACCEPTED_COMMANDS, INTEGRATION_EVENTS, wire_names

log = logging.getLogger("shop")

#: Consumer lanes (threads) by default: enough to overlap one command's database waits.
DEFAULT_CONSUMER_WORKERS = 4

#: What a command acts on (CONTRACT §3 payloads): its commands stay in order on one lane.
COMMAND_KEYS = key_fields("reference", "order_id")


def _redis(shop: Shop) -> Redis:
    if shop.redis is None:
        raise SystemExit("shop: REDIS_URL must be set for this command")
    return shop.redis


def build_relay(shop: Shop, *, listen: bool = False) -> OutboxRelay:
    """The outbox relay of a wired shop; ``listen``: woken by other processes' commits."""
    channels = Channels(shop.settings.channel_prefix)
    publisher = RedisPublisher(_redis(shop), channels.events_stream, shop.settings.stream_maxlen)
    outbox = db.seedwork_tables.outbox
    return OutboxRelay(
        shop.engine,
        outbox,
        publisher,
        channels.event_channel,
        wire_names(INTEGRATION_EVENTS),
        listen=listen,
        metrics=shop.metrics,
        tracing=shop.tracing,
    )


def build_consumer(shop: Shop) -> CommandConsumer:
    """The command consumer of a wired shop (without its listeners).

    Commands from Redis are structured exactly as HTTP bodies are (the shop's one message
    converter: the same text, integer and field rules), so neither door lets through what the
    other refuses.
    """
    channels = Channels(shop.settings.channel_prefix)
    reader = CommandReader(shop.serializer, channels, wire_names(ACCEPTED_COMMANDS))
    dead_letters = DeadLetterStream(
        _redis(shop),
        channels.dead_letters_stream,
        shop.settings.stream_maxlen,
        redact=shop.settings.redactor(),
    )
    inbox = SqlInbox(shop.engine, db.seedwork_tables.inbox)
    # Commands from Redis cannot say who sent them: they act as SHOP_REDIS_ROLE (CONTRACT §3).
    bus = shop.bus.acting_as(shop.settings.auth.redis_visa)
    return CommandConsumer(
        bus,
        reader,
        dead_letters,
        failures=FAILURES,
        inbox=inbox,
        metrics=shop.metrics,
        tracing=shop.tracing,
    )


def build_listeners(
    shop: Shop, consumer: CommandConsumer | Lanes
) -> tuple[ChannelListener, StreamListener]:
    """The pub/sub and stream listeners feeding a consumer (or its lanes)."""
    channels = Channels(shop.settings.channel_prefix)
    client = _redis(shop)
    stream = StreamListener(client, channels, consumer, keep=shop.settings.stream_maxlen)
    return ChannelListener(client, channels, consumer), stream


def build_recovery(shop: Shop) -> RecoverySweep:
    """The recovery sweep of a wired shop."""
    tables = db.seedwork_tables
    return RecoverySweep(shop.engine, tables.outbox, shop.serializer, shop.bus, inbox=tables.inbox)


def _thread(
    name: str, target: Callable[[threading.Event], None], stop: threading.Event
) -> threading.Thread:
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def start_workers(
    shop: Shop,
    stop: threading.Event,
    *,
    workers: int = DEFAULT_CONSUMER_WORKERS,
    failed: threading.Event | None = None,
) -> list[threading.Thread]:
    """Start the consumer, relay and recovery threads of ``shop run``.

    The relay stops after the consumer, so the events of its last commands still go out. A
    listener that keeps dying sets ``failed`` and ``stop``: the process should exit non-zero.
    """
    relay = build_relay(shop)
    # Events leave inline: each commit publishes at once, or wakes the relay thread (route 2
    # of seedwork.sqlalchemy.relay; this process does not NOTIFY, route 3).
    shop.on_commit.listeners.append(relay.publish_or_wake)
    relay_stop = threading.Event()

    def consume(stop: threading.Event) -> None:
        try:
            consume_commands(shop, stop, workers=workers)
        except BaseException:  # the consumer is never silently gone: the process winds down
            log.exception("the consumer stopped for good")
            if failed is not None:
                failed.set()
            stop.set()
        finally:
            relay_stop.set()
            relay.notify()  # now, not at its next poll

    return [
        _thread("consumer", consume, stop),
        _thread("relay", relay.run, relay_stop),
        _thread("recovery", build_recovery(shop).run, stop),
    ]


def consume_commands(
    shop: Shop,
    stop: threading.Event,
    *,
    workers: int = DEFAULT_CONSUMER_WORKERS,
    supervisor: Supervisor | None = None,
) -> None:
    """Consume (channels and stream, on ``workers`` lanes) until ``stop``; then finish them.

    Each listener is restarted when it dies; ``WorkerGaveUp`` when one kept dying.
    """
    supervisor = supervisor or Supervisor(stop)
    if supervisor.stop is not stop:
        raise ValueError("the supervisor must watch the same stop event")
    lanes = Lanes(build_consumer(shop), workers=workers, key=COMMAND_KEYS).start(stop)
    channel_listener, stream_listener = build_listeners(shop, lanes)
    channel_thread = supervisor.start("consumer-channels", channel_listener.run)
    try:
        supervisor.run("consumer-stream", stream_listener.run)
    finally:
        channel_thread.join(timeout=10)
        lanes.close(timeout=30)
    supervisor.check()


def run_consumer_loop(
    shop: Shop, stop: threading.Event, *, workers: int = DEFAULT_CONSUMER_WORKERS
) -> None:
    """``shop consumer``: consume, and sweep for lost reactions, until ``stop`` is set."""
    recovery = _thread("recovery", build_recovery(shop).run, stop)
    try:
        consume_commands(shop, stop, workers=workers)
    finally:
        stop.set()
        recovery.join(timeout=10)


def run_relay_loop(shop: Shop, stop: threading.Event) -> None:
    """Relay until ``stop`` is set, woken by the commits of ``shop api`` and ``shop consumer``."""
    build_relay(shop, listen=True).run(stop)


def outbox_status_command(shop: Shop) -> int:
    """``shop outbox status``."""
    try:
        status = outbox_status(shop.engine, db.seedwork_tables.outbox)
    finally:
        shop.close()
    age = "-" if status.oldest_pending_age is None else f"{status.oldest_pending_age:.1f} s"
    print(f"pending: {status.pending}")
    print(f"failed: {status.failed}")
    print(f"oldest pending age: {age}")
    return 0
