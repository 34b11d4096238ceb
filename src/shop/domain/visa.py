"""Who may do what (CONTRACT §4): the caller's visa, which every aggregate checks in its behaviour.

A visa names a subject and a role; a customer's visa also names the customer it speaks for.
The questions it answers are the contract's table: whether the role may do an action at all
(else ``Forbidden``: 403), and whether the data is the visa's own (else the thing is, for this
caller, not there: 404). In-process reactions act as the system, which may do everything.
"""

from __future__ import annotations

import enum

import attrs

from shop.domain.errors import Forbidden


class Role(enum.StrEnum):
    """A principal's role; ``system`` is the shop's own and never a token's."""

    CUSTOMER = "customer"
    WAREHOUSE = "warehouse"
    STAFF = "staff"
    SYSTEM = "system"


#: The roles a token may carry.
TOKEN_ROLES = (Role.CUSTOMER, Role.WAREHOUSE, Role.STAFF)


class Action(enum.StrEnum):
    """What the table of CONTRACT §4 allows or refuses, row by row."""

    MANAGE_CATALOG = "change the catalog"
    MANAGE_STOCK = "change or read the stock"
    REGISTER_CUSTOMER = "register customers"
    READ_CUSTOMER = "read customers"
    CREATE_ORDER = "create orders"
    CHANGE_ORDER = "change orders"
    CANCEL_ORDER = "cancel orders"
    SHIP_ORDER = "ship orders"
    READ_ORDER = "read orders"
    READ_METRICS = "read the metrics"


_C, _W, _S, _SYS = Role.CUSTOMER, Role.WAREHOUSE, Role.STAFF, Role.SYSTEM
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.MANAGE_CATALOG: frozenset({_S, _SYS}),
    Action.MANAGE_STOCK: frozenset({_W, _S, _SYS}),
    Action.REGISTER_CUSTOMER: frozenset({_S, _SYS}),
    Action.READ_CUSTOMER: frozenset({_C, _S, _SYS}),
    Action.CREATE_ORDER: frozenset({_C, _S, _SYS}),
    Action.CHANGE_ORDER: frozenset({_C, _S, _SYS}),
    Action.CANCEL_ORDER: frozenset({_C, _W, _S, _SYS}),
    Action.SHIP_ORDER: frozenset({_W, _S, _SYS}),
    Action.READ_ORDER: frozenset({_C, _W, _S, _SYS}),
    Action.READ_METRICS: frozenset({_S, _SYS}),
}


@attrs.frozen
class Visa:
    """A caller: ``subject`` in ``role`` (a customer's also names ``customer_id``)."""

    subject: str
    role: Role
    customer_id: str | None = None

    def may(self, action: Action) -> bool:
        """Whether the role may do ``action`` at all (to some data)."""
        return self.role in ALLOWED[action]

    def require(self, action: Action) -> None:
        """``Forbidden`` unless the role may do ``action``."""
        if not self.may(action):
            raise Forbidden(self.role.value, action.value)

    def speaks_for(self, customer_id: str) -> bool:
        """Whether data of ``customer_id`` is this visa's own (every role but customer: yes)."""
        return self.role != Role.CUSTOMER or customer_id == self.customer_id

    def may_order_for(self, customer_id: str) -> bool:
        """Whether it may start an order for ``customer_id`` (a customer: only for itself)."""
        return self.may(Action.CREATE_ORDER) and self.speaks_for(customer_id)

    def may_see_customer(self, customer_id: str) -> bool:
        """Whether the customer ``customer_id`` (record and order list) exists for this visa."""
        return self.may(Action.READ_CUSTOMER) and self.speaks_for(customer_id)

    def may_see_order_of(self, customer_id: str) -> bool:
        """Whether an order of ``customer_id`` exists for this visa."""
        return self.may(Action.READ_ORDER) and self.speaks_for(customer_id)


#: The shop itself: in-process reactions, and in-process callers that name no one else.
SYSTEM = Visa(subject="system", role=Role.SYSTEM)
