"""Every answer carries ``X-Request-ID``; every line logged for a request carries its ids."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from shop.domain import commands
from shop.entrypoints.http.app import create_app
from shop.entrypoints.logging_setup import ShopFormatter
from tests.unit.entrypoints.conftest import FakeReadModels, fake_bus
from tests.unit.entrypoints.test_request_translation import CHAIR

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/health", None, 200),
        ("post", "/products", CHAIR, 201),
        ("get", "/products/NO-SUCH", None, 404),
        ("get", "/no/such/route", None, 404),
        ("delete", "/products", None, 405),
        ("post", "/products", {"sku": "x"}, 422),
    ],
)
def test_every_answer_carries_a_request_id(client: FlaskClient, method, path, body, status):
    answer = getattr(client, method)(path, json=body)
    assert answer.status_code == status
    assert UUID.match(answer.headers["X-Request-ID"])
    offered = getattr(client, method)(path, json=body, headers={"X-Request-ID": "abc-123.x_y"})
    assert offered.headers.get_all("X-Request-ID") == ["abc-123.x_y"]


def test_an_unexpected_error_answer_carries_one_too(views: FakeReadModels):
    def broken(command: commands.AddProduct) -> None:
        raise RuntimeError("a bug")

    app = create_app(bus=fake_bus(views, {commands.AddProduct: broken}), views=views)
    answer = app.test_client().post("/products", json=CHAIR, headers={"X-Request-ID": "r1"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "r1"


VALID = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@given(offered=st.text(max_size=300))
def test_only_a_valid_request_id_is_kept(offered: str):
    app = create_app(bus=fake_bus(FakeReadModels()), views=FakeReadModels())
    try:
        answer = app.test_client().get("/health", headers={"X-Request-ID": offered})
    except ValueError:  # text the HTTP client itself refuses to send as a header
        return
    valid = 1 <= len(offered) <= 200 and re.fullmatch(r"[A-Za-z0-9._\-]+", offered)
    shown = answer.headers["X-Request-ID"]
    assert shown == offered if valid else UUID.match(shown)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ShopFormatter(json_lines=True))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.setLevel(level)
        root.removeHandler(handler)


def test_every_line_of_a_request_carries_its_ids(views: FakeReadModels, lines: io.StringIO):
    log = logging.getLogger("test.request")

    def add_product(command: commands.AddProduct) -> None:
        log.info("adding %s", command.sku)
        raise RuntimeError("then failing")

    app: Flask = create_app(bus=fake_bus(views, {commands.AddProduct: add_product}), views=views)
    answer = app.test_client().post("/products", json=CHAIR, headers={"X-Request-ID": "req-7"})
    assert answer.status_code == 500
    logged: list[dict[str, Any]] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [entry["event"] for entry in logged] == ["adding RED-CHAIR", "unexpected error"]
    correlation = {entry["correlation_id"] for entry in logged}
    assert {entry["request_id"] for entry in logged} == {"req-7"}
    assert len(correlation) == 1
    assert UUID.match(correlation.pop())
    assert logged[0]["handler"].endswith("add_product")
    assert "message_id" in logged[0]
