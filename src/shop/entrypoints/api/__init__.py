"""The HTTP API of CONTRACT §2: one blueprint per bounded context."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every context's blueprint to the app."""
