"""Ordering: a customer's order, its lines, where it ships, and its life from draft to shipped.

Longer than the house's ~250 lines for a reason: the order is one aggregate, one consistency
boundary, and its lines and address change only through it; the rules that guard them read best
side by side with the state they guard.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

import attrs

from seedwork.core.model import AggregateRoot, Entity
from shop.domain import counts, events, pricing, text
from shop.domain.errors import (
    CurrencyMismatch,
    Forbidden,
    InvalidValue,
    LineAlreadyAllocated,
    LineNotFound,
    OrderAlreadyCancelled,
    OrderAlreadyShipped,
    OrderEmpty,
    OrderNotConfirmed,
    OrderNotDraft,
    OrderNotFound,
    OrderNotPlaced,
    ShippingAddressMissing,
    TooManyLines,
)
from shop.domain.kernel import BatchReference, CustomerId, OrderId, Sku, Tier
from shop.domain.money import Money, total
from shop.domain.visa import SYSTEM, Action, Visa

MAX_LINES = 50
MAX_LINE_QUANTITY = 1_000_000
EMPTY_ORDER_CURRENCY = "EUR"
# ISO 3166-1 alpha-2: the 249 officially assigned codes.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()  # noqa: SIM905 -- 249 codes read better as a table
)


class OrderStatus(enum.StrEnum):
    """Where an order is in its life."""

    DRAFT = "draft"
    PLACED = "placed"
    CONFIRMED = "confirmed"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# Statuses in which the order's lines hold or wait for stock.
TAKING_STOCK = frozenset({OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.BACKORDERED})


def _country_code(_: Any, __: Any, value: str) -> None:
    if value not in COUNTRIES:
        raise InvalidValue("country", f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


@attrs.frozen
class Address:
    """Where an order ships to."""

    street: str = attrs.field(validator=text.ADDRESS_LINE)
    city: str = attrs.field(validator=text.ADDRESS_LINE)
    postcode: str = attrs.field(validator=text.ADDRESS_LINE)
    country: str = attrs.field(validator=_country_code)

    def view(self) -> events.AddressView:
        """This address as the read models show it."""
        return events.AddressView(self.street, self.city, self.postcode, self.country)

    def __composite_values__(self) -> tuple[str, str, str, str]:
        """(street, city, postcode, country): how a mapper stores this value in columns."""
        return (self.street, self.city, self.postcode, self.country)


@attrs.define(slots=False, eq=False)
class OrderLine(Entity):
    """Some units of one sku in an order, at the price the catalog had when they were added."""

    identity_field: ClassVar[str] = "sku"

    sku: Sku
    name: str
    quantity: int
    unit_price: Money
    batch_reference: BatchReference | None = None

    @property
    def allocated(self) -> bool:
        """Whether the line holds stock from a batch."""
        return self.batch_reference is not None

    @property
    def line_total(self) -> Money:
        """Unit price times quantity."""
        return self.unit_price * self.quantity

    def view(self) -> events.OrderLineView:
        """This line as the read models show it."""
        return events.OrderLineView(
            self.sku, self.name, self.quantity, self.unit_price, self.line_total,
            self.batch_reference,
        )  # fmt: skip


def _zero() -> Money:
    return Money.zero(EMPTY_ORDER_CURRENCY)


@attrs.define(slots=False, eq=False)
class Order(AggregateRoot):
    """A customer's order; its totals follow its lines and the customer's tier."""

    identity_field: ClassVar[str] = "order_id"

    order_id: OrderId
    customer_id: CustomerId
    tier: Tier = Tier.BRONZE
    status: OrderStatus = OrderStatus.DRAFT
    lines: list[OrderLine] = attrs.Factory(list)
    shipping_address: Address | None = None
    tracking_number: str | None = None
    cancel_reason: str | None = None
    subtotal: Money = attrs.Factory(_zero)
    discount: Money = attrs.Factory(_zero)
    shipping_cost: Money = attrs.Factory(_zero)
    total: Money = attrs.Factory(_zero)
    version: int = 0

    @classmethod
    def create(
        cls,
        order_id: OrderId,
        customer_id: CustomerId,
        tier: Tier | str = Tier.BRONZE,
        *,
        visa: Visa = SYSTEM,
    ) -> Order:
        """A new draft order; ``tier`` is the customer's tier now, used for its discount."""
        cls.admit_creation(visa, customer_id)
        order = cls(order_id=order_id, customer_id=customer_id, tier=Tier.parse(tier))
        order.record(events.OrderCreated(order_id=order_id, customer_id=customer_id))
        order._revised()
        return order

    @staticmethod
    def admit_creation(visa: Visa, customer_id: CustomerId) -> None:
        """``Forbidden`` unless ``visa`` may start an order for ``customer_id``."""
        visa.require(Action.CREATE_ORDER)
        if not visa.may_order_for(customer_id):
            raise Forbidden(visa.role.value, "create orders for another customer")

    def admit(self, visa: Visa, action: Action) -> None:
        """``Forbidden`` unless the role may ``action``; not found unless the order is its own."""
        visa.require(action)
        if not visa.speaks_for(self.customer_id):
            raise OrderNotFound(self.order_id)

    def line(self, sku: Sku) -> OrderLine:
        """The line for ``sku``; ``LineNotFound`` when there is none."""
        for line in self.lines:
            if line.sku == sku:
                return line
        raise LineNotFound(self.order_id, sku)

    def add_line(
        self, sku: Sku, name: str, unit_price: Money, quantity: int, *, visa: Visa = SYSTEM
    ) -> None:
        """Add units of a sku; the same sku again adds to its line's quantity."""
        self.admit(visa, Action.CHANGE_ORDER)
        self._require_draft()
        counts.QUANTITY.check("quantity", quantity)
        if self.lines and unit_price.currency != self.lines[0].unit_price.currency:
            raise CurrencyMismatch(self.lines[0].unit_price.currency, unit_price.currency)
        existing = next((line for line in self.lines if line.sku == sku), None)
        if existing is None and len(self.lines) >= MAX_LINES:
            raise TooManyLines(self.order_id, MAX_LINES)
        already = existing.quantity if existing else 0
        if already + quantity > MAX_LINE_QUANTITY:
            raise InvalidValue("quantity", f"A line holds at most {MAX_LINE_QUANTITY} units.")
        if existing is None:
            self.lines.append(OrderLine(sku, name, quantity, unit_price))
        else:
            existing.quantity += quantity
        self._reprice()
        self._revised()

    def remove_line(self, sku: Sku, *, visa: Visa = SYSTEM) -> None:
        """Remove the line for ``sku``."""
        self.admit(visa, Action.CHANGE_ORDER)
        self._require_draft()
        self.lines.remove(self.line(sku))
        self._reprice()
        self._revised()

    def set_shipping_address(self, address: Address, *, visa: Visa = SYSTEM) -> None:
        """Set where the order ships to."""
        self.admit(visa, Action.CHANGE_ORDER)
        self._require_draft()
        if address != self.shipping_address:
            self.shipping_address = address
            self._revised()

    def place(self, *, visa: Visa = SYSTEM) -> None:
        """Place a draft with lines and an address; its lines then wait for stock."""
        self.admit(visa, Action.CHANGE_ORDER)
        self._require_draft()
        if not self.lines:
            raise OrderEmpty(self.order_id)
        if self.shipping_address is None:
            raise ShippingAddressMissing(self.order_id)
        self.status = OrderStatus.PLACED
        placed = tuple(events.PlacedLine(ln.sku, ln.quantity, ln.unit_price) for ln in self.lines)
        self.record(
            events.OrderPlaced(
                order_id=self.order_id, customer_id=self.customer_id, lines=placed, total=self.total
            )
        )
        self._revised()

    def cancel(self, reason: str, *, visa: Visa = SYSTEM) -> None:
        """Cancel unless shipped; lines holding stock are released afterwards."""
        self.admit(visa, Action.CANCEL_ORDER)
        text.REASON.check("reason", reason)
        if self.status == OrderStatus.SHIPPED:
            raise OrderAlreadyShipped(self.order_id)
        if self.status == OrderStatus.CANCELLED:
            raise OrderAlreadyCancelled(self.order_id)
        self.status = OrderStatus.CANCELLED
        self.cancel_reason = reason
        released = tuple(
            events.AllocatedLine(line.sku, line.quantity, line.batch_reference)
            for line in self.lines
            if line.batch_reference is not None
        )
        self.record(events.OrderCancelled(order_id=self.order_id, reason=reason, released=released))
        self._revised()

    def ship(self, tracking_number: str, *, visa: Visa = SYSTEM) -> None:
        """Ship a confirmed order."""
        self.admit(visa, Action.SHIP_ORDER)
        text.TRACKING_NUMBER.check("tracking_number", tracking_number)
        if self.status == OrderStatus.SHIPPED:
            raise OrderAlreadyShipped(self.order_id)
        if self.status == OrderStatus.CANCELLED:
            raise OrderAlreadyCancelled(self.order_id)
        if self.status != OrderStatus.CONFIRMED or not all(ln.allocated for ln in self.lines):
            raise OrderNotConfirmed(self.order_id, self.status)
        self.status = OrderStatus.SHIPPED
        self.tracking_number = tracking_number
        self.record(events.OrderShipped(order_id=self.order_id, tracking_number=tracking_number))
        self._revised()

    def awaits_stock(self, sku: Sku) -> bool:
        """Whether the line for ``sku`` waits for stock: placed and not yet allocated."""
        return self.status in TAKING_STOCK and not self.line(sku).allocated

    def holds(self, sku: Sku, batch_reference: BatchReference) -> bool:
        """Whether the line for ``sku`` holds stock of that batch and may still give it back."""
        shipped = self.status == OrderStatus.SHIPPED
        return not shipped and self.line(sku).batch_reference == batch_reference

    def allocated_lines(self) -> list[OrderLine]:
        """Lines holding stock from a batch."""
        return [line for line in self.lines if line.allocated]

    def line_allocated(self, sku: Sku, batch_reference: BatchReference) -> None:
        """A line got stock; when every line has stock the order is confirmed."""
        line = self.line(sku)
        if line.batch_reference == batch_reference:
            return
        self._require_taking_stock()
        if line.batch_reference is not None:
            raise LineAlreadyAllocated(self.order_id, sku, line.batch_reference)
        line.batch_reference = batch_reference
        if all(line.allocated for line in self.lines) and self.status != OrderStatus.CONFIRMED:
            self.status = OrderStatus.CONFIRMED
            self.record(events.OrderConfirmed(order_id=self.order_id))
        self._revised()

    def line_out_of_stock(self, sku: Sku) -> None:
        """A line found no stock: the order waits for some (backordered)."""
        if self.line(sku).allocated or self.status not in TAKING_STOCK:
            return
        if self.status != OrderStatus.BACKORDERED:
            self.status = OrderStatus.BACKORDERED
            self.record(events.OrderBackordered(order_id=self.order_id))
            self._revised()

    def line_deallocated(self, sku: Sku, batch_reference: BatchReference | None = None) -> None:
        """A line gave its stock back (to ``batch_reference``, when given).

        A confirmed order is no longer fully allocated: it goes back to ``placed`` until the
        line is allocated elsewhere (confirmed again) or found out of stock (backordered), so
        it can never be shipped in between.
        """
        line = self.line(sku)
        if line.batch_reference is None or batch_reference not in (None, line.batch_reference):
            return
        line.batch_reference = None
        if self.status == OrderStatus.CONFIRMED:
            self.status = OrderStatus.PLACED
        self._revised()

    def _require_draft(self) -> None:
        if self.status != OrderStatus.DRAFT:
            raise OrderNotDraft(self.order_id, self.status)

    def _require_taking_stock(self) -> None:
        if self.status == OrderStatus.CANCELLED:
            raise OrderAlreadyCancelled(self.order_id)
        if self.status == OrderStatus.SHIPPED:
            raise OrderAlreadyShipped(self.order_id)
        if self.status not in TAKING_STOCK:
            raise OrderNotPlaced(self.order_id, self.status)

    def _reprice(self) -> None:
        if not self.lines:
            self.subtotal = self.discount = self.shipping_cost = self.total = _zero()
            return
        currency = self.lines[0].unit_price.currency
        self.subtotal = total([line.line_total for line in self.lines], currency)
        items = sum(line.quantity for line in self.lines)
        priced = pricing.price(self.subtotal, self.tier, items)
        self.discount, self.shipping_cost, self.total = (
            priced.discount, priced.shipping_cost, priced.total,
        )  # fmt: skip

    def _revised(self) -> None:
        address = self.shipping_address.view() if self.shipping_address else None
        self.record(
            events.OrderRevised(
                order_id=self.order_id,
                customer_id=self.customer_id,
                status=str(self.status),
                lines=tuple(line.view() for line in self.lines),
                shipping_address=address,
                subtotal=self.subtotal,
                discount=self.discount,
                shipping_cost=self.shipping_cost,
                total=self.total,
                tracking_number=self.tracking_number,
                cancel_reason=self.cancel_reason,
            )
        )
