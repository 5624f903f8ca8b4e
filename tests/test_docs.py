import importlib.util
from pathlib import Path

from dualpower_sim.params import attribute_docs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def load_generator():
    spec = importlib.util.spec_from_file_location("make_parameters", DOCS / "make_parameters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_md_parameter_tables_match_the_code():
    gen = load_generator()
    text = (DOCS / "model.md").read_text()
    assert gen.render(text) == text, "run: python docs/make_parameters.py"


def test_every_parameter_has_a_meaning():
    gen = load_generator()
    import dataclasses

    for cls in gen.CLASSES:
        documented = attribute_docs(cls)
        for field in dataclasses.fields(cls):
            assert documented.get(field.name), f"{cls.__name__}.{field.name} has no docstring entry"


def test_the_project_cites_nothing_outside_itself():
    # A user who clones the project has only the project: its facts are cited in docs/sources.md.
    root = DOCS.parent
    outside = "shared/" + "reference"  # split so this file does not match itself
    files = [root / "README.md", *root.glob("experiments/**/*.toml")]
    for folder, pattern in (("src", "*.py"), ("docs", "*.md"), ("docs", "*.py"), ("tests", "*.py")):
        files += (root / folder).rglob(pattern)
    files += (root / "notebooks").glob("*.ipynb")
    offenders = [str(f.relative_to(root)) for f in files if outside in f.read_text()]
    assert not offenders, offenders
