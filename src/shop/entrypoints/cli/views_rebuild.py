"""``shop views rebuild``: the read models recreated from the event log, with a progress bar.

The new views are built beside the live ones and swapped in at the end (see
``shop.views.projections.rebuild``): readers are served by the old views meanwhile and wait
at most for the swap, which the command reports.
"""

from __future__ import annotations

import sys
from typing import TextIO

from shop.adapters.tables import seedwork_tables
from shop.bootstrap import Shop
from shop.views.projections.rebuild import rebuild_views as rebuild

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


def rebuild_views(shop: Shop, stream: TextIO = sys.stderr) -> tuple[int, float]:
    """Rebuild every read model, drawing progress; returns (events, seconds of the swap)."""
    progress = ProgressBar(0, stream)
    progress.draw()
    applied, swap = rebuild(shop.engine, seedwork_tables.outbox, shop.serializer, progress)
    progress.finish()
    return applied, swap


def views_rebuild_command(shop: Shop) -> int:
    """Run the rebuild and report it; 0 on success."""
    try:
        applied, swap = rebuild_views(shop)
    finally:
        shop.close()
    print(f"read models rebuilt from {applied} events (swapped in: {swap * 1000:.0f} ms)")
    return 0
