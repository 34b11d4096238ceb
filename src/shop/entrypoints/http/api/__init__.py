"""The HTTP API of CONTRACT §2 and §5: one blueprint per bounded context, health, documents."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every context's blueprint to the app."""
    from shop.entrypoints.http.api.catalog import catalog
    from shop.entrypoints.http.api.customers import customers
    from shop.entrypoints.http.api.documents import documents
    from shop.entrypoints.http.api.health import health
    from shop.entrypoints.http.api.inventory import inventory
    from shop.entrypoints.http.api.orders import orders

    for blueprint in (health, documents, catalog, inventory, customers, orders):
        app.register_blueprint(blueprint)
