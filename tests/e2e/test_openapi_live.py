"""A live ``shop run`` answers as its own OpenAPI document says.

Schemathesis generates requests from ``/openapi.json`` (valid and invalid data, then stateful
sequences that follow the ids one answer gives to the next request), bounded in examples, and
checks every answer: never a 5xx, a documented status, content type and headers, and a body
that matches its schema. A story then walks an order through its life and checks each answer
against the document too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.e2e.api import ADDRESS, Api, unique
from tests.e2e.server import ShopProcess

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "schemathesis-secret-of-at-least-32-bytes"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def staff_token(secret: str = SECRET, ttl: int = 600) -> str:
    """An HS256 access token of the role staff (CONTRACT §4), signed with ``secret``."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": "schemathesis", "role": "staff", "aud": "shop",
              "exp": int(time.time()) + ttl}  # fmt: skip
    signing = ".".join(_b64(json.dumps(part).encode()) for part in (header, claims))
    signature = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


@pytest.fixture
def live(start_shop: Any) -> ShopProcess:
    """``shop run`` with a known auth secret, so a staff token can be made for it."""
    process: ShopProcess = start_shop("run", "--port", "0", SHOP_AUTH_SECRET=SECRET)
    return process


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token()}"}


def _not_served(url: str, document: dict[str, Any]) -> list[str]:
    """Documented paths without parameters that this process does not serve (yet)."""
    return [
        path
        for path, item in document["paths"].items()
        if "{" not in path
        and "get" in item
        and requests.get(f"{url}{path}", headers=_auth(), timeout=10).status_code == 404
    ]


def test_schemathesis_finds_no_server_error_and_no_answer_off_its_schema(
    live: ShopProcess, tmp_path: Path
):
    document = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    excluded = _not_served(live.url, document)
    assert set(excluded) <= {"/metrics"}
    started = time.monotonic()
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{live.url}/openapi.json",
        "--checks", CHECKS, "--max-examples", "10", "--workers", "1",
        "--request-timeout", "10", "--header", f"Authorization: Bearer {staff_token()}",
        *(argument for path in excluded for argument in ("--exclude-path", path)),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated is not None, output[-2000:]
    assert int(generated.group(1)) == int(generated.group(2)) > 200
    assert elapsed < 60, f"schemathesis took {elapsed:.0f} s"
    assert "Server error" not in output


def _validator(document: dict[str, Any], method: str, path: str, status: int) -> Any:
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    (content,) = response["content"].values()
    schema = {**content["schema"], "components": document["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_answer_of_an_order_s_life_matches_the_document(live: ShopProcess):
    api = Api(live.url)
    api.http.headers.update(_auth())
    document = api.call("GET", "/openapi.json", 200)
    calls: list[tuple[str, str, str, int, dict[str, Any] | None]] = []
    sku, reference = unique("SKU"), unique("B")

    def call(method: str, template: str, status: int, body: Any = None, **ids: str) -> Any:
        path = template.format(**ids)
        answer = api.http.request(method, f"{live.url}{path}", json=body, timeout=30)
        assert answer.status_code == status, f"{method} {path}: {answer.text}"
        assert answer.headers.get("X-Request-ID")
        if status != 204:
            _validator(document, method.lower(), template, status).validate(answer.json())
        calls.append((method, template, path, status, body))
        return answer.json() if answer.content else None

    price = {"amount": 1250, "currency": "EUR"}
    call("POST", "/products", 201, {"sku": sku, "name": "Chair", "price": price})
    call("GET", "/products/{sku}", 200, sku=sku)
    call("PUT", "/products/{sku}/price", 200, {"price": price}, sku=sku)
    call("POST", "/batches", 201, {"reference": reference, "sku": sku, "quantity": 5, "eta": None})
    call("PUT", "/batches/{reference}/quantity", 200, {"quantity": 9}, reference=reference)
    call("GET", "/stock/{sku}", 200, sku=sku)
    customer = call("POST", "/customers", 201, {"name": "Ann", "email": "ann@example.com"})
    ids = {"customer_id": customer["customer_id"]}
    call("GET", "/customers/{customer_id}", 200, **ids)
    order = call("POST", "/orders", 201, ids)
    ids["order_id"], ids["sku"] = order["order_id"], sku
    call("POST", "/orders/{order_id}/lines", 201, {"sku": sku, "quantity": 2}, **ids)
    call("PUT", "/orders/{order_id}/shipping-address", 200, ADDRESS, **ids)
    call("POST", "/orders/{order_id}/place", 202, **ids)
    call("POST", "/orders/{order_id}/ship", 200, {"tracking_number": "T-1"}, **ids)
    call("GET", "/orders/{order_id}", 200, **ids)
    call("GET", "/customers/{customer_id}/orders", 200, **ids)
    call("POST", "/orders/{order_id}/cancel", 409, {"reason": "too late"}, **ids)
    other = call("POST", "/orders", 201, {"customer_id": ids["customer_id"]})
    ids["order_id"] = other["order_id"]
    call("POST", "/orders/{order_id}/lines", 201, {"sku": sku, "quantity": 1}, **ids)
    call("DELETE", "/orders/{order_id}/lines/{sku}", 204, **ids)
    call("POST", "/orders/{order_id}/cancel", 200, {"reason": "changed my mind"}, **ids)
    call("POST", "/orders/{order_id}/lines", 422, {"sku": sku, "quantity": 0}, **ids)
    call("POST", "/products/{sku}/discontinue", 200, sku=sku)
    call("GET", "/health/ready", 200)
    call("GET", "/health/live", 200)
    assert len(calls) == 24
