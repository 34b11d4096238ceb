"""The door (CONTRACT §4): the one place an ``Authorization`` header becomes a visa, or a 401.

Every endpoint needs a bearer token except the public ones; the visa found is kept for the
request and rides in the envelope of every command sent (``send``), so the bus, not the
endpoint, carries it to the handler, and the domain decides what it allows.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request

from seedwork.core import context
from seedwork.core.messages import Command, Envelope
from shop.adapters.tokens import InvalidToken, TokenVerifier
from shop.domain.visa import Visa
from shop.entrypoints.http.api.exchange import bus
from shop.entrypoints.http.api.permissions import PERMISSIONS
from shop.entrypoints.http.problems import problem

REALM = 'Bearer realm="shop"'


def unauthorized(detail: str, *, token_sent: bool) -> Response:
    """401 problem+json with the challenge, naming ``invalid_token`` when a token was sent."""
    challenge = f'{REALM}, error="invalid_token"' if token_sent else REALM
    return problem(401, detail, headers={"WWW-Authenticate": challenge})


def _authenticate() -> Response | None:
    """Before each request: the visa of a valid bearer token, or the 401 answer."""
    rule = request.url_rule
    if rule is None or request.method == "OPTIONS":
        return None  # no such route (its 404/405 follows), or which methods it allows
    # HEAD is GET without the body; a route the table does not know is refused to every role.
    method = "GET" if request.method == "HEAD" else request.method
    access = PERMISSIONS.get((method, rule.rule))
    if access is not None and access.public:
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
    if access is None or not access.allows(g.visa.role):
        # The domain refuses it too; an endpoint with no command behind it (/metrics) relies
        # on this check alone. A route missing from the table is open to no role (fail closed).
        return problem(403, f"The {g.visa.role} role may not call {method} {rule.rule}.")
    return None


def install(app: Flask, verifier: TokenVerifier) -> None:
    """Guard every non-public endpoint of ``app`` with ``verifier``."""
    app.extensions["tokens"] = verifier
    app.before_request(_authenticate)


def visa() -> Visa:
    """The visa of this request (a guarded endpoint always has one)."""
    found: Visa = g.visa
    return found


def send(command: Command, *, committed: list[Envelope] | None = None) -> Any:
    """Handle ``command`` on the bus as sent by this request's visa; the handler's result.

    ``committed``, when given, receives the events of every commit of the call, in order.
    """
    correlation_id = context.current().get("correlation_id")
    if correlation_id is None:
        envelope = Envelope(message=command, principal=visa())
    else:  # the request's: its commands and events share it
        envelope = Envelope(message=command, principal=visa(), correlation_id=correlation_id)
    return bus().handle(envelope, committed=committed)
