"""The door (CONTRACT §4): the one place an ``Authorization`` header becomes a visa, or a 401.

Every endpoint needs a bearer token except the public ones; the visa found is kept for the
request and rides in the envelope of every command sent (``send``), so the bus, not the
endpoint, carries it to the handler, and the domain decides what it allows.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request

from seedwork.messages import Command, Envelope
from shop.adapters.tokens import InvalidToken, TokenVerifier
from shop.domain.visa import Visa
from shop.entrypoints.api.http import bus
from shop.entrypoints.problems import problem

#: Endpoints anyone may call (CONTRACT §4, the first row); every other one needs a token.
PUBLIC_ENDPOINTS = frozenset(
    {"health", "health_live", "health_ready", "catalog.get_product", "openapi", "asyncapi", "docs"}
)
REALM = 'Bearer realm="shop"'


def unauthorized(detail: str, *, token_sent: bool) -> Response:
    """401 problem+json with the challenge, naming ``invalid_token`` when a token was sent."""
    challenge = f'{REALM}, error="invalid_token"' if token_sent else REALM
    return problem(401, detail, headers={"WWW-Authenticate": challenge})


def _authenticate() -> Response | None:
    """Before each request: the visa of a valid bearer token, or the 401 answer."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None  # no such route (its 404/405 follows), or a public one
    if request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return unauthorized(
            "an access token is needed: Authorization: Bearer <token>", token_sent=False
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return unauthorized("only Bearer access tokens are accepted", token_sent=False)
    verifier: TokenVerifier = current_app.extensions["tokens"]
    try:
        g.visa = verifier.verify(token.strip())
    except InvalidToken as error:
        return unauthorized(str(error), token_sent=True)
    return None


def install(app: Flask, verifier: TokenVerifier) -> None:
    """Guard every non-public endpoint of ``app`` with ``verifier``."""
    app.extensions["tokens"] = verifier
    app.before_request(_authenticate)


def visa() -> Visa:
    """The visa of this request (a guarded endpoint always has one)."""
    found: Visa = g.visa
    return found


def send(command: Command) -> Any:
    """Handle ``command`` on the bus as sent by this request's visa; the handler's result."""
    return bus().handle(Envelope(message=command, principal=visa()))
