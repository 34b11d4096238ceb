"""The context of the work in hand: ids that its log lines and new messages share.

An HTTP request binds ``request_id`` and ``correlation_id``; the bus binds the
``correlation_id`` and ``message_id`` of the message it handles and the ``handler`` it runs.
Log formatters read ``current()``; the bus gives a new command the bound ``correlation_id``,
so a request's log lines and its events' envelopes share it. Context variables follow the
thread (and asyncio task) they were set in, and nothing else.

Beside the ids, one hint: whether more messages follow at once on this thread (``following``),
as in a consumer lane with messages waiting. Work done once per message that batches well
(publishing the events) may then be left to a thread of its own (``more_follow``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token

_EMPTY: Mapping[str, str] = {}
_CONTEXT: ContextVar[Mapping[str, str]] = ContextVar("seedwork_context", default=_EMPTY)
_FOLLOWING: ContextVar[bool] = ContextVar("seedwork_more_follow", default=False)


def current() -> Mapping[str, str]:
    """The ids bound here and now (empty outside any request or message)."""
    return _CONTEXT.get()


def push(**ids: str) -> Token[Mapping[str, str]]:
    """Bind ids until ``pop(token)``: the form of ``bound`` for hot paths (the bus)."""
    return _CONTEXT.set({**_CONTEXT.get(), **ids})


def pop(token: Token[Mapping[str, str]]) -> None:
    """Restore what was bound before ``push`` returned ``token``."""
    _CONTEXT.reset(token)


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Bind ids (None values are left out) for the duration of a block, then restore."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


@contextmanager
def following(more: bool) -> Iterator[None]:
    """Say, for the duration of a block, whether more messages follow it at once here."""
    token = _FOLLOWING.set(more)
    try:
        yield
    finally:
        _FOLLOWING.reset(token)


def more_follow() -> bool:
    """Whether the message in hand is followed at once by more (see ``following``)."""
    return _FOLLOWING.get()
