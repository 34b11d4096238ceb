"""Access tokens (CONTRACT §4): JWTs checked into a visa, and issued with the shop's secret.

The algorithm is pinned by the configured key, never read from the token: HS256 with the
secret, RS256 or ES256 (P-256) with the public key file. ``exp``, ``sub``, ``role`` and ``aud``
are required (``iss`` when configured), with 30 s of leeway for clocks. Every way a token can be
wrong is an ``InvalidToken`` whose message is a fixed phrase: it never echoes the token.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from seedwork.core.errors import ConfigurationError
from shop import auth_config
from shop.auth_config import AuthSettings, check_secret
from shop.domain.visa import TOKEN_ROLES, Role, Visa

LEEWAY = 30
MAX_SUBJECT = 200
#: How many verified tokens a verifier remembers (the oldest is forgotten first).
CACHED_TOKENS = 1024


class InvalidToken(Exception):
    """A token that does not make a visa; the message says why in a fixed phrase."""


@attrs.frozen
class TokenKeys:
    """The pinned algorithm, the key that verifies, and the one that signs (the secret, if any)."""

    algorithm: str
    verifying: Any = attrs.field(repr=False)
    signing: str | None = attrs.field(default=None, repr=False)


def _public_key(path: str) -> TokenKeys:
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError):
        raise ConfigurationError(
            f"SHOP_AUTH_PUBLIC_KEY_FILE is not a readable PEM public key: {path!r}"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        return TokenKeys("RS256", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return TokenKeys("ES256", key)
    raise ConfigurationError(
        f"SHOP_AUTH_PUBLIC_KEY_FILE must hold an RSA or a P-256 EC public key: {path!r}"
    )


def _create_secret(path: Path) -> str:
    """A fresh random secret in ``path`` (mode 0600), or the one another process wrote first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Written whole under another name, then linked into place: a process that finds the file
    # finds the whole secret, never an empty or half-written one.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        secret = check_secret(path.read_text().strip(), str(path))
    finally:
        draft.unlink()
    return secret


def token_keys(
    auth: AuthSettings, *, create: bool = False, secret_file: Path | None = None
) -> TokenKeys:
    """The keys of the configuration: the public key file, else the secret, else the secret file.

    ``create``: make the secret file when there is none (``shop run``); otherwise its absence is
    a ``ConfigurationError`` saying what to set. ``secret_file``: ``var/auth-secret`` by default.
    """
    secret_file = auth_config.SECRET_FILE if secret_file is None else secret_file
    if auth.public_key_file is not None:
        return _public_key(auth.public_key_file)
    secret = auth.secret
    if secret is None:
        if secret_file.is_file():
            secret = check_secret(secret_file.read_text().strip(), str(secret_file))
        elif create:
            secret = _create_secret(secret_file)
        else:
            raise ConfigurationError(
                f"SHOP_AUTH_SECRET is not set and there is no {secret_file}: set it, or start "
                "`shop run` here once to create it"
            )
    return TokenKeys("HS256", secret, secret)


_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the access token has expired"),
    (jwt.ImmatureSignatureError, "the access token is not valid yet"),
    (jwt.InvalidAudienceError, "the access token is for another audience"),
    (jwt.InvalidIssuerError, "the access token is from another issuer"),
    (jwt.MissingRequiredClaimError, "the access token lacks a required claim"),
    (jwt.InvalidAlgorithmError, "the access token is not signed with the expected algorithm"),
    (jwt.InvalidSignatureError, "the access token's signature does not verify"),
)


@attrs.frozen
class _Verified:
    """A token that verified: its visa and the times it is valid between (PyJWT's checks)."""

    visa: Visa
    expires: int
    not_before: int | None


@attrs.frozen
class TokenVerifier:
    """Turns a bearer token into a ``Visa``, or raises ``InvalidToken``.

    A token that verified is remembered (by its exact text, at most ``CACHED_TOKENS`` of them):
    its signature and claims cannot change, so only its times are checked again, against the
    clock, on each later use; an expired token is refused as if it were new. A refused token is
    never remembered. The keys, audience and issuer are fixed for the verifier's life.
    """

    keys: TokenKeys
    audience: str
    issuer: str | None = None
    clock: Callable[[], float] = attrs.field(default=time.time, repr=False, eq=False)
    _verified: dict[str, _Verified] = attrs.field(factory=dict, init=False, repr=False, eq=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)

    @classmethod
    def from_settings(cls, auth: AuthSettings, *, create: bool = False) -> TokenVerifier:
        """The verifier for the configured keys, audience and issuer."""
        return cls(token_keys(auth, create=create), auth.audience, auth.issuer)

    def verify(self, token: str) -> Visa:
        """The visa a token grants; ``InvalidToken`` says in a fixed phrase why it grants none."""
        known = self._verified.get(token)
        if known is not None:
            return self._still_valid(known)
        required = ["exp", "sub", "aud"] + (["iss"] if self.issuer is not None else [])
        try:
            claims = jwt.decode(
                token,
                self.keys.verifying,
                algorithms=[self.keys.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": required, "strict_aud": True},
            )
        except jwt.PyJWTError as error:
            reason = next((r for kind, r in _REASONS if isinstance(error, kind)), None)
            raise InvalidToken(reason or "the access token is malformed") from None
        except (ValueError, TypeError, KeyError, OverflowError):
            raise InvalidToken("the access token is malformed") from None
        visa = _visa(claims)
        self._remember(token, claims, visa)
        return visa

    def _still_valid(self, known: _Verified) -> Visa:
        """The visa of a token verified before, unless its time is over (or not yet come)."""
        now = self.clock()
        if known.expires <= now - LEEWAY:
            raise InvalidToken("the access token has expired")
        if known.not_before is not None and known.not_before > now + LEEWAY:
            raise InvalidToken("the access token is not valid yet")
        return known.visa

    def _remember(self, token: str, claims: dict[str, Any], visa: Visa) -> None:
        # As PyJWT reads them: whole seconds; the later of nbf and iat is when it starts.
        starts = [int(claims[name]) for name in ("nbf", "iat") if name in claims]
        verified = _Verified(visa, int(claims["exp"]), max(starts) if starts else None)
        with self._lock:
            while len(self._verified) >= CACHED_TOKENS:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = verified


def _visa(claims: dict[str, Any]) -> Visa:
    # RFC 7519: the times are NumericDate, JSON numbers; PyJWT would take "9999999999" too.
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken("the access token is malformed")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT:
        raise InvalidToken("the access token's subject is not a name")
    if not subject.isprintable():
        raise InvalidToken("the access token's subject is not a name")
    role = claims.get("role")
    if not isinstance(role, str) or role not in {r.value for r in TOKEN_ROLES}:
        raise InvalidToken("the access token has no known role")
    customer_id = None
    if role == Role.CUSTOMER:
        customer_id = claims.get("customer_id")
        if not isinstance(customer_id, str) or not customer_id or len(customer_id) > MAX_SUBJECT:
            raise InvalidToken("a customer's access token must name its customer_id")
    return Visa(subject=subject, role=Role(role), customer_id=customer_id)


def issue_token(
    keys: TokenKeys,
    auth: AuthSettings,
    *,
    role: Role,
    subject: str,
    customer_id: str | None = None,
    ttl: int = 3600,
    now: float | None = None,
) -> str:
    """A signed token for ``subject`` in ``role``; ``ConfigurationError`` without a secret."""
    if keys.signing is None:
        raise ConfigurationError(
            "only SHOP_AUTH_PUBLIC_KEY_FILE is configured: tokens come from your identity "
            "provider, the shop cannot sign them"
        )
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "aud": auth.audience,
        "iat": issued,
        "exp": issued + ttl,
    }
    if auth.issuer is not None:
        claims["iss"] = auth.issuer
    if customer_id is not None:
        claims["customer_id"] = customer_id
    return jwt.encode(claims, keys.signing, algorithm=keys.algorithm)
