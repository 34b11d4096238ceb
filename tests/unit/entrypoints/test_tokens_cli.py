"""``shop tokens issue`` (CONTRACT §1) and where the shop's secret comes from."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shop import auth_config
from shop.adapters.tokens import TokenVerifier, token_keys
from shop.auth_config import AuthSettings
from shop.domain.visa import Role, Visa
from shop.entrypoints.cli.main import main
from tests import auth


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, without SHOP_AUTH_SECRET or a secret file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOP_AUTH_SECRET", raising=False)
    monkeypatch.setattr(auth_config, "SECRET_FILE", Path("var/auth-secret"))
    return tmp_path


def issue(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["tokens", "issue", *args])
    out, err = capsys.readouterr()
    return status, out.strip(), err


def test_a_token_is_issued_with_the_configured_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_AUTH_SECRET", auth.SECRET)
    status, token, _ = issue(
        capsys, "--role", "customer", "--subject", "ann", "--customer-id", "c-1"
    )
    assert status == 0
    assert auth.verifier().verify(token) == Visa("ann", Role.CUSTOMER, "c-1")


def test_shop_run_s_secret_file_is_made_once_private_and_used_by_the_cli(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = token_keys(AuthSettings(), create=True)  # what `shop run` does without a secret
    secret_file = here / "var" / "auth-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert token_keys(AuthSettings(), create=True) == made  # reused, not replaced
    status, token, _ = issue(capsys, "--role", "staff", "--subject", "me", "--ttl", "60")
    assert status == 0
    assert TokenVerifier(made, "shop").verify(token) == Visa("me", Role.STAFF)


def test_without_any_secret_it_says_what_to_set(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = issue(capsys, "--role", "staff", "--subject", "me")
    assert (status, out) == (2, "")
    assert "SHOP_AUTH_SECRET is not set" in err and "Traceback" not in err


def test_with_only_a_public_key_it_refuses_with_exit_2(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (here / "public.pem").write_bytes(pem)
    monkeypatch.setenv("SHOP_AUTH_PUBLIC_KEY_FILE", str(here / "public.pem"))
    status, out, err = issue(capsys, "--role", "staff", "--subject", "me")
    assert (status, out) == (2, "")
    assert "identity provider" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--role", "customer", "--subject", "me"], "--customer-id is needed"),
        (["--role", "staff", "--subject", "me", "--customer-id", "c-1"], "--customer-id is needed"),
        (["--role", "staff", "--subject", "me", "--ttl", "0"], "the ttl must be"),
        (["--role", "admin", "--subject", "me"], "invalid choice: 'admin'"),
        (["--role", "staff", "--subject", ""], "a subject is"),
    ],
)
def test_bad_arguments_are_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], said: str
) -> None:
    try:
        status = main(["tokens", "issue", *arguments])
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert said in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SHOP_AUTH_SECRET", "too-short", "at least 32 bytes"),
        ("SHOP_AUTH_PUBLIC_KEY_FILE", "/no/such/key.pem", "is not a file"),
        ("SHOP_REDIS_ROLE", "system", "SHOP_REDIS_ROLE must be one of"),
    ],
)
def test_bad_auth_settings_are_exit_2_naming_the_variable_not_the_secret(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    said: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["tokens", "issue", "--role", "staff", "--subject", "me"]) == 2
    err = capsys.readouterr().err
    assert said in err and (variable != "SHOP_AUTH_SECRET" or value not in err)


def test_shop_api_without_a_key_to_check_tokens_is_exit_2(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "--port", "0"]) == 2
    assert "SHOP_AUTH_SECRET is not set" in capsys.readouterr().err


def test_processes_starting_together_share_one_whole_secret(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from shop.adapters.tokens import token_keys
    from shop.auth_config import AuthSettings

    secret_file = tmp_path / "var" / "auth-secret"

    def start(_: int) -> str | None:
        return token_keys(AuthSettings(), create=True, secret_file=secret_file).signing

    with ThreadPoolExecutor(8) as pool:
        found = set(pool.map(start, range(32)))
    assert len(found) == 1
    [secret] = found
    assert secret and len(secret) >= 32
    assert secret_file.read_text().strip() == secret
    assert [entry.name for entry in secret_file.parent.iterdir()] == ["auth-secret"]
