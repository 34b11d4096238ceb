"""Access tokens for tests: every test helper authenticates as staff unless told otherwise."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from shop.adapters.tokens import TokenKeys, TokenVerifier, issue_token, token_keys
from shop.auth_config import AuthSettings
from shop.domain.visa import Role

#: The HS256 secret the test helpers configure (unit apps, e2e processes) and sign with.
SECRET = "tests-only-secret-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH = AuthSettings(secret=SECRET)
STAFF = "test-staff"


def keys(auth: AuthSettings = AUTH) -> TokenKeys:
    """The keys of ``auth``."""
    return token_keys(auth)


def verifier(auth: AuthSettings = AUTH) -> TokenVerifier:
    """The verifier an app configured with ``auth`` uses."""
    return TokenVerifier.from_settings(auth)


def token(
    role: str = "staff",
    subject: str = STAFF,
    customer_id: str | None = None,
    *,
    auth: AuthSettings = AUTH,
    ttl: int = 3600,
) -> str:
    """A valid token for ``subject`` in ``role``."""
    return issue_token(
        keys(auth), auth, role=Role(role), subject=subject, customer_id=customer_id, ttl=ttl
    )


def bearer(role: str = "staff", subject: str = STAFF, customer_id: str | None = None) -> str:
    """The ``Authorization`` header value of ``token(...)``."""
    return f"Bearer {token(role, subject, customer_id)}"


def customer(customer_id: str) -> str:
    """The ``Authorization`` header value of the customer ``customer_id`` itself."""
    return bearer("customer", f"customer-{customer_id}", customer_id)


class StaffClient(FlaskClient):
    """Flask's test client, sending a staff token unless the test removes or replaces it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_AUTHORIZATION", bearer())
