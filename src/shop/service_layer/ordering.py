"""Order use cases: build a draft, place it, cancel it, ship it."""

from __future__ import annotations

from shop.domain import commands
from shop.domain.errors import (
    BatchNotFound,
    DuplicateOrder,
    OrderNotFound,
    ProductDiscontinued,
    UnknownCustomer,
    UnknownSku,
)
from shop.domain.ordering import Address, Order
from shop.domain.visa import SYSTEM, Action, Visa
from shop.service_layer.unit_of_work import ShopUnitOfWork


def create_order(command: commands.CreateOrder, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Start a draft order, priced with the customer's tier as it is now."""
    Order.admit_creation(visa, command.customer_id)
    with uow:
        customer = uow.customers.get(command.customer_id)
        if customer is None:
            raise UnknownCustomer(command.customer_id)
        if uow.orders.get(command.order_id) is not None:
            raise DuplicateOrder(command.order_id)
        order = Order.create(command.order_id, command.customer_id, customer.tier, visa=visa)
        uow.orders.add(order)
        uow.commit()


def add_order_line(
    command: commands.AddOrderLine, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Add units of a sku at its catalog price; the product must be sold."""
    with uow:
        order = load_order(uow, command.order_id, visa, Action.CHANGE_ORDER)
        product = uow.products.get(command.sku)
        if product is None:
            raise UnknownSku(command.sku)
        if not product.active:
            raise ProductDiscontinued(command.sku)
        order.add_line(product.sku, product.name, product.price, command.quantity, visa=visa)
        uow.commit()


def remove_order_line(
    command: commands.RemoveOrderLine, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Remove a sku's line from a draft."""
    with uow:
        order = load_order(uow, command.order_id, visa, Action.CHANGE_ORDER)
        order.remove_line(command.sku, visa=visa)
        uow.commit()


def set_shipping_address(
    command: commands.SetShippingAddress, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Set where a draft ships to."""
    with uow:
        order = load_order(uow, command.order_id, visa, Action.CHANGE_ORDER)
        address = Address(command.street, command.city, command.postcode, command.country)
        order.set_shipping_address(address, visa=visa)
        uow.commit()


def place_order(command: commands.PlaceOrder, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Place a draft; allocation follows from ``OrderPlaced``."""
    with uow:
        load_order(uow, command.order_id, visa, Action.CHANGE_ORDER).place(visa=visa)
        uow.commit()


def cancel_order(command: commands.CancelOrder, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Cancel an order; its stock is released when ``OrderCancelled`` is handled."""
    with uow:
        order = load_order(uow, command.order_id, visa, Action.CANCEL_ORDER)
        order.cancel(command.reason, visa=visa)
        uow.commit()


def ship_order(command: commands.ShipOrder, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Ship a confirmed order; its units leave their batches in the same change."""
    with uow:
        order = load_order(uow, command.order_id, visa, Action.SHIP_ORDER)
        order.ship(command.tracking_number, visa=visa)
        for line in order.lines:
            reference = line.batch_reference
            assert reference is not None  # a shipped order has every line allocated
            stock = uow.stocks.get(line.sku)
            if stock is None:
                raise BatchNotFound(reference)
            stock.ship(order.order_id, line.sku, line.quantity, reference)
        uow.commit()


def load_order(
    uow: ShopUnitOfWork, order_id: str, visa: Visa = SYSTEM, action: Action = Action.READ_ORDER
) -> Order:
    """The order with ``order_id`` for ``visa`` to ``action``.

    ``Forbidden`` when the role may not ``action`` at all (whether the order exists or not);
    ``OrderNotFound`` when there is none, or none of the visa's own.
    """
    visa.require(action)
    order = uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    order.admit(visa, action)
    return order
