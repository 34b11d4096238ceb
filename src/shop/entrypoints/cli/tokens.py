"""``shop tokens issue``: a signed access token from the configured secret (CONTRACT §1, §4)."""

from __future__ import annotations

import sys

import click

from shop.adapters.tokens import issue_token, token_keys
from shop.config import Settings
from shop.domain.visa import Role
from shop.entrypoints.cli.params import Group, Number, OneOf, Shaped
from shop.entrypoints.cli.runner import runs

ROLE_NAMES = ("customer", "warehouse", "staff")
MAX_TTL = 366 * 24 * 3600
SUBJECT = Shaped(
    "text",
    r".{1,200}",
    "a subject is 1-200 printable characters",
    check=lambda found: found[0].isprintable(),
)
CUSTOMER_ID = Shaped(
    "text",
    r".{1,200}",
    "a customer id is 1-200 printable characters",
    check=lambda found: found[0].isprintable(),
)
TTL = Number("the ttl", 1, MAX_TTL, unit=" seconds")


@click.group("tokens", cls=Group)
def tokens() -> None:
    """Access tokens for the HTTP API."""


@tokens.command("issue")
@click.option("--role", required=True, type=OneOf(ROLE_NAMES), help="what the token may do")
@click.option("--subject", required=True, type=SUBJECT, help="who the token is for")
@click.option("--customer-id", type=CUSTOMER_ID, help="the customer a customer token speaks for")
@click.option("--ttl", type=TTL, default=3600, help="seconds it is valid")
@runs()
def issue(settings: Settings, role: str, subject: str, customer_id: str | None, ttl: int) -> int:
    """Print a signed access token made with the configured secret."""
    return tokens_command(settings, Role(role), subject, customer_id, ttl)


def tokens_command(
    settings: Settings, role: Role, subject: str, customer_id: str | None, ttl: int
) -> int:
    """Print a token; exit 2 with one line when it cannot be made here."""
    if (role == Role.CUSTOMER) != (customer_id is not None):
        print("shop: --customer-id is needed with --role customer, and only then", file=sys.stderr)
        return 2
    keys = token_keys(settings.auth)
    print(
        issue_token(
            keys,
            settings.auth,
            role=role,
            subject=subject,
            customer_id=customer_id,
            ttl=ttl,
        )
    )
    return 0
