import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_code_is_ruff_clean():
    # ruff comes with the test extra; the project's rules are in pyproject.toml.
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


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


def test_only_plotting_modules_import_matplotlib_and_analysis_never_the_simulator():
    package = ROOT / "src" / "dualpower_sim"
    plotting = {"plots.py", "discovery_plots.py"}  # figures of runs and sweeps; of discovery
    for path in package.rglob("*.py"):
        uses_matplotlib = any(n.split(".")[0] == "matplotlib" for n in _imports(path))
        assert uses_matplotlib == (path.name in plotting), path
    simulator = {"mesa", ".model", ".rules", ".world", ".city", ".councils", ".state"}
    for name in (
        *sorted(plotting),
        "results.py",
        "analysis.py",
        "discovery.py",
        "report.py",
        "files.py",
        "sweeps/store.py",
    ):
        imported = {
            n.split(".")[0] if not n.startswith(".") else n for n in _imports(package / name)
        }
        # One level up from the sweeps package is the package itself: ..model is .model.
        imported = {n[1:] if n.startswith("..") else n for n in imported}
        assert not imported & simulator, (name, imported & simulator)


def test_the_sweeps_package_keeps_its_modules_short():
    for path in (ROOT / "src" / "dualpower_sim" / "sweeps").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 700, path.name
