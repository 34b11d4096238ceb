"""One log format for every line the shop writes, its servers' lines included (CONTRACT §1).

``SHOP_LOG_FORMAT=json``: one JSON object per line with ``timestamp``, ``level``, ``logger``,
``event`` (the message) and the context: the ids bound in ``seedwork.core.context``
(``request_id``, ``correlation_id``, ``message_id``, ``handler``) and the ``extra=`` fields
of the call. ``text``: the message followed by the same context as ``key=value``. Every
rendered line is scrubbed of the configured secrets and of URL passwords; control
characters are escaped, so no line can forge another or colour a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from seedwork.core import context
from shop.config import Settings
from shop.redaction import Redactor

_STANDARD = frozenset(
    [*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime", "taskName"]
)
_CORE = ("timestamp", "level", "logger", "event")
_CONTROL = str.maketrans({c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]})
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


class ShopFormatter(logging.Formatter):
    """Renders a record as one JSON object or one ``text key=value`` line, secrets masked."""

    def __init__(self, *, json_lines: bool, redact: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.json_lines = json_lines
        self.redact = redact or Redactor()

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record's context: the bound ids, then its ``extra=`` fields."""
        found: dict[str, Any] = dict(context.current())
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                found[f"extra_{key}" if key in _CORE else key] = value
        return {key: self._value(value) for key, value in found.items()}

    def _value(self, value: Any) -> Any:
        if isinstance(value, bool | int | float) or value is None:
            return value
        return self.redact(str(value))

    def format(self, record: logging.LogRecord) -> str:
        """The whole line (a traceback, in text, on the lines after it)."""
        timestamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        timestamp = timestamp.replace("+00:00", "Z")
        message = self.redact(record.getMessage())
        fields = self.fields(record)
        trace = ""
        if record.exc_info:
            trace = self.formatException(record.exc_info)
        if record.stack_info:
            trace = f"{trace}\n{self.formatStack(record.stack_info)}".strip("\n")
        trace = self.redact(trace)
        if self.json_lines:
            document: dict[str, Any] = {
                "timestamp": timestamp,
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": message,
                **fields,
            }
            if trace:
                document["exception"] = trace
            return self.redact(json.dumps(document, ensure_ascii=False, default=str))
        pairs = "".join(f" {key}={_text_value(value)}" for key, value in fields.items())
        line = f"{timestamp} {record.levelname} {record.name} {message.translate(_CONTROL)}{pairs}"
        return self.redact(f"{line}\n{trace}" if trace else line)


def _text_value(value: Any) -> str:
    text = "null" if value is None else str(value)
    if not text or any(c in text for c in ' "=\\') or text != text.translate(_CONTROL):
        return json.dumps(text, ensure_ascii=False)
    return text


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def formatter_for(settings: Settings, *, terminal: bool) -> ShopFormatter:
    """The formatter ``settings`` ask for (``SHOP_LOG_FORMAT``; unset: text on a terminal)."""
    return ShopFormatter(json_lines=json_lines(settings, terminal), redact=settings.redactor())


def json_lines(settings: Settings, terminal: bool) -> bool:
    """Whether lines are JSON: ``SHOP_LOG_FORMAT``, or when unset, unless on a terminal."""
    return settings.log_format == "json" if settings.log_format else not terminal


@contextmanager
def logging_configured(settings: Settings, stream: Any = None) -> Iterator[Redactor]:
    """Log every line through one formatter on stderr while the block runs; then restore.

    Uncaught errors (of the main thread or any other) are logged through it too, so their
    tracebacks are redacted like every other line.
    """
    stream = stream or _Stderr()
    redact = settings.redactor()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        ShopFormatter(json_lines=json_lines(settings, bool(stream.isatty())), redact=redact)
    )
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(settings.log_level_number)
    # Alembic's progress is noise at INFO; werkzeug would set its own logger to INFO on its
    # first line unless it has a level already.
    levels = {"alembic": max(logging.WARNING, settings.log_level_number)}
    levels["werkzeug"] = settings.log_level_number
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, named_level in levels.items():
        logging.getLogger(name).setLevel(named_level)
    hooks = sys.excepthook, threading.excepthook
    sys.excepthook, threading.excepthook = _log_uncaught, _log_uncaught_in_thread
    try:
        yield redact
    finally:
        sys.excepthook, threading.excepthook = hooks
        for name, saved_level in saved.items():
            logging.getLogger(name).setLevel(saved_level)
        root.setLevel(level)
        root.removeHandler(handler)


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger("shop").critical("uncaught error", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("shop").critical(
        "uncaught error in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
