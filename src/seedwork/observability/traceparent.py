"""The W3C ``traceparent`` an envelope may carry (no OpenTelemetry needed to read it)."""

from __future__ import annotations

import re
from typing import Any

#: W3C Trace Context, version 00: version-trace_id-parent_id-flags, lower-case hex, not zero.
TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


def valid_traceparent(value: Any) -> str | None:
    """The value when it is a ``traceparent`` that can be continued, else None (ignored)."""
    if isinstance(value, str) and TRACEPARENT.fullmatch(value):
        return value
    return None
