"""Background workers (consumer, relay, recovery) and the operational sub-commands.

The Redis bridge lands in its own change; until then these say so plainly.
"""

from __future__ import annotations

import argparse
import sys
import threading

from shop.bootstrap import Shop


def start_workers(shop: Shop, stop: threading.Event) -> list[threading.Thread]:
    """Start the consumer, relay and recovery threads of ``shop run``."""
    return []


def run_consumer_loop(shop: Shop, stop: threading.Event) -> None:
    """Consume until ``stop`` is set."""
    raise SystemExit("shop: the consumer is not available in this version")


def run_relay_loop(shop: Shop, stop: threading.Event) -> None:
    """Relay until ``stop`` is set."""
    raise SystemExit("shop: the relay is not available in this version")


def dead_letter_command(args: argparse.Namespace, shop: Shop) -> int:
    """``shop dead-letters``."""
    print("shop: dead letters are not available in this version", file=sys.stderr)
    return 1


def outbox_status_command(shop: Shop) -> int:
    """``shop outbox status``."""
    print("shop: outbox status is not available in this version", file=sys.stderr)
    return 1


def views_rebuild_command(shop: Shop) -> int:
    """``shop views rebuild``."""
    print("shop: views rebuild is not available in this version", file=sys.stderr)
    return 1
