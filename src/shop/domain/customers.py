"""Customers: who buys, how to reach them, and the loyalty tier that earns them a discount."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from seedwork.core.model import AggregateRoot
from shop.domain import events, text
from shop.domain.errors import InvalidValue
from shop.domain.kernel import CustomerId, Tier
from shop.domain.visa import SYSTEM, Action, Visa

EMAIL_MAX_LENGTH = 254
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _is_a_normalized_address(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or not _is_valid_email(value):
        raise InvalidValue("email", f"{value!r} is not a valid email address.")


def _is_valid_email(text: str) -> bool:
    if len(text) > EMAIL_MAX_LENGTH or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if not _LOCAL_PART.fullmatch(local) or local.startswith(".") or local.endswith("."):
        return False
    if ".." in local or domain != domain.lower():
        return False
    labels = domain.split(".")
    top_level = labels[-1]
    return (
        len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and top_level.isalpha()
        and len(top_level) >= 2
    )


@attrs.frozen
class Email:
    """An email address with a lower-case domain; the local part keeps its case."""

    value: str = attrs.field(validator=_is_a_normalized_address)

    @classmethod
    def parse(cls, text: object) -> Email:
        """The email in ``text``, trimmed and with its domain lower-cased."""
        if not isinstance(text, str):
            raise InvalidValue("email", f"{text!r} is not a valid email address.")
        local, at, domain = text.strip().rpartition("@")
        return cls(f"{local}{at}{domain.lower()}" if at else text.strip())

    def __composite_values__(self) -> tuple[str]:
        """(value,): how a mapper stores this value in a column."""
        return (self.value,)

    def __str__(self) -> str:
        return self.value


@attrs.define(slots=False, eq=False)
class Customer(AggregateRoot):
    """Someone who buys from the shop."""

    identity_field: ClassVar[str] = "customer_id"

    customer_id: CustomerId
    name: str
    email: Email
    tier: Tier = Tier.BRONZE
    version: int = 0

    @classmethod
    def register(
        cls,
        customer_id: CustomerId,
        name: str,
        email: str | Email,
        tier: str | Tier = Tier.BRONZE,
        *,
        visa: Visa = SYSTEM,
    ) -> Customer:
        """A newly registered customer; staff's to register."""
        visa.require(Action.REGISTER_CUSTOMER)
        address = email if isinstance(email, Email) else Email.parse(email)
        customer = cls(
            customer_id=customer_id,
            name=text.NAME.check("name", name),
            email=address,
            tier=Tier.parse(tier),
        )
        customer.record(
            events.CustomerRegistered(
                customer_id=customer_id,
                name=customer.name,
                email=address.value,
                tier=customer.tier,
            )
        )
        return customer
