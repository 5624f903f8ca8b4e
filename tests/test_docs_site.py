"""The documentation site builds offline with warnings as errors, and holds every page it should.

The notebooks are not run here (tests/test_notebooks.py runs them); the site's own build runs
them (docs/conf.py).
"""

import subprocess
import sys
from pathlib import Path

import pytest

import dualpower_sim

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-c",
        str(ROOT / "docs"),
        "-d",
        str(out / "doctrees"),
        "-D",
        "nb_execution_mode=off",
        str(ROOT),
        str(out / "html"),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    return out / "html"


@pytest.mark.slow
def test_the_site_has_every_page(site):
    pages = ["docs/index", "README", "docs/tutorial", "docs/model", "docs/scenarios"]
    pages += ["docs/api", "docs/citing", "docs/notebooks", "docs/validation", "docs/sources"]
    pages += [f"notebooks/{nb.stem}" for nb in NOTEBOOKS]
    for page in pages:
        assert (site / f"{page}.html").is_file(), page
    home = (site / "docs/index.html").read_text()
    assert "validation.html" in home and "sources.html" in home
    assert 'url=docs/index.html"' in (site / "index.html").read_text()
    assert (site / "searchindex.js").is_file()


def test_every_public_name_is_in_the_api_reference(site):
    api = (site / "docs/api.html").read_text()
    missing = [n for n in dualpower_sim.__all__ if f'id="dualpower_sim.{n}"' not in api]
    assert not missing, f"not in docs/api.md: {missing}"


def test_links_between_pages_lead_to_pages(site):
    # The Markdown links work on a code forge as files and here as the site's pages.
    tutorial = (site / "docs/tutorial.html").read_text()
    for nb in NOTEBOOKS:
        assert f'href="../notebooks/{nb.stem}.html"' in tutorial, nb.name
    assert 'href="../README.html"' in tutorial
    readme = (site / "README.html").read_text()
    assert 'href="docs/tutorial.html"' in readme and 'href="docs/model.html"' in readme


def test_the_site_says_how_to_cite(site):
    citing = (site / "docs/citing.html").read_text()
    assert "Callinicos" in citing and "Socialist Worker" in citing
    assert "CITATION.cff" in citing
