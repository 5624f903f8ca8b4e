import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_code_is_ruff_clean():
    # ruff comes with the test extra; the project's rules are in pyproject.toml.
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "docs", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_code_and_notebooks_are_ruff_formatted():
    folders = ["src", "tests", "benchmarks", "docs", "notebooks"]
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_notebooks_are_committed_without_outputs():
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


#: The simulator's modules: what the analysis layers never import.
SIMULATOR = ("model", "rules", "world", "city", "councils", "state", "kernels")


def _absolute(name: str, module: str) -> str:
    """An import as written in ``module`` (a path in the package) as its top two names.

    ``.city`` in ``plots/__init__.py`` is ``dualpower_sim.plots``, ``..model`` in
    ``sweeps/store.py`` is ``dualpower_sim.model``, ``mesa.space`` is ``mesa``.
    """
    if not name.startswith("."):
        return name.split(".")[0]
    level = len(name) - len(name.lstrip("."))
    parts = ["dualpower_sim", *module.split("/")[:-1]]
    base = parts[: len(parts) - level + 1]
    resolved = [*base, *filter(None, name.lstrip(".").split("."))]
    return ".".join(resolved[:2])


def test_absolute_names_resolve_relative_imports():
    assert _absolute(".city", "plots/__init__.py") == "dualpower_sim.plots"
    assert _absolute(".city", "results.py") == "dualpower_sim.city"
    assert _absolute("..model", "sweeps/store.py") == "dualpower_sim.model"
    assert _absolute(".store", "sweeps/running.py") == "dualpower_sim.sweeps"
    assert _absolute("mesa.space", "report.py") == "mesa"


def test_only_plotting_modules_import_matplotlib_and_analysis_never_the_simulator():
    package = ROOT / "src" / "dualpower_sim"
    # The figures of runs, sweeps and the city (plots/, its __init__ only gathers them); of
    # discovery.
    plotting = {
        *(str(p.relative_to(package)) for p in (package / "plots").glob("*.py")),
        "discovery_plots.py",
    } - {"plots/__init__.py"}
    assert len(plotting) >= 5
    for path in package.rglob("*.py"):
        uses_matplotlib = any(n.split(".")[0] == "matplotlib" for n in _imports(path))
        assert uses_matplotlib == (str(path.relative_to(package)) in plotting), path
    simulator = {"mesa", *(f"dualpower_sim.{m}" for m in SIMULATOR)}
    for name in (
        *sorted(plotting),
        "plots/__init__.py",
        "results.py",
        "analysis.py",
        "discovery.py",
        "discovery_conditions.py",
        "report.py",
        "files.py",
        "sweeps/store.py",
        "calibration/summaries.py",
        "calibration/posterior.py",
        "calibration/report.py",
    ):
        imported = {_absolute(n, name) for n in _imports(package / name)}
        assert not imported & simulator, (name, imported & simulator)


def test_the_packages_split_so_far_keep_their_modules_short():
    package = ROOT / "src" / "dualpower_sim"
    for path in (
        *(package / "sweeps").glob("*.py"),
        *(package / "plots").glob("*.py"),
        *(package / "config").glob("*.py"),
        *package.glob("cli*.py"),
        *package.glob("discovery*.py"),
    ):
        assert len(path.read_text().splitlines()) <= 700, path
