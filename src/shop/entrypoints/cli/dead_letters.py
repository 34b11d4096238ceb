"""``shop dead-letters list``, ``replay ID`` and ``replay --all [--error KIND]``.

A replay applies the kept message again through the consumer (same checks, same transient
retries); one that is applied is removed, one that fails again stays with its entry. The
``KIND`` of a dead letter is the word before the first colon of its error
(``InvalidField``, ``Unavailable``, ``DeliveryLimit`` …). A replay waits for an unreachable
database at most ``PATIENCE`` seconds in all, then keeps what is left for a later replay.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import click

from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.dead_letters import DeadLetter, DeadLetterStore
from shop.bootstrap import Shop
from shop.config import Settings
from shop.entrypoints.cli.kept import Listing, replay_one
from shop.entrypoints.cli.params import Group, Number, Shaped
from shop.entrypoints.cli.runner import Redis, execute, operational_shop, runs
from shop.entrypoints.workers import build_consumer

PATIENCE = 30.0
PAGE = 100


LIMIT = Number("the limit", 1)
_LARGEST_ENTRY_PART = 2**64 - 1
ENTRY_ID = Shaped(
    "ID",
    r"(\d{1,20})-(\d{1,20})",
    "not a dead-letter id: {value} (ids look like 1732355000000-0; see 'shop dead-letters list')",
    check=lambda found: all(int(part) <= _LARGEST_ENTRY_PART for part in found.groups()),
)
ERROR_KIND = Shaped(
    "KIND",
    r"[A-Za-z][A-Za-z0-9_]{0,63}",
    "not an error kind: {value} (the word before the first colon of a dead letter's error,"
    " e.g. InvalidField; see 'shop dead-letters list')",
)


@click.group("dead-letters", cls=Group)
def dead_letters() -> None:
    """Messages that could not be processed: list them, replay one or every one (of a kind)."""


@dead_letters.command("list")
@click.option("--limit", type=LIMIT, default=50, help="at most this many, oldest first")
@runs(redis=Redis.ASKED)
def list_command(settings: Settings, limit: int) -> int:
    """List dead letters, oldest first."""
    return dead_letter_command(
        operational_shop(settings), lambda consumer, stop: _list(consumer.dead_letters, limit)
    )


@dead_letters.command("replay")
@click.argument("entry_id", metavar="[ID]", required=False, type=ENTRY_ID)
@click.option("--all", "every", is_flag=True, help="every dead letter, oldest first")
@click.option(
    "--error",
    "kind",
    metavar="KIND",
    type=ERROR_KIND,
    help="with --all: only those whose error is of this kind (e.g. InvalidField)",
)
def replay_command(entry_id: str | None, every: bool, kind: str | None) -> int:
    """Re-drive one dead letter (ID, as listed), or every one (--all), or every one of a kind."""
    if entry_id is None and not every:
        raise click.UsageError(
            "one of the arguments id --all is required", click.get_current_context()
        )
    if entry_id is not None and every:
        raise click.UsageError(
            "argument --all: not allowed with argument id", click.get_current_context()
        )
    if kind is not None and not every:
        print("shop: --error KIND goes with --all", file=sys.stderr)
        return 2

    def body(settings: Settings) -> int:
        if every:
            return dead_letter_command(
                operational_shop(settings), lambda consumer, stop: _replay_all(consumer, kind, stop)
            )
        assert entry_id is not None
        return dead_letter_command(
            operational_shop(settings), lambda consumer, stop: _replay_one(consumer, entry_id, stop)
        )

    return execute(body, redis=Redis.ASKED)


def dead_letter_command(
    shop: Shop, action: Callable[[CommandConsumer, threading.Event], int]
) -> int:
    """Run ``action`` with the consumer of the dead letters; a replay waits ``PATIENCE`` at most."""
    try:
        if shop.redis is None:
            print(
                "shop: REDIS_URL must be set for this command (or run it in the directory of a"
                " shop run with its embedded Redis)",
                file=sys.stderr,
            )
            return 2
        consumer = build_consumer(shop)
        stop = threading.Event()
        timer = threading.Timer(PATIENCE, stop.set)
        timer.daemon = True
        timer.start()
        try:
            return action(consumer, stop)
        finally:
            timer.cancel()
    finally:
        shop.close()


def kind_of(letter: DeadLetter) -> str:
    """The kind of a dead letter's error: ``InvalidField`` in ``InvalidField: reference: …``."""
    return letter.error.partition(":")[0].strip()


LISTING = Listing[DeadLetter](
    "dead letters",
    [("ID", 18), ("FAILED AT", 32), ("CHANNEL", 36), ("ERROR / MESSAGE", 0)],
    lambda letter: (letter.id, letter.failed_at, letter.channel, letter.error),
    lambda letter: letter.message if len(letter.message) <= 80 else letter.message[:77] + "...",
)


def _list(store: DeadLetterStore, limit: int) -> int:
    return LISTING.show(store.list(limit), store.count)


def _replay(consumer: CommandConsumer, letter: DeadLetter, stop: threading.Event) -> str:
    """Apply one dead letter again; returns the error it failed with, or "" once removed."""
    # The bytes as they came (``message`` is only their display text).
    outcome = consumer.apply(letter.raw, letter.raw_channel, stop=stop)
    if not outcome.ok:
        return outcome.error
    consumer.dead_letters.remove(letter.id)
    return ""


def _replay_one(consumer: CommandConsumer, entry_id: str, stop: threading.Event) -> int:
    return replay_one(
        "dead letter",
        entry_id,
        consumer.dead_letters.get(entry_id),
        lambda letter: _replay(consumer, letter, stop),
        lambda letter: "applied, and removed from the dead letters",
    )


def _replay_all(consumer: CommandConsumer, kind: str | None, stop: threading.Event) -> int:
    store = consumer.dead_letters
    budget = store.count()  # the letters there now; any added meanwhile wait for the next run
    seen = matched = applied = 0
    after: str | None = None
    while seen < budget:
        page = store.list(min(PAGE, budget - seen), after=after)
        if not page:
            break
        for letter in page:
            seen += 1
            if kind is not None and kind_of(letter) != kind:
                continue
            matched += 1
            error = _replay(consumer, letter, stop)
            if error:
                print(f"kept {letter.id}: failed again: {error}")
            else:
                applied += 1
                print(f"replayed {letter.id}: applied, and removed")
        after = page[-1].id
    of_kind = "" if kind is None else f" of kind {kind}"
    kept = matched - applied
    print(f"{matched} dead letters{of_kind} replayed: {applied} applied and removed, {kept} kept")
    return 1 if kept else 0
