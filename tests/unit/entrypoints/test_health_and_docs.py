"""GET /health/live, /health/ready (and /health), and the /docs page from the installed package."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.unit.entrypoints.conftest import FakeReadModels


def test_live_answers_while_the_process_serves_even_without_its_database(
    client: FlaskClient, views: FakeReadModels
):
    views.reachable = False
    answer = client.get("/health/live")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_ready_and_health_say_which_part_is_unavailable(client: FlaskClient, views: FakeReadModels):
    for path in ("/health/ready", "/health"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    views.reachable = False
    for path in ("/health/ready", "/health"):
        answer = client.get(path)
        assert answer.status_code == 503
        assert answer.get_json() == {
            "status": "unavailable", "database": "unavailable", "redis": "ok"
        }  # fmt: skip


def test_the_docs_page_loads_only_files_this_service_serves(client: FlaskClient):
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert linked
    assert not [url for url in linked if not url.startswith("/docs/assets/")]  # no CDN
    for url in linked:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.get_data()) > 0
    script = client.get("/docs/assets/shop-docs.js").get_data(as_text=True)
    assert '"/openapi.json"' in script
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").get_data(
        as_text=True
    )


def test_only_the_page_files_are_served(client: FlaskClient):
    for name in ("..%2Fapp.py", "index.template.html", ".hidden.js", "nothing.js", "VERSION"):
        answer = client.get(f"/docs/assets/{name}")
        assert answer.status_code == 404, name
        assert answer.mimetype == "application/problem+json"
