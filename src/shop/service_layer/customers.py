"""Customer use cases: registration."""

from __future__ import annotations

from shop.domain import commands
from shop.domain.customers import Customer
from shop.domain.errors import DuplicateCustomer
from shop.service_layer.unit_of_work import ShopUnitOfWork


def register_customer(command: commands.RegisterCustomer, uow: ShopUnitOfWork) -> None:
    """Register a customer under a new id."""
    with uow:
        if uow.customers.get(command.customer_id) is not None:
            raise DuplicateCustomer(command.customer_id)
        customer = Customer.register(command.customer_id, command.name, command.email, command.tier)
        uow.customers.add(customer)
        uow.commit()
