"""The shapes of the API's own answers: new ids, health, problems (CONTRACT §2, §5)."""

from __future__ import annotations

from typing import Literal

import attrs

from seedwork.core.errors import FieldError

Health = Literal["ok", "unavailable"]


@attrs.frozen
class NewProduct:
    """The sku of the product added."""

    sku: str


@attrs.frozen
class NewBatch:
    """The reference of the batch added."""

    reference: str


@attrs.frozen
class NewCustomer:
    """The id given to the customer registered."""

    customer_id: str


@attrs.frozen
class NewOrder:
    """The id given to the draft order (also in ``Location``)."""

    order_id: str


@attrs.frozen
class Liveness:
    """The process serves."""

    status: Literal["ok"]


@attrs.frozen
class Readiness:
    """Whether the database and Redis answer; the failing part says ``unavailable``."""

    status: Health
    database: Health
    redis: Health


@attrs.frozen
class Problem:
    """An error, as application/problem+json (RFC 9457); ``errors`` names each invalid field."""

    type: str
    title: str
    status: int
    detail: str
    errors: tuple[FieldError, ...] = ()
