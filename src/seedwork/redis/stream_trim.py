"""Trimming a consumed stream of what every consumer group acknowledged, and of nothing else.

``XADD … MAXLEN`` would drop the oldest entries whether read or not; an incoming stream must
never lose an entry no one has handled. Here the oldest entries beyond ``keep`` go, but only
up to the first one some group has not read yet or still has pending (``XTRIM MINID``).
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from seedwork.redis.wire import as_bytes

StreamId = tuple[int, int]


def trim_acknowledged(client: Redis, stream: str, keep: int, *, most: int = 10_000) -> int:
    """Drop the oldest entries beyond ``keep`` that every group has read and acknowledged.

    At most ``most`` go per call (a long stream shrinks over a few calls); returns how many went.
    """
    excess = min(int(client.xlen(stream)) - keep, most)  # type: ignore[arg-type]
    if excess <= 0:
        return 0
    groups: Any = client.xinfo_groups(stream)
    if not groups:
        return 0  # no one reads it: nothing was acknowledged
    oldest: Any = client.xrange(stream, count=excess + 1)
    bound = _id(oldest[-1][0]) if len(oldest) > excess else _after(_id(oldest[-1][0]))
    for group in groups:
        info = {as_bytes(key).decode(): value for key, value in group.items()}
        bound = min(bound, _after(_id(info["last-delivered-id"])))
        if int(info["pending"]):
            summary: Any = client.xpending(stream, info["name"])
            bound = min(bound, _id(summary["min"]))
    if bound <= _id(oldest[0][0]):
        return 0
    return int(client.xtrim(stream, minid=f"{bound[0]}-{bound[1]}", approximate=False))  # type: ignore[arg-type]


def _id(value: Any) -> StreamId:
    milliseconds, _, sequence = as_bytes(value).decode().partition("-")
    return int(milliseconds), int(sequence or 0)


def _after(entry: StreamId) -> StreamId:
    return entry[0], entry[1] + 1
