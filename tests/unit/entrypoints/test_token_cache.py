"""A verified token is remembered, and its times are checked again at every use (CONTRACT §4)."""

from __future__ import annotations

import time

import jwt
import pytest

from shop.adapters import tokens
from shop.adapters.tokens import LEEWAY, InvalidToken, TokenVerifier
from shop.domain.visa import Role, Visa
from shop.entrypoints.http.app import create_app
from tests import auth
from tests.unit.entrypoints.conftest import FakeReadModels, client_as, fake_bus

PROBE = "/customers/NO-SUCH-CUSTOMER"  # staff may read customers: an accepted token gets 404


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def verifier(clock: Clock) -> TokenVerifier:
    return TokenVerifier(auth.keys(), auth.AUTH.audience, auth.AUTH.issuer, clock=clock)


def staff_token(**claims: object) -> str:
    payload = {"sub": "eve", "role": "staff", "aud": "shop", "exp": int(time.time()) + 60}
    payload.update(claims)
    return jwt.encode(payload, auth.SECRET, algorithm="HS256")


def test_a_remembered_token_that_expires_is_refused() -> None:
    clock = Clock()
    checker = verifier(clock)
    token = staff_token()
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert checker.verify(token) == Visa("eve", Role.STAFF)
    clock.now = expires + LEEWAY - 1  # within the leeway, as PyJWT allows
    assert checker.verify(token) == Visa("eve", Role.STAFF)
    clock.now = expires + LEEWAY
    with pytest.raises(InvalidToken, match=r"^the access token has expired$"):
        checker.verify(token)


def test_a_remembered_token_is_refused_by_the_door_once_expired() -> None:
    clock = Clock()
    views = FakeReadModels()
    app = create_app(bus=fake_bus(views), views=views, tokens=verifier(clock))
    token = staff_token()
    client = client_as(app, f"Bearer {token}")
    assert client.get(PROBE).status_code == 404  # accepted (and remembered)
    clock.now += 60 + LEEWAY + 1
    answer = client.get(PROBE)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert answer.json is not None
    assert answer.json["detail"] == "the access token has expired"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="shop", error="invalid_token"'


def test_a_remembered_token_not_valid_yet_by_the_clock_is_refused() -> None:
    clock = Clock()
    checker = verifier(clock)
    token = staff_token(nbf=int(clock.now))
    checker.verify(token)
    clock.now -= LEEWAY + 5  # the clock went back
    with pytest.raises(InvalidToken, match=r"^the access token is not valid yet$"):
        checker.verify(token)


def test_a_refused_token_is_not_remembered() -> None:
    checker = verifier(Clock())
    forged = jwt.encode(
        {"sub": "eve", "role": "staff", "aud": "shop", "exp": int(time.time()) + 60},
        "another-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        algorithm="HS256",
    )
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature does not verify"):
            checker.verify(forged)
    assert not checker._verified


def test_only_the_exact_token_is_remembered() -> None:
    checker = verifier(Clock())
    token = staff_token()
    checker.verify(token)
    head, payload, signature = token.split(".")
    changed = "A" if signature[0] != "A" else "B"
    with pytest.raises(InvalidToken):
        checker.verify(f"{head}.{payload}.{changed}{signature[1:]}")


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "CACHED_TOKENS", 3)
    checker = verifier(Clock())
    made = [staff_token(sub=f"user-{n}") for n in range(5)]
    for token in made:
        checker.verify(token)
    assert list(checker._verified) == made[-3:]
    assert checker.verify(made[0]) == Visa("user-0", Role.STAFF)  # verified again
