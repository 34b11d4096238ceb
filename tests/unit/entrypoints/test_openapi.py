"""GET /openapi.json: valid OpenAPI 3.1 listing every route, status and role of the contract."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from shop.entrypoints.cli import main as cli
from shop.entrypoints.documents.openapi import openapi_document
from shop.entrypoints.http.api.permissions import PERMISSIONS

#: CONTRACT v2 §2, §4 and §5: each endpoint, its success status and the error statuses it
#: answers (400/413/415/422 for a body, 401/403 unless public, 404 for a path, 409 for a
#: command, 503 when it reads the database).
BODY = {400, 413, 415, 422}
AUTH = {401, 403}
CONTRACT: dict[tuple[str, str], set[int]] = {
    ("get", "/health"): {200, 503},
    ("get", "/health/live"): {200},
    ("get", "/health/ready"): {200, 503},
    ("get", "/metrics"): {200} | AUTH,
    ("get", "/openapi.json"): {200},
    ("get", "/asyncapi.json"): {200},
    ("get", "/docs"): {200},
    ("get", "/docs/assets/{name}"): {200, 404},
    ("post", "/products"): {201, 409, 503} | BODY | AUTH,
    ("get", "/products/{sku}"): {200, 404, 503},
    ("put", "/products/{sku}/price"): {200, 404, 409, 503} | BODY | AUTH,
    ("post", "/products/{sku}/discontinue"): {200, 404, 409, 503} | AUTH,
    ("post", "/batches"): {201, 409, 503} | BODY | AUTH,
    ("put", "/batches/{reference}/quantity"): {200, 404, 409, 503} | BODY | AUTH,
    ("get", "/stock/{sku}"): {200, 404, 503} | AUTH,
    ("post", "/customers"): {201, 409, 503} | BODY | AUTH,
    ("get", "/customers/{customer_id}"): {200, 404, 503} | AUTH,
    ("get", "/customers/{customer_id}/orders"): {200, 404, 503} | AUTH,
    ("post", "/orders"): {201, 409, 503} | BODY | AUTH,
    ("get", "/orders/{order_id}"): {200, 404, 503} | AUTH,
    ("post", "/orders/{order_id}/lines"): {201, 404, 409, 503} | BODY | AUTH,
    ("delete", "/orders/{order_id}/lines/{sku}"): {204, 404, 409, 503} | AUTH,
    ("put", "/orders/{order_id}/shipping-address"): {200, 404, 409, 503} | BODY | AUTH,
    ("post", "/orders/{order_id}/place"): {202, 404, 409, 503} | AUTH,
    ("post", "/orders/{order_id}/cancel"): {200, 404, 409, 503} | BODY | AUTH,
    ("post", "/orders/{order_id}/ship"): {200, 404, 409, 503} | BODY | AUTH,
}

#: CONTRACT v2 §4: the roles each endpoint allows ("public": no token needed).
ROLES: dict[tuple[str, str], list[str]] = {
    **{key: ["public"] for key in CONTRACT if key[1].startswith(("/health", "/docs"))},
    ("get", "/openapi.json"): ["public"],
    ("get", "/asyncapi.json"): ["public"],
    ("get", "/products/{sku}"): ["public"],
    ("get", "/metrics"): ["staff"],
    ("post", "/products"): ["staff"],
    ("put", "/products/{sku}/price"): ["staff"],
    ("post", "/products/{sku}/discontinue"): ["staff"],
    ("post", "/batches"): ["warehouse", "staff"],
    ("put", "/batches/{reference}/quantity"): ["warehouse", "staff"],
    ("get", "/stock/{sku}"): ["warehouse", "staff"],
    ("post", "/customers"): ["staff"],
    ("get", "/customers/{customer_id}"): ["customer", "staff"],
    ("get", "/customers/{customer_id}/orders"): ["customer", "staff"],
    ("post", "/orders"): ["customer", "staff"],
    ("get", "/orders/{order_id}"): ["customer", "warehouse", "staff"],
    ("post", "/orders/{order_id}/lines"): ["customer", "staff"],
    ("delete", "/orders/{order_id}/lines/{sku}"): ["customer", "staff"],
    ("put", "/orders/{order_id}/shipping-address"): ["customer", "staff"],
    ("post", "/orders/{order_id}/place"): ["customer", "staff"],
    ("post", "/orders/{order_id}/cancel"): ["customer", "warehouse", "staff"],
    ("post", "/orders/{order_id}/ship"): ["warehouse", "staff"],
}

#: Documented, but served by a part of the service that may not be in this app yet.
SERVED_ELSEWHERE = {("get", "/metrics")}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def routes(app: Flask) -> set[tuple[str, str]]:
    """Every (method, OpenAPI path) the Flask app serves, less HEAD and OPTIONS."""
    found = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                found.add((method.lower(), path))
    return found


def undocumented(app: Flask, document: dict[str, Any]) -> set[tuple[str, str]]:
    return routes(app) - set(operations(document))


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_of_the_app_is_in_the_document(app: Flask, document: dict[str, Any]):
    assert undocumented(app, document) == set()
    assert set(operations(document)) - routes(app) <= SERVED_ELSEWHERE


def test_a_route_added_without_describing_it_is_found(app: Flask, document: dict[str, Any]):
    app.add_url_rule("/coupons/<code>", "coupon", lambda code: code, methods=["POST"])
    assert undocumented(app, document) == {("post", "/coupons/{code}")}


def test_every_endpoint_and_status_of_the_contract_is_listed(document: dict[str, Any]):
    found = {key: set(map(int, op["responses"])) for key, op in operations(document).items()}
    assert found == CONTRACT


def test_each_operation_says_who_may_call_it(document: dict[str, Any]):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for key, operation in operations(document).items():
        assert operation["x-roles"] == ROLES[key], key
        public = ROLES[key] == ["public"]
        assert operation["security"] == ([] if public else [{"bearerAuth": []}]), key
        assert ("Public" if public else "Needs a bearer token") in operation["description"]
    assert len(PERMISSIONS) == len(ROLES)


def test_bodies_are_the_commands_less_the_path_and_server_fields(document: dict[str, Any]):
    schemas = document["components"]["schemas"]
    body = operations(document)[("post", "/orders/{order_id}/lines")]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AddOrderLineBody"
    }
    lines = schemas["AddOrderLineBody"]
    assert set(lines["properties"]) == {"sku", "quantity"}
    assert lines["additionalProperties"] is False
    assert lines["properties"]["quantity"] == {"type": "integer", "minimum": 1}
    assert lines["properties"]["sku"]["pattern"] == "^[A-Z0-9][A-Z0-9-]{1,31}$"
    assert set(schemas["RegisterCustomerBody"]["required"]) == {"name", "email"}
    assert set(schemas["CreateOrderBody"]["properties"]) == {"customer_id"}
    money = schemas["Money"]["properties"]
    assert money == {
        "amount": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }


def test_answers_are_the_view_shapes(document: dict[str, Any]):
    schemas = document["components"]["schemas"]
    assert schemas["Order"]["required"] == [
        "order_id", "customer_id", "status", "lines", "shipping_address", "subtotal",
        "discount", "shipping_cost", "total",
    ]  # fmt: skip
    assert schemas["Order"]["properties"]["status"]["enum"] == [
        "draft", "placed", "confirmed", "backordered", "shipped", "cancelled",
    ]  # fmt: skip
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    problem = document["components"]["responses"]["422"]["content"]
    assert problem == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }


def test_get_openapi_json_and_shop_openapi_give_the_same_document(
    client: FlaskClient, document: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json() == document
    assert cli.main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == document


def test_the_permission_table_tells_who_may_call_an_endpoint():
    assert PERMISSIONS[("GET", "/products/<sku>")].allows(None)
    assert not PERMISSIONS[("POST", "/products")].allows(None)
    assert not PERMISSIONS[("POST", "/products")].allows("warehouse")
    assert PERMISSIONS[("POST", "/products")].allows("staff")
    assert PERMISSIONS[("POST", "/orders/<order_id>/ship")].allows("warehouse")
    assert not PERMISSIONS[("POST", "/orders/<order_id>/ship")].allows("customer")
    assert PERMISSIONS[("GET", "/orders/<order_id>")].own == ("customer",)
