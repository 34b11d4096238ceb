"""``shop views rebuild``: the read models recreated from the event log, with a progress bar.

The tables are dropped, recreated and refilled in one transaction, so readers see the old
views or the new ones, never a half-built state; events committed meanwhile are replayed too.
"""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seedwork.messages import Event
from shop.adapters.orm import seedwork_tables
from shop.bootstrap import Shop
from shop.views.projections import PROJECTIONS
from shop.views.tables import metadata

CHUNK = 500
BAR_WIDTH = 30


class ProgressBar:
    """A one-line textual progress bar, redrawn in place."""

    def __init__(self, total: int, stream: TextIO, label: str = "events") -> None:
        self.total = total
        self.done = 0
        self._stream = stream
        self._label = label

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done and redraw."""
        self.done += count
        self.draw()

    def draw(self) -> None:
        """Draw the bar as it stands."""
        share = self.done / self.total if self.total else 1.0
        filled = min(BAR_WIDTH, int(share * BAR_WIDTH))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self._stream.write(f"\r[{bar}] {self.done}/{self.total} {self._label} {share:4.0%}")
        self._stream.flush()

    def finish(self) -> None:
        """End the line."""
        self.draw()
        self._stream.write("\n")
        self._stream.flush()


def rebuild_views(shop: Shop, stream: TextIO = sys.stderr) -> int:
    """Recreate every read model from the event log; returns the number of events applied."""
    outbox = seedwork_tables.outbox
    names = [kind.message_name() for kind in PROJECTIONS]
    applied = 0
    with Session(shop.engine) as session, session.begin():
        connection = session.connection()
        metadata.drop_all(connection)
        metadata.create_all(connection)
        total = session.execute(
            select(func.count()).select_from(outbox).where(outbox.c.type.in_(names))
        ).scalar_one()
        progress = ProgressBar(total, stream)
        progress.draw()
        last = 0
        while True:
            rows = session.execute(
                select(outbox.c.id, outbox.c.envelope)
                .where(outbox.c.id > last, outbox.c.type.in_(names))
                .order_by(outbox.c.id)
                .limit(CHUNK)
            ).all()
            if not rows:
                break
            for position, text in rows:
                event = shop.serializer.loads(text).message
                project = PROJECTIONS.get(type(event)) if isinstance(event, Event) else None
                if project is not None:
                    project(session, event, position)
            last = rows[-1][0]
            applied += len(rows)
            progress.total = max(progress.total, applied)
            progress.advance(len(rows))
        progress.finish()
    return applied


def views_rebuild_command(shop: Shop) -> int:
    """Run the rebuild and report it; 0 on success."""
    try:
        applied = rebuild_views(shop)
    finally:
        shop.close()
    print(f"read models rebuilt from {applied} events")
    return 0
