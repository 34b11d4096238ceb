"""The HTTP servers' own lines (werkzeug in ``shop run``, gunicorn in ``shop api``) in the
shop's log format: through the root logger's one handler, with the request's ids."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn import glogging
from werkzeug.serving import WSGIRequestHandler

from shop.entrypoints.http.request_context import access_ids


class ShopRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, logging plain lines (no colours) with the request's ids."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One access line: request line, status, size."""
        try:
            line = f"{self.command} {self.path} {self.request_version}"
        except AttributeError:  # the request line could not be read
            line = self.requestline
        extra: dict[str, Any] = {"remote": self.address_string(), "status": str(code)}
        extra.update(access_ids(getattr(self, "environ", None) or {}))
        logging.getLogger("werkzeug").info('"%s" %s %s', line, code, size, extra=extra)

    def log_error(self, format: str, *args: Any) -> None:
        """The server's own errors (bad request lines, ...)."""
        logging.getLogger("werkzeug").error(format, *args, extra={"remote": self.address_string()})

    def log_message(self, format: str, *args: Any) -> None:
        """Anything else the server says."""
        logging.getLogger("werkzeug").info(format, *args, extra={"remote": self.address_string()})


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, handing its lines to the shop's handler instead of its own."""

    def setup(self, cfg: Any) -> None:
        """No handlers of gunicorn's own: its loggers propagate to the root's one handler."""
        for log in (self.error_log, self.access_log):
            log.propagate = True
            log.setLevel(logging.NOTSET)
            for handler in list(log.handlers):
                log.removeHandler(handler)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        """One access line per request, with its ids and duration."""
        if not self.access_log.isEnabledFor(logging.INFO):
            return  # the line would be dropped: skip making it
        status = str(resp.status).split(None, 1)[0]
        extra: dict[str, Any] = {
            "remote": environ.get("REMOTE_ADDR", "-"),
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
        }
        extra.update(access_ids(environ))
        if "request_id" not in extra:
            sent = {name.lower(): value for name, value in getattr(resp, "headers", [])}
            if "x-request-id" in sent:
                extra["request_id"] = sent["x-request-id"]
        method, uri = environ.get("REQUEST_METHOD"), environ.get("RAW_URI")
        line = f"{method} {uri} {environ.get('SERVER_PROTOCOL')}"
        sent_bytes = getattr(resp, "sent", None)
        self.access_log.info('"%s" %s %s', line, status, sent_bytes or "-", extra=extra)
