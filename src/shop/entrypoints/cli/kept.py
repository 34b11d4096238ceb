"""What ``shop dead-letters`` and ``shop failed-events`` share: listing what the shop kept
because it could not process it, and telling how the replay of one went.

Both list oldest first, two lines an item under a header, then ``N of TOTAL``; a replay of one
is refused when there is none with that id, fails again (the item stays kept) or is applied.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import attrs

Item = TypeVar("Item")


class Refused(Exception):
    """A replay that cannot start (the item cannot be read, nothing handles it any more)."""


@attrs.frozen
class Listing(Generic[Item]):
    """How a kind of kept item is listed.

    ``columns`` are the titles and widths of the first line; the last column is not padded.
    ``below`` is the second line of an item, under the second column.
    """

    noun: str
    columns: Sequence[tuple[str, int]]
    cells: Callable[[Item], Sequence[object]]
    below: Callable[[Item], str]

    def show(self, items: Sequence[Item], total: Callable[[], int]) -> int:
        """Print ``items`` (``total`` kept in all); exit status 0."""
        if not items:
            print(f"no {self.noun}")
            return 0
        print(self._line([title for title, _ in self.columns]))
        indent = self.columns[0][1]
        for item in items:
            print(self._line(self.cells(item)))
            print(f"{'':<{indent}} {self.below(item)}")
        print(f"{len(items)} of {total()} {self.noun}")
        return 0

    def _line(self, cells: Sequence[object]) -> str:
        *padded, last = cells
        widths = [width for _, width in self.columns]
        return " ".join(
            [*(f"{cell!s:<{w}}" for cell, w in zip(padded, widths, strict=False)), f"{last}"]
        )


def replay_one(
    noun: str,
    item_id: object,
    item: Item | None,
    replay: Callable[[Item], str],
    applied: Callable[[Item], str],
    failed: str = "failed",
) -> int:
    """Replay ``item``, the one kept with ``item_id`` (None: there is none); exit status 0 or 1.

    ``replay`` returns the error it failed with, or "" once applied (it may raise ``Refused``);
    ``applied`` says what the replay did, ``failed`` how it is told when it did not.
    """
    if item is None:
        return refuse(f"no {noun} with id {item_id!r}")
    try:
        error = replay(item)
    except Refused as refusal:
        return refuse(str(refusal))
    if error:
        return refuse(f"replay of {item_id} {failed}: {error}")
    print(f"replayed {item_id}: {applied(item)}")
    return 0


def refuse(reason: str) -> int:
    """Say on stderr why a command did not do what it was asked; exit status 1."""
    print(f"shop: {reason}", file=sys.stderr)
    return 1
