"""``shop tokens issue``: a signed access token from the configured secret (CONTRACT §1, §4)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shop.adapters.tokens import issue_token, token_keys
from shop.config import Settings
from shop.domain.visa import Role

ROLE_NAMES = ("customer", "warehouse", "staff")
MAX_TTL = 366 * 24 * 3600


def _subject(value: str) -> str:
    if not value or len(value) > 200 or not value.isprintable():
        raise argparse.ArgumentTypeError("a subject is 1-200 printable characters")
    return value


def _ttl(value: str) -> int:
    try:
        ttl = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 1 <= ttl <= MAX_TTL:
        raise argparse.ArgumentTypeError(f"the ttl must be 1-{MAX_TTL} seconds, got {ttl}")
    return ttl


def add_parser(commands: Any) -> None:
    """Add ``tokens issue`` to the sub-commands."""
    tokens = commands.add_parser("tokens", help="access tokens for the HTTP API")
    actions = tokens.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", help="print a signed access token")
    issue.add_argument("--role", required=True, choices=ROLE_NAMES)
    issue.add_argument("--subject", required=True, type=_subject, help="who the token is for")
    issue.add_argument("--customer-id", help="the customer a customer token speaks for")
    issue.add_argument("--ttl", type=_ttl, default=3600, help="seconds it is valid (3600)")


def tokens_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print a token; exit 2 with one line when it cannot be made here."""

    role = Role(args.role)
    if (role == Role.CUSTOMER) != (args.customer_id is not None):
        print("shop: --customer-id is needed with --role customer, and only then", file=sys.stderr)
        return 2
    if args.customer_id is not None and not _subject_ok(args.customer_id):
        print("shop: --customer-id must be 1-200 printable characters", file=sys.stderr)
        return 2
    keys = token_keys(settings.auth)
    print(
        issue_token(
            keys,
            settings.auth,
            role=role,
            subject=args.subject,
            customer_id=args.customer_id,
            ttl=args.ttl,
        )
    )
    return 0


def _subject_ok(value: str) -> bool:
    return bool(value) and len(value) <= 200 and value.isprintable()
