"""The unit of work: one transaction per message, events released only after commit."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, cast

import attrs

from seedwork.core.messages import Envelope
from seedwork.core.model import AggregateRoot

if TYPE_CHECKING:
    from seedwork.observability.tracing import Tracing

R = TypeVar("R")


@attrs.frozen
class Handling:
    """Which message a unit of work serves, and for which handler (for the inbox and causation)."""

    envelope: Envelope
    handler: str
    # Traces, when on: the events get the handler's span as traceparent; the commit a span.
    tracing: Tracing | None = None

    @property
    def dedupe(self) -> bool:
        """Whether this message must be applied at most once by this handler."""
        return self.envelope.dedupe


class Inbox(Protocol):
    """Which (message id, handler) pairs were applied: read back, the inbox row written in the
    same transaction as the change says whether the change happened."""

    def applied(self, message_id: str, handler: str) -> bool:
        """Whether ``handler`` committed ``message_id``; raises when it cannot be known now."""


class TrackingRepository:
    """Wraps a repository and remembers every aggregate that passes through it (returned
    alone, in a list or tuple, or as a field of an attrs answer)."""

    def __init__(self, inner: Any, seen: set[AggregateRoot]) -> None:
        self._inner = inner
        self._seen = seen

    def add(self, aggregate: AggregateRoot) -> None:
        """Add a new aggregate (and track it)."""
        self._inner.add(aggregate)
        self._seen.add(aggregate)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method):
            return method

        def tracked(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if isinstance(result, AggregateRoot):
                self._seen.add(result)
            elif isinstance(result, list | tuple):
                self._seen.update(item for item in result if isinstance(item, AggregateRoot))
            elif attrs.has(type(result)):
                # A query's answer may carry an aggregate among other facts.
                self._seen.update(
                    item
                    for item in attrs.astuple(result, recurse=False)
                    if isinstance(item, AggregateRoot)
                )
            return result

        return tracked


class AbstractUnitOfWork(abc.ABC):
    """Common behaviour: track aggregates, stamp their events, hand them out after commit."""

    handling: Handling | None = None

    def __init__(self) -> None:
        self._seen: set[AggregateRoot] = set()
        # The aggregates whose events this commit writes: each is a new version, even one that
        # ends as it was read (its events were decided on what was read).
        self._recorded: set[AggregateRoot] = set()
        self._released: list[Envelope] = []
        self._committed = False

    def __enter__(self) -> Self:
        self._seen = set()
        self._recorded = set()
        self._released = []
        self._committed = False
        try:
            self._begin()
        except BaseException:
            # __exit__ is not called when __enter__ raises: release the session here.
            try:
                self.rollback()
            finally:
                self._end()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.rollback()
        finally:
            self._end()
        translated = self._translate(exc) if exc is not None else None
        if translated is not None:
            # A conflict found inside the block (say, by an autoflush before a query) is as
            # retryable as one found at commit.
            raise translated from None

    def track(self, repository: R) -> R:
        """Wrap a repository so the aggregates it hands out are tracked.

        The wrapper answers as the repository does, so it is typed as the repository: a
        subclass declares ``orders: SqlOrders`` and opens it with
        ``self.orders = self.track(SqlOrders(session))``."""
        return cast(R, TrackingRepository(repository, self._seen))

    def commit(self) -> None:
        """Commit the change and the envelopes of its events in one transaction."""
        envelopes = self._stamp()
        tracing = self.handling.tracing if self.handling is not None else None
        if tracing is None or not envelopes:
            self._commit(envelopes)
        else:
            with tracing.span("outbox write", attributes={"shop.events": len(envelopes)}):
                self._commit(envelopes)
        self._committed = True
        self._released = envelopes

    def collect_new_events(self) -> Iterator[Envelope]:
        """Yield the committed events once; nothing if the commit did not happen."""
        released, self._released = self._released, []
        yield from released

    def _stamp(self) -> list[Envelope]:
        envelopes: list[Envelope] = []
        handling = self.handling
        cause = handling.envelope if handling is not None else None
        trace = handling.tracing.traceparent() if handling and handling.tracing else None
        for aggregate in self._seen:
            events = aggregate.collect_events()
            if events:
                self._recorded.add(aggregate)
            for event in events:
                if cause is None:
                    envelopes.append(Envelope(message=event, traceparent=trace))
                else:
                    envelopes.append(cause.caused(event, trace))
        return envelopes

    @abc.abstractmethod
    def _begin(self) -> None:
        """Start the transaction and open the repositories (a subclass's typed attributes)."""

    @abc.abstractmethod
    def _commit(self, envelopes: list[Envelope]) -> None:
        """Persist changes and envelopes atomically; raise on failure."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard the change."""

    def _translate(self, error: BaseException) -> BaseException | None:
        """The error to raise instead of ``error`` leaving the block, or None to keep it."""
        return None

    def _end(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources at the end of the block."""
