"""One log format: context never lost, secrets never shown, one line per record (CONTRACT §1)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedwork.core import context
from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, Envelope, Event
from seedwork.testing.fakes import FakeDeadLetters
from shop.config import Settings
from shop.entrypoints.logging_setup import ShopFormatter, logging_configured
from shop.redaction import Redactor, redact_url

SECRET = "Sw0rdfish-42"


class Capture:
    """The rendered lines of the loggers under test."""

    def __init__(self, formatter: ShopFormatter) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]


@pytest.fixture(params=["text", "json"])
def capture(request: pytest.FixtureRequest) -> Iterator[Capture]:
    redact = Redactor.of_urls(f"postgresql+psycopg://shop:{SECRET}@db/shop")
    found = Capture(ShopFormatter(json_lines=request.param == "json", redact=redact))
    logger = logging.getLogger("test.logging")
    logger.addHandler(found.handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        logger.removeHandler(found.handler)


LOG = logging.getLogger("test.logging")


def test_extra_fields_are_never_lost(capture: Capture):
    LOG.error("event handler dead-lettered", extra={"handler": "allocate", "event_type": "X"})
    (line,) = capture.lines()
    if capture.handler.formatter.json_lines:  # type: ignore[union-attr]
        document = json.loads(line)
        assert document["event"] == "event handler dead-lettered"
        assert (document["handler"], document["event_type"]) == ("allocate", "X")
        assert document["level"] == "error"
        assert document["logger"] == "test.logging"
        assert document["timestamp"].endswith("Z")
    else:
        assert line.endswith("event handler dead-lettered handler=allocate event_type=X")
        assert " ERROR test.logging " in line


def test_an_extra_field_never_replaces_the_message(capture: Capture):
    LOG.warning("what happened", extra={"event": "OrderPlaced"})
    (line,) = capture.lines()
    assert "what happened" in line
    assert "OrderPlaced" in line


def test_the_bound_context_is_on_every_line(capture: Capture):
    with context.bound(request_id="r-1", correlation_id="c-1"):
        LOG.info("inside")
    LOG.info("outside")
    inside, outside = capture.lines()
    assert "r-1" in inside
    assert "c-1" in inside
    assert "r-1" not in outside


def test_a_message_cannot_forge_a_line_or_colour_a_terminal(capture: Capture):
    LOG.info("one\nINFO forged line \x1b[31mred", extra={"note": "two\nlines"})
    (line,) = capture.lines()
    assert "\x1b" not in line


def test_secrets_are_masked_in_messages_fields_and_tracebacks(capture: Capture):
    try:
        raise RuntimeError(f"cannot connect to redis://:{SECRET}@cache:6379/0")
    except RuntimeError:
        LOG.exception("failed with %s", SECRET, extra={"url": f"postgresql://u:{SECRET}@h/db"})
    text = capture.stream.getvalue()
    assert SECRET not in text
    assert "redis://:***@cache:6379/0" in text
    assert "***" in text


def test_json_lines_are_objects_even_with_a_traceback():
    found = Capture(ShopFormatter(json_lines=True))
    LOG.addHandler(found.handler)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            LOG.exception("it failed")
    finally:
        LOG.removeHandler(found.handler)
    (document,) = found.objects()
    assert "ValueError: boom" in document["exception"]


class Ping(Command):
    pass


class Pinged(Event):
    pass


def test_the_bus_binds_each_message_and_handler(capture: Capture):
    def ping(command: Ping) -> None:
        LOG.info("handling the command")

    def pinged(event: Pinged) -> None:
        LOG.info("handling the event")

    bus = MessageBus(
        command_handlers={Ping: ping},
        event_handlers={Pinged: [pinged]},
        dependencies=Dependencies(),
        dead_letters=FakeDeadLetters(),
    )
    command = Envelope(message=Ping(), correlation_id="corr-1")
    bus.handle(command)
    bus.handle(Envelope(message=Pinged(), correlation_id="corr-2"))
    first, second = capture.lines()
    for line, correlation, message_id, handler in [
        (first, "corr-1", command.message_id, "ping"),
        (second, "corr-2", None, "pinged"),
    ]:
        assert correlation in line
        assert handler in line
        if message_id:
            assert message_id in line


def test_a_command_joins_the_bound_correlation():
    seen: list[str] = []

    def ping(command: Ping) -> None:
        seen.append(context.current()["correlation_id"])

    bus = MessageBus(
        command_handlers={Ping: ping},
        event_handlers={},
        dependencies=Dependencies(),
        dead_letters=FakeDeadLetters(),
    )
    with context.bound(correlation_id="from-the-request"):
        bus.handle(Ping())
    bus.handle(Ping())
    assert seen[0] == "from-the-request"
    assert seen[1] != "from-the-request"


@pytest.mark.parametrize(
    ("fmt", "terminal", "json_lines"),
    [(None, True, False), (None, False, True), ("text", False, False), ("json", True, True)],
)
def test_the_format_is_text_on_a_terminal_and_json_otherwise(fmt, terminal, json_lines):
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    stream = Stream()
    with logging_configured(Settings(log_format=fmt), stream):
        logging.getLogger("shop").warning("hello")
    line = stream.getvalue().strip()
    assert line.startswith("{") is json_lines
    assert "hello" in line


PASSWORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="*\x00", exclude_categories=["Cs"]),
    min_size=4,
    max_size=30,
)


@given(password=PASSWORDS)
def test_no_password_survives_the_redactor(password: str):
    from urllib.parse import quote

    url = f"redis://:{quote(password, safe='')}@cache:6379/0"
    redact = Redactor.of_urls(url)
    for text in [f"connect {url} failed", f"bad {password}!", f"q {quote(password, safe='')}"]:
        assert password not in redact(text)
        assert quote(password, safe="") not in redact(text)


@given(password=PASSWORDS.filter(lambda p: not any(c.isspace() for c in p) and "@" not in p))
def test_a_url_is_shown_with_its_password_masked(password: str):
    assert redact_url(f"redis://user:{password}@cache:6379/0") == "redis://user:***@cache:6379/0"
    from urllib.parse import quote

    in_query = quote(password, safe="")
    shown = redact_url(f"unix:///run/r.sock?password={in_query}&db=1")
    assert shown == "unix:///run/r.sock?password=***&db=1"
    # Even a URL no parser reads the same way is masked in free text.
    assert password not in Redactor()(f"see postgresql://u:{password}@h/db")


def test_settings_never_show_their_passwords():
    settings = Settings(
        database_url=f"postgresql+psycopg://u:{SECRET}@h/db", redis_url=f"redis://:{SECRET}@h/0"
    )
    assert SECRET not in repr(settings)


def test_the_auth_secret_is_scrubbed_like_a_password():
    secret = "an-auth-secret-of-at-least-32-bytes-long"
    settings = Settings.from_env({"SHOP_AUTH_SECRET": secret})
    redact = settings.redactor()
    assert secret not in redact(f"signing with {secret} failed")
    assert "***" in redact(f"signing with {secret} failed")
