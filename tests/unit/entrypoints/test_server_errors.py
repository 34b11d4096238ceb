"""Every answer is problem+json, including the HTTP servers' own; OPTIONS answers ``Allow``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http import errors

from shop.entrypoints.http.dev_server import http_server
from shop.entrypoints.http.gunicorn_worker import classify, raw_answer
from tests.raw_http import allowed, exchange


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/products", {"POST", "OPTIONS"}),
        ("/products/RED-CHAIR", {"GET", "HEAD", "OPTIONS"}),
        ("/orders/o-1/lines/RED-CHAIR", {"DELETE", "OPTIONS"}),
    ],
)
def test_options_answers_allow_without_a_body(client: FlaskClient, path: str, methods: set[str]):
    answer = client.options(path)
    assert answer.status_code == 204
    assert allowed(answer.headers["Allow"]) == methods
    assert answer.data == b"" and "Content-Type" not in answer.headers


def test_an_unknown_method_is_405_with_allow(client: FlaskClient):
    answer = client.open("/products", method="BREW")
    assert answer.status_code == 405
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert allowed(answer.headers["Allow"]) == {"POST", "OPTIONS"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.LimitRequestLine(5000, 4094), 414),
        (errors.LimitRequestHeaders("Request Header Fields Too Large"), 431),
        (errors.InvalidRequestLine("NONSENSE"), 400),
        (errors.InvalidRequestMethod("get"), 400),
        (errors.InvalidHTTPVersion("HTTP/9"), 400),
        (errors.UnsupportedTransferCoding("gzip"), 501),
        (RuntimeError("boom"), 500),
    ],
)
def test_gunicorns_own_errors_keep_their_status(error: BaseException, status: int):
    found, detail = classify(error)
    assert found == status and detail
    head, body = raw_answer(found, detail).split(b"\r\n\r\n", 1)
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: application/problem+json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["status"] == status
    assert "boom" not in detail


@pytest.fixture
def dev_server(app: Flask) -> Iterator[tuple[str, int]]:
    server = http_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[:2]  # type: ignore[misc]
    finally:
        server.shutdown()
        thread.join(5)


REFUSED = [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET / HTTP/9.1\r\nHost: x\r\n\r\n", 505),
]


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED, ids=[str(s) for _, s in REFUSED])
def test_the_dev_servers_own_errors_are_problem_json(
    dev_server: tuple[str, int], request_bytes: bytes, status: int
):
    found, headers, body = exchange(dev_server, request_bytes)
    assert found == status, body
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == status


def test_the_dev_server_answers_a_request_within_the_limits(dev_server: tuple[str, int]):
    request = b"GET /products/" + b"A" * 40 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    request += b"X-Big: " + b"a" * 8000 + b"\r\n\r\n"
    found, headers, _ = exchange(dev_server, request)
    assert found == 404 and headers["Content-Type"] == "application/problem+json"
