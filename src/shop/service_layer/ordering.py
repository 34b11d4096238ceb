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
from shop.service_layer.unit_of_work import ShopUnitOfWork


def create_order(command: commands.CreateOrder, uow: ShopUnitOfWork) -> None:
    """Start a draft order, priced with the customer's tier as it is now."""
    with uow:
        customer = uow.customers.get(command.customer_id)
        if customer is None:
            raise UnknownCustomer(command.customer_id)
        if uow.orders.get(command.order_id) is not None:
            raise DuplicateOrder(command.order_id)
        uow.orders.add(Order.create(command.order_id, command.customer_id, customer.tier))
        uow.commit()


def add_order_line(command: commands.AddOrderLine, uow: ShopUnitOfWork) -> None:
    """Add units of a sku at its catalog price; the product must be sold."""
    with uow:
        order = load_order(uow, command.order_id)
        product = uow.products.get(command.sku)
        if product is None:
            raise UnknownSku(command.sku)
        if not product.active:
            raise ProductDiscontinued(command.sku)
        order.add_line(product.sku, product.name, product.price, command.quantity)
        uow.commit()


def remove_order_line(command: commands.RemoveOrderLine, uow: ShopUnitOfWork) -> None:
    """Remove a sku's line from a draft."""
    with uow:
        load_order(uow, command.order_id).remove_line(command.sku)
        uow.commit()


def set_shipping_address(command: commands.SetShippingAddress, uow: ShopUnitOfWork) -> None:
    """Set where a draft ships to."""
    with uow:
        address = Address(command.street, command.city, command.postcode, command.country)
        load_order(uow, command.order_id).set_shipping_address(address)
        uow.commit()


def place_order(command: commands.PlaceOrder, uow: ShopUnitOfWork) -> None:
    """Place a draft; allocation follows from ``OrderPlaced``."""
    with uow:
        load_order(uow, command.order_id).place()
        uow.commit()


def cancel_order(command: commands.CancelOrder, uow: ShopUnitOfWork) -> None:
    """Cancel an order; its stock is released when ``OrderCancelled`` is handled."""
    with uow:
        load_order(uow, command.order_id).cancel(command.reason)
        uow.commit()


def ship_order(command: commands.ShipOrder, uow: ShopUnitOfWork) -> None:
    """Ship a confirmed order; its units leave their batches in the same change."""
    with uow:
        order = load_order(uow, command.order_id)
        order.ship(command.tracking_number)
        for line in order.lines:
            reference = line.batch_reference
            assert reference is not None  # a shipped order has every line allocated
            stock = uow.stocks.get(line.sku)
            if stock is None:
                raise BatchNotFound(reference)
            stock.ship(order.order_id, line.sku, line.quantity, reference)
        uow.commit()


def load_order(uow: ShopUnitOfWork, order_id: str) -> Order:
    """The order with ``order_id``; ``OrderNotFound`` when there is none."""
    order = uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order
