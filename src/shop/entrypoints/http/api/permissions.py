"""Who may call each endpoint (CONTRACT §4): the one table, by method and Flask route rule.

The OpenAPI document states it (each operation's security and ``x-roles``); authorization can
look a request up by ``(request.method, request.url_rule.rule)``. Roles listed in ``own`` reach
only their own data (a customer: its own customer record and orders); elsewhere that is 404.
"""

from __future__ import annotations

import attrs

CUSTOMER = "customer"
WAREHOUSE = "warehouse"
STAFF = "staff"
ROLES = (CUSTOMER, WAREHOUSE, STAFF)


@attrs.frozen
class Access:
    """Who may call an endpoint: anyone (``public``), or the ``roles``; ``own`` roles only
    on their own data."""

    roles: tuple[str, ...] = ()
    public: bool = False
    own: tuple[str, ...] = ()

    def allows(self, role: str | None) -> bool:
        """Whether a caller in ``role`` (None: no token) may call the endpoint at all."""
        return self.public or role in self.roles

    def sentence(self) -> str:
        """Who may call it, in words."""
        if self.public:
            return "Public: no token needed."
        named = [f"{role} (its own only)" if role in self.own else role for role in self.roles]
        return f"Needs a bearer token of the role {', '.join(named)}."


PUBLIC = Access(public=True)
STAFF_ONLY = Access(roles=(STAFF,))
WAREHOUSE_OR_STAFF = Access(roles=(WAREHOUSE, STAFF))
OWN_CUSTOMER_OR_STAFF = Access(roles=(CUSTOMER, STAFF), own=(CUSTOMER,))
ANY_ROLE_OWN_CUSTOMER = Access(roles=ROLES, own=(CUSTOMER,))

Route = tuple[str, str]

#: (method, Flask rule) → who may call it. POST /orders: a customer only for its own customer_id.
PERMISSIONS: dict[Route, Access] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/<name>"): PUBLIC,
    ("GET", "/metrics"): STAFF_ONLY,
    ("POST", "/products"): STAFF_ONLY,
    ("GET", "/products/<sku>"): PUBLIC,
    ("PUT", "/products/<sku>/price"): STAFF_ONLY,
    ("POST", "/products/<sku>/discontinue"): STAFF_ONLY,
    ("POST", "/batches"): WAREHOUSE_OR_STAFF,
    ("PUT", "/batches/<reference>/quantity"): WAREHOUSE_OR_STAFF,
    ("GET", "/stock/<sku>"): WAREHOUSE_OR_STAFF,
    ("POST", "/customers"): STAFF_ONLY,
    ("GET", "/customers/<customer_id>"): OWN_CUSTOMER_OR_STAFF,
    ("GET", "/customers/<customer_id>/orders"): OWN_CUSTOMER_OR_STAFF,
    ("POST", "/orders"): OWN_CUSTOMER_OR_STAFF,
    ("GET", "/orders/<order_id>"): ANY_ROLE_OWN_CUSTOMER,
    ("POST", "/orders/<order_id>/lines"): OWN_CUSTOMER_OR_STAFF,
    ("DELETE", "/orders/<order_id>/lines/<sku>"): OWN_CUSTOMER_OR_STAFF,
    ("PUT", "/orders/<order_id>/shipping-address"): OWN_CUSTOMER_OR_STAFF,
    ("POST", "/orders/<order_id>/place"): OWN_CUSTOMER_OR_STAFF,
    ("POST", "/orders/<order_id>/cancel"): ANY_ROLE_OWN_CUSTOMER,
    ("POST", "/orders/<order_id>/ship"): WAREHOUSE_OR_STAFF,
}
