"""``shop api --workers 2``: every worker counts, and any worker's ``/metrics`` adds them all up."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import ShopProcess
from tests.waiting import eventually

ROUND = 20


def health_count(text: str) -> float:
    """The number of ``GET /health`` answered 200, as the scrape says."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "shop_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/health",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_under_gunicorn_with_two_workers_the_totals_add_up(
    start_shop: Callable[..., ShopProcess], tmp_path: Path
) -> None:
    # TMPDIR: the server run's metrics directory is made here, where the test can look.
    process = start_shop("api", "--port", "0", "--workers", "2", TMPDIR=str(tmp_path))
    line = process.wait_for_log(r"Listening at: http://\S+:\d+", timeout=30)
    url = line.split("Listening at: ")[1].split()[0]
    eventually(
        lambda: process.log().count("Booting worker") >= 2 and _answers(url),
        timeout=30,
        every=0.1,
        explain=process.log,
    )
    before = health_count(requests.get(f"{url}/metrics", timeout=10).text)

    def one(_: int) -> int:
        with requests.Session() as session:  # a connection each, for either worker to accept
            return session.get(f"{url}/health", timeout=10).status_code

    directories = list(tmp_path.glob("shop-metrics-*"))
    assert len(directories) == 1
    sent = 0
    # Which worker accepts a connection is the kernel's choice: send rounds until both have
    # answered some (each worker's counters are a file of its own in the directory).
    while len(list(directories[0].glob("counter_*.db"))) < 2:
        assert sent < 50 * ROUND, "one worker answered every request"
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(one, range(ROUND))) == {200}
        sent += ROUND
        time.sleep(0.05)
    for _ in range(6):  # whichever worker answers the scrape, the total is the same
        scraped = requests.get(f"{url}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert health_count(scraped.text) - before == sent
    assert process.stop() == 0
    assert not list(tmp_path.glob("shop-metrics-*")), "the metrics directory was left behind"


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False
