"""The HTTP API of CONTRACT §2: one blueprint per bounded context."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every context's blueprint to the app."""
    from shop.entrypoints.api.catalog import catalog
    from shop.entrypoints.api.customers import customers
    from shop.entrypoints.api.inventory import inventory
    from shop.entrypoints.api.orders import orders

    for blueprint in (catalog, inventory, customers, orders):
        app.register_blueprint(blueprint)
