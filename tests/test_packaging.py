"""The package's metadata: one version, an SPDX licence with its file, a citation that agrees."""

import re
import tomllib
from importlib.metadata import metadata
from pathlib import Path

import dualpower_sim

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def cff_field(name: str) -> str:
    text = (ROOT / "CITATION.cff").read_text()
    match = re.search(rf"^{name}:\s*\"?([^\"\n]+)\"?\s*$", text, re.M)
    assert match, f"CITATION.cff has no {name}"
    return match.group(1).strip()


def test_the_version_is_written_once_and_read_back_from_the_metadata():
    assert dualpower_sim.__version__ == pyproject()["version"]
    source = (ROOT / "src/dualpower_sim/__init__.py").read_text()
    assert '__version__ = version("dualpower_sim")' in source
    assert f'"{pyproject()["version"]}"' not in source


def test_citation_agrees_with_the_package():
    assert cff_field("version") == pyproject()["version"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff_field("date-released"))
    assert cff_field("license") == pyproject()["license"] == "MIT"
    assert cff_field("type") == "software"
    text = (ROOT / "CITATION.cff").read_text()
    assert "The dualpower_sim authors" in text
    assert "Callinicos" in text and "Socialist Worker" in text


def test_the_changelog_says_what_this_version_changed():
    text = (ROOT / "CHANGELOG.md").read_text()
    version = pyproject()["version"]
    assert re.search(rf"^## {re.escape(version)} \(\d{{4}}-\d{{2}}-\d{{2}}\)$", text, re.M), (
        f"CHANGELOG.md has no section for {version}"
    )


def test_the_licence_is_an_spdx_expression_with_its_file():
    project = pyproject()
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "the dualpower_sim authors" in licence
    assert metadata("dualpower_sim").get("License-Expression") == "MIT"
    assert not any(c.startswith("License ::") for c in project["classifiers"])


def test_every_subpackage_is_installed():
    """A folder of the package with an __init__.py is listed, or a wheel would leave it out."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    source = ROOT / "src"
    found = {
        ".".join(init.parent.relative_to(source).parts)
        for init in (source / "dualpower_sim").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
