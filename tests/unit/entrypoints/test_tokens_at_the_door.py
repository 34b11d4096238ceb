"""The door (CONTRACT §4): a forged or misused token is a 401, never a 500, and leaks nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.adapters.tokens import TokenVerifier
from shop.auth_config import AuthSettings
from shop.entrypoints.http.app import create_app
from tests import auth
from tests.unit.entrypoints.conftest import FakeReadModels, client_as, fake_bus

PROBE = "/customers/NO-SUCH-CUSTOMER"  # staff may read customers: an accepted token gets 404


def claims(**changes: Any) -> dict[str, Any]:
    """A staff token's claims, changed (a None value drops the claim)."""
    found: dict[str, Any] = {"sub": "eve", "role": "staff", "aud": "shop", "exp": time.time() + 300}
    found.update(changes)
    return {name: value for name, value in found.items() if value is not None}


def hs256(payload: dict[str, Any], key: str | bytes = auth.SECRET) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token made by hand: any ``alg`` in the header, HMAC-SHA256 with ``key`` or unsigned."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


def app_with(auth_settings: AuthSettings) -> Flask:
    views = FakeReadModels()
    return create_app(
        bus=fake_bus(views), views=views, tokens=TokenVerifier.from_settings(auth_settings)
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def rsa_app(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> Flask:
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(rsa_key))
    return app_with(AuthSettings(public_key_file=str(path)))


def assert_refused(app: Flask, header: str | None, *, token_sent: bool = True) -> None:
    answer = client_as(app, header).get(PROBE)
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert answer.json is not None
    assert (answer.json["title"], answer.json["status"]) == ("Unauthorized", 401)
    challenge = answer.headers["WWW-Authenticate"]
    if token_sent:
        assert challenge == 'Bearer realm="shop", error="invalid_token"'
    else:
        assert challenge == 'Bearer realm="shop"'
    text = answer.get_data(as_text=True)
    assert "Traceback" not in text
    if header:
        assert header.split()[-1] not in text  # the token is never echoed


def test_no_header_or_another_scheme_is_refused_without_naming_a_token(app: Flask) -> None:
    assert_refused(app, None, token_sent=False)
    assert_refused(app, "Basic ZXZlOnNlY3JldA==", token_sent=False)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three-garbage-parts"),
        pytest.param("", id="empty"),
        pytest.param(handmade({"alg": "none", "typ": "JWT"}, claims(), None), id="alg-none"),
        pytest.param(hs256(claims(), "another-secret-of-at-least-32-bytes!!"), id="wrong-key"),
        pytest.param(hs256(claims(exp=time.time() - 31)), id="expired-beyond-leeway"),
        pytest.param(hs256(claims(aud="someone-else")), id="wrong-audience"),
        pytest.param(hs256(claims(aud=None)), id="no-audience"),
        pytest.param(hs256(claims(exp=None)), id="no-expiry"),
        pytest.param(hs256(claims(sub=None)), id="no-subject"),
        pytest.param(hs256(claims(sub="")), id="empty-subject"),
        pytest.param(hs256(claims(role=None)), id="no-role"),
        pytest.param(hs256(claims(role="admin")), id="unknown-role"),
        pytest.param(hs256(claims(role="system")), id="the-system-role"),
        pytest.param(hs256(claims(role="customer")), id="customer-without-customer-id"),
        pytest.param(hs256(claims(role="customer", customer_id="")), id="empty-customer-id"),
        pytest.param(hs256(claims(role=["staff"])), id="role-not-a-string"),
        pytest.param(hs256(claims(exp="tomorrow")), id="expiry-not-a-number"),
        pytest.param(hs256(claims(exp=str(int(time.time() + 300)))), id="expiry-a-numeric-string"),
        pytest.param(hs256(claims(sub="   ")), id="blank-subject"),
        pytest.param(hs256(claims(nbf=time.time() + 300)), id="not-valid-yet"),
    ],
)
def test_a_forged_or_misused_token_is_refused(app: Flask, token: str) -> None:
    assert_refused(app, f"Bearer {token}")


def test_a_token_expired_within_the_leeway_still_counts(app: Flask) -> None:
    answer = client_as(app, f"Bearer {hs256(claims(exp=time.time() - 10))}").get(PROBE)
    assert answer.status_code == 404


def test_the_issuer_is_checked_when_configured() -> None:
    app = app_with(AuthSettings(secret=auth.SECRET, issuer="https://id.example"))
    assert_refused(app, f"Bearer {hs256(claims())}")
    assert_refused(app, f"Bearer {hs256(claims(iss='https://evil.example'))}")
    good = client_as(app, f"Bearer {hs256(claims(iss='https://id.example'))}").get(PROBE)
    assert good.status_code == 404


def test_rs256_tokens_are_accepted_with_the_public_key(
    rsa_app: Flask, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert client_as(rsa_app, f"Bearer {token}").get(PROBE).status_code == 404


def test_es256_tokens_are_accepted_with_an_ec_public_key(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(public_pem(key))
    app = app_with(AuthSettings(public_key_file=str(tmp_path / "ec.pem")))
    token = jwt.encode(claims(), key, algorithm="ES256")
    assert client_as(app, f"Bearer {token}").get(PROBE).status_code == 404
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert_refused(app, f"Bearer {jwt.encode(claims(), stranger, algorithm='ES256')}")


def test_the_public_key_used_as_an_hmac_secret_is_refused(
    rsa_app: Flask, rsa_key: rsa.RSAPrivateKey
) -> None:
    """HS/RS confusion: an HS256 token signed with the (public) PEM key as HMAC secret."""
    confused = handmade({"alg": "HS256", "typ": "JWT"}, claims(), public_pem(rsa_key))
    assert_refused(rsa_app, f"Bearer {confused}")
    assert_refused(rsa_app, f"Bearer {hs256(claims())}")  # the shop's own secret means nothing


def test_an_hs256_shop_refuses_rs256_tokens(app: Flask, rsa_key: rsa.RSAPrivateKey) -> None:
    assert_refused(app, f"Bearer {jwt.encode(claims(), rsa_key, algorithm='RS256')}")


def test_a_forbidden_answer_is_problem_json_naming_only_the_role(app: Flask) -> None:
    token = auth.token("warehouse", "wanda-the-warehouse")
    answer = client_as(app, f"Bearer {token}").post(
        "/customers", json={"name": "Ann", "email": "ann@example.com"}
    )
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    text = answer.get_data(as_text=True)
    assert token not in text and "wanda" not in text and "Traceback" not in text
    assert answer.json == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "The warehouse role may not call POST /customers.",
    }


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        HEADER_TEXT,
        HEADER_TEXT.map(lambda text: f"Bearer {text}"),
        st.lists(HEADER_TEXT.map(lambda t: _b64(t.encode("latin-1"))), min_size=3, max_size=3).map(
            lambda parts: "Bearer " + ".".join(parts)
        ),
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4).map(
            lambda header: "Bearer " + handmade(header, claims(), auth.SECRET.encode())
        ),
    )
)
def test_any_header_value_is_a_401_never_a_500(app: Flask, value: str) -> None:
    answer = client_as(app, value).get(PROBE)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"


def test_a_route_the_permission_table_does_not_know_is_open_to_no_role() -> None:
    """Fail closed: an endpoint added without its row in the table refuses every token."""
    views = FakeReadModels()
    app = create_app(bus=fake_bus(views), views=views, tokens=auth.verifier())
    app.add_url_rule("/unlisted", "unlisted", lambda: {"secret": "data"})
    for role in ("customer", "warehouse", "staff"):
        answer = client_as(app, auth.bearer(role, customer_id="C1")).get("/unlisted")
        assert answer.status_code == 403, role
        assert "secret" not in answer.get_data(as_text=True)
    assert client_as(app, None).get("/unlisted").status_code == 401
