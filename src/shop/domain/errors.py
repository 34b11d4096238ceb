"""Errors of the shop domain: one tree, mapped to HTTP statuses by family.

ShopError
├── InvalidValue (also ValueError; has ``field``)        → 422
│   ├── UnknownSku: an order line or batch names a sku the catalog does not know
│   └── UnknownCustomer: an order names a customer who is not registered
├── Forbidden: the role may not do this (CONTRACT §4)      → 403 (no OSError: never an outage)
├── NotFound (also LookupError)                          → 404
│   ├── ProductNotFound, CustomerNotFound, OrderNotFound, BatchNotFound
│   └── LineNotFound: the order has no line for that sku
└── RuleViolation: a business rule forbids the change now → 409
    ├── DuplicateSku, DuplicateBatch, ProductDiscontinued
    ├── OrderNotDraft, OrderEmpty, ShippingAddressMissing, TooManyLines
    ├── CurrencyMismatch
    ├── OrderNotConfirmed, OrderAlreadyShipped, OrderAlreadyCancelled
    ├── OrderNotPlaced, LineAlreadyAllocated
    └── BatchQuantityTooLow, AllocationMissing

Over the house's ~250 lines on purpose: one tree in one module, so the family that decides an
error's HTTP status is read in one place; each class is a few lines.
"""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error the shop's domain raises."""


class InvalidValue(ShopError, ValueError):
    """A value breaks a rule of its field; ``field`` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnknownSku(InvalidValue):
    """The sku given is not in the catalog."""

    def __init__(self, sku: str) -> None:
        super().__init__("sku", f"The catalog has no product with sku {sku!r}.")
        self.sku = sku


class UnknownCustomer(InvalidValue):
    """The customer id given is not registered."""

    def __init__(self, customer_id: str) -> None:
        super().__init__("customer_id", f"No customer is registered with id {customer_id!r}.")
        self.customer_id = customer_id


class Forbidden(ShopError):
    """The caller's role may not do this at all (CONTRACT §4); names the role, nothing else."""

    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"The {role} role may not {action}.")
        self.role = role
        self.action = action


class NotFound(ShopError, LookupError):
    """The thing asked for does not exist."""


class ProductNotFound(NotFound):
    """No product has this sku."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"No product has sku {sku!r}.")
        self.sku = sku


class CustomerNotFound(NotFound):
    """No customer has this id."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"No customer has id {customer_id!r}.")
        self.customer_id = customer_id


class OrderNotFound(NotFound):
    """No order has this id."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"No order has id {order_id!r}.")
        self.order_id = order_id


class BatchNotFound(NotFound):
    """No batch has this reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"No batch has reference {reference!r}.")
        self.reference = reference


class LineNotFound(NotFound):
    """The order has no line for this sku."""

    def __init__(self, order_id: str, sku: str) -> None:
        super().__init__(f"Order {order_id!r} has no line for sku {sku!r}.")
        self.order_id = order_id
        self.sku = sku


class RuleViolation(ShopError):
    """A business rule forbids this change now."""


class DuplicateSku(RuleViolation):
    """A product with this sku is already in the catalog."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"A product with sku {sku!r} is already in the catalog.")
        self.sku = sku


class DuplicateBatch(RuleViolation):
    """A batch with this reference already exists."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"A batch with reference {reference!r} already exists.")
        self.reference = reference


class DuplicateCustomer(RuleViolation):
    """A customer with this id is already registered."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"A customer with id {customer_id!r} is already registered.")
        self.customer_id = customer_id


class DuplicateOrder(RuleViolation):
    """An order with this id already exists."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"An order with id {order_id!r} already exists.")
        self.order_id = order_id


class ProductDiscontinued(RuleViolation):
    """The product is discontinued and cannot be ordered or repriced."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"Product {sku!r} is discontinued.")
        self.sku = sku


class OrderNotDraft(RuleViolation):
    """The order's lines and address change only while it is a draft."""

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"Order {order_id!r} is {status}, and only a draft can be changed.")
        self.order_id = order_id
        self.status = status


class OrderEmpty(RuleViolation):
    """An order without lines cannot be placed."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"Order {order_id!r} has no lines, so it cannot be placed.")
        self.order_id = order_id


class ShippingAddressMissing(RuleViolation):
    """An order without a shipping address cannot be placed."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"Order {order_id!r} has no shipping address, so it cannot be placed.")
        self.order_id = order_id


class TooManyLines(RuleViolation):
    """An order holds at most a fixed number of lines."""

    def __init__(self, order_id: str, limit: int) -> None:
        super().__init__(f"Order {order_id!r} already has the maximum of {limit} lines.")
        self.order_id = order_id
        self.limit = limit


class CurrencyMismatch(RuleViolation):
    """Amounts in different currencies cannot be combined."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"Cannot combine {actual} with {expected}: the currencies differ.")
        self.expected = expected
        self.actual = actual


class OrderNotConfirmed(RuleViolation):
    """Only a confirmed order can be shipped."""

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"Order {order_id!r} is {status}; only a confirmed order can ship.")
        self.order_id = order_id
        self.status = status


class OrderAlreadyShipped(RuleViolation):
    """A shipped order cannot be cancelled or shipped again."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"Order {order_id!r} has already shipped.")
        self.order_id = order_id


class OrderAlreadyCancelled(RuleViolation):
    """A cancelled order cannot change any more."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"Order {order_id!r} has been cancelled.")
        self.order_id = order_id


class OrderNotPlaced(RuleViolation):
    """Only a placed order's lines take stock."""

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"Order {order_id!r} is {status}; only a placed order takes stock.")
        self.order_id = order_id
        self.status = status


class LineAlreadyAllocated(RuleViolation):
    """An order line holds stock from one batch at most."""

    def __init__(self, order_id: str, sku: str, batch_reference: str) -> None:
        super().__init__(
            f"The {sku!r} line of order {order_id!r} already holds stock from {batch_reference!r}."
        )
        self.order_id = order_id
        self.sku = sku
        self.batch_reference = batch_reference


class BatchQuantityTooLow(RuleViolation):
    """A batch cannot shrink below units that no order line can give back.

    Shipped units have left the batch, so this means its counter disagrees with the lines
    holding it: refused rather than corrupting the stock further.
    """

    def __init__(self, reference: str, quantity: int, minimum: int) -> None:
        super().__init__(
            f"Batch {reference!r} cannot go down to {quantity}: "
            f"{minimum} units belong to orders that cannot release them."
        )
        self.reference = reference
        self.quantity = quantity
        self.minimum = minimum


class AllocationMissing(RuleViolation):
    """Releasing more units from a batch than are allocated to it would corrupt the stock."""

    def __init__(self, reference: str, quantity: int, allocated: int) -> None:
        super().__init__(
            f"Batch {reference!r} has {allocated} units allocated, fewer than the {quantity} "
            "being released."
        )
        self.reference = reference
        self.quantity = quantity
        self.allocated = allocated
