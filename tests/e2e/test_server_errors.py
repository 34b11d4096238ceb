"""Both servers, ``shop run`` (Werkzeug) and ``shop api`` (gunicorn), answer problem+json to
what they refuse before the app sees it, and ``Allow`` to OPTIONS: real processes, raw sockets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import ShopProcess
from tests.raw_http import allowed, exchange

LISTENING = re.compile(r"Listening at: (http://\S+)")

REFUSED = [
    ("a 5,000-character path", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (
        "a 9 KB header",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9 * 1024 + b"\r\n\r\n",
        431,
    ),
    ("a request line that is no request line", b"NONSENSE\r\n\r\n", 400),
    # HTTP/0.9 has no status line nor headers to answer with: refused like any unreadable line.
    ("an HTTP/0.9 request", b"GET /health\r\n\r\n", 400),
    ("an unknown method", b"BREW /products HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
]


@pytest.fixture(params=["run", "api"])
def address(request: pytest.FixtureRequest, start_shop: Callable[..., ShopProcess]) -> tuple:
    if request.param == "run":
        url = start_shop("run", "--port", "0").url
    else:
        process = start_shop("api", "--host", "127.0.0.1", "--port", "0", "--workers", "1")
        match = LISTENING.search(process.wait_for_log(LISTENING.pattern, timeout=30))
        assert match is not None
        url = match.group(1)
        process.wait_for_log("Booting worker", timeout=30)
    parts = urlsplit(url)
    return parts.hostname, parts.port


def test_the_servers_own_errors_are_problem_json(address: tuple[str, int]):
    for what, request, status in REFUSED:
        found, headers, body = exchange(address, request)
        assert found == status, (what, found, body[:200])
        assert headers["Content-Type"] == "application/problem+json", (what, headers)
        assert json.loads(body)["status"] == status, what
        assert headers.get("X-Request-ID"), (what, headers)
        if status == 405:
            assert allowed(headers["Allow"]) == {"POST", "OPTIONS"}


def test_options_answers_allow(address: tuple[str, int]):
    request = b"OPTIONS /products/RED-CHAIR HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    found, headers, body = exchange(address, request)
    assert found == 204 and body == b""
    assert allowed(headers["Allow"]) == {"GET", "HEAD", "OPTIONS"}
    assert "Content-Type" not in headers


def test_a_refused_request_keeps_the_clients_request_id_when_its_headers_were_read(
    address: tuple[str, int], request: pytest.FixtureRequest
):
    sent = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: trace-42\r\nX-Big: "
    found, headers, _ = exchange(address, sent + b"a" * 9 * 1024 + b"\r\n\r\n")
    assert found == 431
    # Werkzeug reads every header before refusing one; gunicorn stops at the one too large,
    # so its answer gets an id of its own.
    headers_read = request.node.callspec.params["address"] == "run"
    assert (headers["X-Request-ID"] == "trace-42") is headers_read
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,200}", headers["X-Request-ID"])
