"""Sphinx configuration of the documentation site.

The site's source folder is the repository itself, so that the README, the notebooks and the
pages of docs/ link to each other by the same relative paths on the site as on a code forge;
``include_patterns`` picks the pages. Build it from the repository's folder with::

    python -m sphinx -W --keep-going -b html -c docs . docs/_build/html

and open docs/_build/html/index.html. The notebooks run while the site is built (about a
minute and a half); ``-D nb_execution_mode=off`` skips that and shows them without outputs.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent

project = "dualpower_sim"
author = "the dualpower_sim authors"
copyright = "2026, the dualpower_sim authors"
# The one version, from the installed package's metadata.
release = version = metadata.version("dualpower_sim")
html_title = f"dualpower_sim {release}"

extensions = [
    "myst_nb",  # Markdown (MyST) pages and Jupyter notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# The source folder is the repository (see above): only these are pages.
root_doc = "docs/index"
include_patterns = ["README.md", "docs/*.md", "notebooks/*.ipynb"]
# Hidden folders (.git, the virtual environments) and what runs leave behind are not even looked in.
exclude_patterns = [".*", "**/.*", "docs/_build", "build", "dist", "out", "sweeps"]

# MyST: anchors for headings (page.md#a-heading), $...$ maths, ::: fences.
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]

# Notebooks run top to bottom in a temporary folder each time the site is built; any error
# fails the build (tests/test_notebooks.py runs them too).
nb_execution_mode = "force"
nb_execution_in_temp = True
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# The API reference: Google-style docstrings, members in the order of the source.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # "Attributes:" as a field list, not a second entry per dataclass field
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"  # no bare "start (int)" lines
autodoc_default_options = {"members": True}
autodoc_preserve_defaults = True
python_use_unqualified_type_names = True  # "Workplaces", not "dualpower_sim.city.Workplaces"
toc_object_entries_show_parents = "hide"  # "run()" in the page's contents, which is narrow

html_theme = "pydata_sphinx_theme"
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 8,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "secondary_sidebar_items": ["page-toc"],
}
# The sections are in the header; only the notebooks, a section of several pages, have a left
# sidebar to move between them (elsewhere it would stand empty).
html_sidebars = {
    "**": [],
    "docs/notebooks": ["sidebar-nav-bs"],
    **{
        f"notebooks/{nb.stem}": ["sidebar-nav-bs"]
        for nb in (HERE.parent / "notebooks").glob("*.ipynb")
    },
}
# The site opens at its home page, docs/index.html.
html_extra_path = ["_root"]


def _public_name(app, env, node, contnode):
    """Resolve a public name given by its module to where the API reference documents it.

    Type hints and docstrings say ``dualpower_sim.city.Workplaces``; the reference documents
    ``dualpower_sim.Workplaces``.
    """
    import dualpower_sim

    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("dualpower_sim."):
        return None
    name = target.rsplit(".", 1)[-1]
    if name not in dualpower_sim.__all__ or target == f"dualpower_sim.{name}":
        return None
    domain = env.domains["py"]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], f"dualpower_sim.{name}", node, contnode
    )


def setup(app):
    """Connect the hooks above."""
    app.connect("missing-reference", _public_name)
