"""Customer use cases: registration."""

from __future__ import annotations

from shop.domain import commands
from shop.domain.customers import Customer
from shop.domain.errors import DuplicateCustomer
from shop.domain.visa import SYSTEM, Action, Visa
from shop.service_layer.unit_of_work import ShopUnitOfWork


def register_customer(
    command: commands.RegisterCustomer, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Register a customer under a new id."""
    visa.require(Action.REGISTER_CUSTOMER)
    with uow:
        if uow.customers.get(command.customer_id) is not None:
            raise DuplicateCustomer(command.customer_id)
        customer = Customer.register(
            command.customer_id, command.name, command.email, command.tier, visa=visa
        )
        uow.customers.add(customer)
        uow.commit()
