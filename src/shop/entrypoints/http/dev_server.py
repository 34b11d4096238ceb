"""The HTTP server of ``shop run`` (Werkzeug's), with the limits and errors of ``shop api``.

The standard library's request handler answers what it refuses (a malformed request line, an
unsupported HTTP version, too many headers) with an HTML page, and allows a 64 KiB request line
and header lines. ``ProblemRequestHandler`` answers problem+json instead, and refuses what
gunicorn refuses by default: a request line over 4094 bytes (414) and a header field over 8190
bytes (431), so that both servers answer the same request the same way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from shop.entrypoints.http.access_log import ShopRequestHandler
from shop.entrypoints.http.problems import MEDIA_TYPE, problem_document
from shop.entrypoints.http.request_context import HEADER, request_id

#: gunicorn's defaults (``limit_request_line``, ``limit_request_field_size``).
REQUEST_LINE_LIMIT = 4094
HEADER_FIELD_LIMIT = 8190


class ProblemRequestHandler(ShopRequestHandler):
    """Werkzeug's request handler, refusing as gunicorn does, and in problem+json."""

    def parse_request(self) -> bool:
        """Parse the request line and headers; ``False`` once an error was answered."""
        if len(self.raw_requestline.rstrip(b"\r\n")) > REQUEST_LINE_LIMIT:
            self.command, self.request_version, self.requestline = "", "", ""
            self.send_error(414, f"the request line is longer than {REQUEST_LINE_LIMIT} bytes")
            return False
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # no status line, no headers: gunicorn refuses it
            self.send_error(400, "the request line names no HTTP version")
            return False
        for name, value in self.headers.raw_items():
            if len(name) + len(value) + 2 > HEADER_FIELD_LIMIT:
                self.send_error(
                    431,
                    f"the request headers are too large: {name} over {HEADER_FIELD_LIMIT} bytes",
                )
                return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer an error of the server itself as problem+json, and close the connection."""
        self.log_error("code %d, message %s", code, message)
        if getattr(self, "request_version", "") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers
        short, long = self.responses.get(code, ("Error", "the request failed"))
        body = problem_document(code, message or long)
        self.send_response(code, short)
        self.send_header("Content-Type", MEDIA_TYPE)
        headers = getattr(self, "headers", None)
        self.send_header(HEADER, request_id(headers.get(HEADER) if headers else None))
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if getattr(self, "command", "") != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)
        self.close_connection = True


def http_server(host: str, port: int, app: Flask, **options: Any) -> BaseWSGIServer:
    """A threaded Werkzeug server for ``app`` answering its own errors as problem+json."""
    return make_server(
        host, port, app, threaded=True, request_handler=ProblemRequestHandler, **options
    )
