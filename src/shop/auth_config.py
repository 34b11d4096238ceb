"""The authentication settings of CONTRACT §1 (``SHOP_AUTH_*``, ``SHOP_REDIS_ROLE``), checked once.

The secret never appears in a repr, a log line or an error: errors name the variable only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from seedwork.core.errors import ConfigurationError
from shop.domain.visa import TOKEN_ROLES, Role, Visa

#: Where ``shop run`` keeps the secret it made when ``SHOP_AUTH_SECRET`` is unset.
SECRET_FILE = Path("var/auth-secret")
MIN_SECRET_BYTES = 32
DEFAULT_AUDIENCE = "shop"
DEFAULT_REDIS_ROLE = Role.WAREHOUSE
#: The subject commands read from Redis act as (their events' ``actor``).
REDIS_SUBJECT = "redis"


def check_secret(secret: str, origin: str) -> str:
    """The secret when it has at least 32 bytes; ``ConfigurationError`` naming ``origin``."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{origin} must be at least {MIN_SECRET_BYTES} bytes long (an HS256 key)"
        )
    return secret


@attrs.frozen(kw_only=True)
class AuthSettings:
    """How access tokens are checked, and the role commands read from Redis act under."""

    secret: str | None = attrs.field(default=None, repr=False)
    public_key_file: str | None = None
    issuer: str | None = None
    audience: str = DEFAULT_AUDIENCE
    redis_role: Role = DEFAULT_REDIS_ROLE

    @property
    def redis_visa(self) -> Visa:
        """The visa of commands read from Redis: ``SHOP_REDIS_ROLE``, speaking for no customer."""
        return Visa(subject=REDIS_SUBJECT, role=self.redis_role)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthSettings:
        """Read and check the ``SHOP_AUTH_*`` and ``SHOP_REDIS_ROLE`` variables."""
        secret = env.get("SHOP_AUTH_SECRET") or None
        if secret is not None:
            check_secret(secret, "SHOP_AUTH_SECRET")
        key_file = env.get("SHOP_AUTH_PUBLIC_KEY_FILE") or None
        if key_file is not None and not Path(key_file).is_file():
            raise ConfigurationError(f"SHOP_AUTH_PUBLIC_KEY_FILE is not a file: {key_file!r}")
        role = env.get("SHOP_REDIS_ROLE") or DEFAULT_REDIS_ROLE.value
        if role not in {r.value for r in TOKEN_ROLES}:
            names = ", ".join(r.value for r in TOKEN_ROLES)
            raise ConfigurationError(f"SHOP_REDIS_ROLE must be one of {names}, got {role!r}")
        return cls(
            secret=secret,
            public_key_file=key_file,
            issuer=env.get("SHOP_AUTH_ISSUER") or None,
            audience=env.get("SHOP_AUTH_AUDIENCE") or DEFAULT_AUDIENCE,
            redis_role=Role(role),
        )
