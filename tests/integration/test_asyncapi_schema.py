"""The AsyncAPI document validates against the official AsyncAPI 3.0 JSON Schema.

The schema is not copied into the repository: it comes from the npm package the AsyncAPI
initiative publishes (``@asyncapi/specs``), installed at test time into a temporary directory.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from shop.entrypoints.documents.asyncapi import asyncapi_document
from tests import services

SPECS = "@asyncapi/specs@6.11.1"


@pytest.fixture(scope="module")
def official_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """schemas/3.0.0.json of @asyncapi/specs, installed with npm now."""
    npm = shutil.which("npm")
    if npm is None:
        services.unavailable("npm", FileNotFoundError("npm is not installed"))
    assert npm is not None
    folder = tmp_path_factory.mktemp("asyncapi-specs")
    installed = subprocess.run(
        [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
         "--prefix", str(folder), SPECS],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if installed.returncode != 0:
        services.unavailable(f"npm install {SPECS}", RuntimeError(installed.stderr[-500:]))
    path = folder / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"
    schema: dict[str, Any] = json.loads(Path(path).read_text())
    assert schema["properties"]["asyncapi"]["const"] == "3.0.0"
    return schema


def test_the_document_is_valid_asyncapi_3_0(official_schema: dict[str, Any]):
    document = json.loads(json.dumps(asyncapi_document("shop")))
    errors = [f"{e.json_path}: {e.message}" for e in Draft7Validator(official_schema).iter_errors(
        document
    )]  # fmt: skip
    assert errors == []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["components"]["schemas"]["Money"].update(type="money"),
        lambda d: d["operations"]["readCommands"].update(action="consume"),
        lambda d: d["channels"]["events"].update(address=7),
        lambda d: d.update(asyncapi="2.6.0"),
    ],
    ids=["schema", "operation", "channel", "version"],
)
def test_the_official_schema_refuses_a_spoiled_document(
    official_schema: dict[str, Any], spoil: Any
):
    document = copy.deepcopy(json.loads(json.dumps(asyncapi_document("shop"))))
    spoil(document)
    assert not Draft7Validator(official_schema).is_valid(document)
