"""The documents (CONTRACT §5): OpenAPI, AsyncAPI, and the interactive page of ``/docs``.

The page is Swagger UI, served from installed packages (``flask-swagger-ui`` ships its files),
never from a CDN.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify

from shop.config import DEFAULT_PREFIX
from shop.entrypoints.documents.asyncapi import asyncapi_document
from shop.entrypoints.documents.openapi import openapi_document

documents = Blueprint("documents", __name__)

#: The page's files, and their media types: ours, then Swagger UI's.
_OURS = {"shop-docs.js"}
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@functools.cache
def _openapi() -> dict[str, Any]:
    return openapi_document()


@functools.cache
def _asyncapi(prefix: str) -> dict[str, Any]:
    return asyncapi_document(prefix)


@documents.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of the HTTP API."""
    return jsonify(_openapi())


@documents.get("/asyncapi.json")
def asyncapi() -> Response:
    """The AsyncAPI 3.0 document of the Redis channels and streams."""
    return jsonify(_asyncapi(current_app.extensions.get("channel_prefix", DEFAULT_PREFIX)))


@documents.get("/docs")
def docs() -> Response:
    """The interactive page of the OpenAPI document."""
    page = resources.files("shop.entrypoints.documents").joinpath("docs.html").read_bytes()
    return Response(page, mimetype="text/html")


@documents.get("/docs/assets/<name>")
def docs_asset(name: str) -> Response:
    """A file of the page: ours, or Swagger UI's from the installed flask-swagger-ui."""
    media_type = _MEDIA_TYPES.get(name[name.rfind(".") :]) if "." in name else None
    if media_type is None or not _NAME.fullmatch(name):
        abort(404, description="no such file")
    if name in _OURS:
        found = resources.files("shop.entrypoints.documents").joinpath(name)
    else:
        found = resources.files("flask_swagger_ui").joinpath("dist", name)
    if not found.is_file():
        abort(404, description="no such file")
    response = Response(found.read_bytes(), mimetype=media_type)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
