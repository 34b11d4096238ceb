"""The service's documents: OpenAPI of the HTTP API, AsyncAPI of the Redis channels (§5)."""

from __future__ import annotations


def version() -> str:
    """The installed shop's version (the documents' ``info.version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("shop")
    except PackageNotFoundError:  # run from the sources without being installed
        return "0+unknown"
