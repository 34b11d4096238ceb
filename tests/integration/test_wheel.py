"""The built wheel, installed in a fresh virtualenv, is a working shop (what the Docker image runs).

A wheel once lacked the migration scripts: ``shop db upgrade`` said "database upgraded" and
created only ``alembic_version``. These tests build the wheel from a copy of the sources, install
it with the pinned dependencies (constraints.txt) and no extra, and run it away from the sources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from shop.adapters import tables as db
from shop.views import tables as view_tables
from tests import services

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ("pyproject.toml", "setup.cfg", "README.md", "LICENSE")


def _run(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a clean copy of the sources (no build/ or egg-info left over)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", work / "dist", source)
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("shop-*.whl")
    return found


@pytest.fixture(scope="module")
def shop_bin(wheel: Path) -> Path:
    """The bin directory of a fresh virtualenv with the wheel installed (no extra)."""
    environment = wheel.parent.parent / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = _run(
        python, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", wheel
    )
    assert installed.returncode == 0, installed.stderr
    return environment / "bin"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database."""
    with services.fresh_postgres_database() as url:
        yield url


def _shop(
    shop_bin: Path,
    cwd: Path,
    *args: str,
    database_url: str = "",
    program: str = "shop",
    timeout: float = 180,
    auth_secret: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``shop`` (or its python) from ``cwd``, away from the sources."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", "REDIS_URL", "DATABASE_URL"}
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if auth_secret:
        env["SHOP_AUTH_SECRET"] = auth_secret
    return _run(shop_bin / program, *args, cwd=cwd, env=env, timeout=timeout)


def test_the_wheel_holds_every_migration_script(wheel: Path):
    scripts = {
        f"shop/migrations/versions/{path.name}"
        for path in (ROOT / "src" / "shop" / "migrations" / "versions").glob("*.py")
    }
    assert scripts
    assert scripts <= set(zipfile.ZipFile(wheel).namelist())


def test_the_installed_wheel_creates_every_table_and_serves_commands(
    shop_bin: Path, fresh_database: str, tmp_path: Path
):
    upgraded = _shop(shop_bin, tmp_path, "db", "upgrade", database_url=fresh_database)
    assert upgraded.returncode == 0, upgraded.stderr

    engine = create_engine(fresh_database)
    try:
        found = set(inspect(engine).get_table_names())
        assert set(db.metadata.tables) | set(view_tables.metadata.tables) <= found

        status = _shop(shop_bin, tmp_path, "outbox", "status", database_url=fresh_database)
        assert status.returncode == 0, status.stderr
        assert "pending: 0" in status.stdout

        add_product = (
            "from shop.bootstrap import bootstrap; from shop.config import Settings;"
            "from shop.domain.commands import AddProduct; from shop.domain.money import Money;"
            "shop = bootstrap(Settings.from_env());"
            "shop.bus.handle(AddProduct(sku='WHEEL-1', name='Wheel', price=Money.of(900, 'EUR')));"
            "shop.close()"
        )
        added = _shop(
            shop_bin, tmp_path, "-c", add_product, database_url=fresh_database, program="python"
        )
        assert added.returncode == 0, added.stderr
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM products WHERE sku = 'WHEEL-1'"))
            assert names.scalars().all() == ["Wheel"]
    finally:
        engine.dispose()


def test_the_installed_wheel_serves_its_documents_and_the_docs_page_without_a_cdn(
    wheel: Path, shop_bin: Path, tmp_path: Path
):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "shop/entrypoints/documents/docs.html",
        "shop/entrypoints/documents/shop-docs.js",
    } <= names
    served = (
        "import re; from shop.config import Settings;"
        "from shop.entrypoints.http.app import create_app;"
        "client = create_app(Settings.from_env()).test_client();"
        "page = client.get('/docs'); assert page.status_code == 200, page.status_code;"
        'files = re.findall(r\'(?:src|href)="([^"]+)"\', page.get_data(as_text=True));'
        "assert files and all(f.startswith('/docs/assets/') for f in files), files;"
        "assert all(client.get(f).status_code == 200 for f in files);"
        "assert client.get('/openapi.json').get_json()['openapi'] == '3.1.0';"
        "assert client.get('/asyncapi.json').get_json()['asyncapi'] == '3.0.0';"
        "print(len(files))"
    )
    # A server always has a key to check tokens with, even to serve only public pages.
    answer = _shop(
        shop_bin,
        tmp_path,
        "-c",
        served,
        program="python",
        database_url="sqlite://",
        auth_secret="wheel-test-secret-of-at-least-32-bytes",
    )
    assert answer.returncode == 0, answer.stderr
    assert int(answer.stdout) >= 4
    printed = _shop(shop_bin, tmp_path, "openapi")
    assert printed.returncode == 0, printed.stderr
    assert '"openapi": "3.1.0"' in printed.stdout


def test_the_installed_wheel_says_its_version(shop_bin: Path, tmp_path: Path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    answer = _shop(shop_bin, tmp_path, "--version")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == f"shop {version}"


def test_shop_run_without_redis_url_or_the_embedded_extra_says_what_to_do(
    shop_bin: Path, tmp_path: Path
):
    answer = _shop(shop_bin, tmp_path, "run", "--port", "0", timeout=60)
    assert answer.returncode == 2, answer.stderr
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1, answer.stderr
    assert "REDIS_URL" in lines[0]
    assert "shop[embedded]" in lines[0]
