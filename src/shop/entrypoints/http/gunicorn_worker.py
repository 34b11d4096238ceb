"""gunicorn's threaded worker, answering the requests it refuses itself as problem+json.

gunicorn parses the request line and headers before the app sees them, and answers what it
cannot parse (a request line over ``limit_request_line``, a header over
``limit_request_field_size``, a malformed line) with its own HTML page. CONTRACT §2 wants every
answer as problem+json: ``ProblemWorker.handle_error`` writes them instead, with the status
gunicorn would have chosen, except that a request line too long is 414 (URI Too Long).
"""

from __future__ import annotations

import socket
from datetime import datetime
from ssl import SSLError
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

from shop.entrypoints.http.problems import MEDIA_TYPE, problem_document, title
from shop.entrypoints.http.request_context import HEADER, request_id

UNEXPECTED = "the server failed to handle the request; it has been logged"


def classify(error: BaseException) -> tuple[int, str]:
    """The status and detail answering an error gunicorn met before (or around) the app."""
    if isinstance(error, errors.LimitRequestLine):
        return 414, f"the request line is longer than {error.max_size} bytes"
    if isinstance(error, errors.LimitRequestHeaders):
        return 431, f"the request headers are too large: {error}"
    if isinstance(error, errors.UnsupportedTransferCoding):
        return 501, f"unsupported transfer coding: {error}"
    if isinstance(error, errors.ForbiddenProxyRequest | SSLError):
        return 403, "request forbidden"
    if isinstance(error, errors.ConfigurationProblem):
        return 500, UNEXPECTED
    if isinstance(error, errors.ParseException):
        return 400, f"the request cannot be read: {error}"
    return 500, UNEXPECTED


def raw_answer(status: int, detail: str, offered_id: str | None = None) -> bytes:
    """A complete HTTP/1.1 answer with a problem+json body; the connection closes after it."""
    body = problem_document(status, detail)
    head = (
        f"HTTP/1.1 {status} {title(status)}\r\n"
        f"Content-Type: {MEDIA_TYPE}\r\n"
        f"{HEADER}: {request_id(offered_id)}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    """The ``gthread`` worker, with problem+json for the errors gunicorn answers itself."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """Log the error as gunicorn does, and answer it as problem+json."""
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket has no peer address
        status, detail = classify(exc)
        if status >= 500:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
        else:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        if req is None and isinstance(exc, errors.InvalidHeader | errors.InvalidHeaderName):
            req = getattr(exc, "req", None)
        answer = raw_answer(status, detail, _offered_request_id(req))
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            response = Response(req, client, self.cfg)
            response.status = f"{status} {title(status)}"
            response.response_length = len(answer)
            self.log.access(response, req, environ, datetime.now() - started)
        try:
            util.write_nonblock(client, answer)
        except Exception:  # noqa: BLE001 - as gunicorn: the client may be gone
            self.log.debug("Failed to send error message.")


def _offered_request_id(req: Any) -> str | None:
    """The ``X-Request-ID`` the client sent, when gunicorn read the headers at all."""
    for name, value in getattr(req, "headers", None) or ():
        if name.upper() == HEADER.upper():
            return str(value)
    return None
