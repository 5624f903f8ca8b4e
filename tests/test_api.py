import dualpower_sim

PUBLIC_API = {
    "ConfigError",
    "Experiment",
    "ResultsError",
    "load_experiment",
    "load_posterior",
    "load_results",
    "load_run",
    "scenario_names",
    "OUTCOMES",
    "Council",
    "CouncilRule",
    "Debate",
    "Resolution",
    "SoldierRule",
    "State",
    "StateStrategy",
    "PETROGRAD_1917",
    "RULES",
    "Allegiance",
    "Beta",
    "Campuses",
    "City",
    "CityParams",
    "CombinedRule",
    "Constant",
    "DeterrenceRule",
    "DualPowerModel",
    "Explicit",
    "HardshipShock",
    "LeverEvent",
    "LognormalSizes",
    "Normal",
    "ParameterError",
    "ParetoSizes",
    "Policing",
    "Sector",
    "SizeBand",
    "SizeBands",
    "Status",
    "Territory",
    "ThresholdRule",
    "Traits",
    "Uniform",
    "Worker",
    "Workplaces",
    "__version__",
    "build_city",
    "discover",
    "make_rule",
}


def test_public_api_is_pinned():
    # Changing the public API is a decision: update this set on purpose.
    assert set(dualpower_sim.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert hasattr(dualpower_sim, name), name


def test_public_names_resolve_to_the_objects_of_their_modules():
    import importlib
    import sys

    import pytest

    assert set(dualpower_sim._MODULES) == PUBLIC_API - {"__version__"}
    assert set(dir(dualpower_sim)) >= PUBLIC_API
    for name, module in dualpower_sim._MODULES.items():
        loaded = importlib.import_module(f"dualpower_sim.{module}")
        assert getattr(dualpower_sim, name) is getattr(loaded, name), name
    # Submodules stay attributes of the package, as when it imported them all at once; those
    # it never imported stay out of reach of getattr: __main__ would run the command line and
    # exit, app needs the app extra.
    assert dualpower_sim.sweeps is importlib.import_module("dualpower_sim.sweeps")
    assert not hasattr(dualpower_sim, "__main__")
    assert getattr(dualpower_sim, "app", None) is None or "solara" in sys.modules
    with pytest.raises(AttributeError, match="NoSuchName"):
        dualpower_sim.NoSuchName  # noqa: B018
    # dir() lists what a user can reach, not the module's own helpers.
    assert not {"importlib", "TYPE_CHECKING", "_MODULES", "warnings"} & set(dir(dualpower_sim))


def test_a_script_that_runs_a_model_loads_no_sweep_calibration_or_discovery():
    # The package loads a name's module on first use: building and running a preset must not
    # pay for scipy.stats (the sweeps' designs), pyabc's glue or the results stores.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from dualpower_sim import DualPowerModel, HardshipShock, load_experiment\n"
        "load_experiment('paris_1871', n_workers=500, horizon=2).build_model().run()\n"
        "DualPowerModel(n_workers=500, shocks=[HardshipShock(start=1)], seed=1).run(2)\n"
        "heavy = ('dualpower_sim.sweeps', 'dualpower_sim.calibration', 'dualpower_sim.discovery',\n"
        "         'dualpower_sim.results', 'scipy.stats', 'matplotlib')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


#: The modules that draw figures: the only ones that may import matplotlib (paths in the package).
PLOTTING = {
    "plots/run.py",
    "plots/sweep.py",
    "plots/city.py",
    "plots/style.py",
    "plots/calibration.py",
    "discovery_plots.py",
}


def test_analysis_layers_do_not_import_the_simulator():
    import ast
    from pathlib import Path

    src = Path(dualpower_sim.__file__).parent
    for module in (*sorted(PLOTTING), "analysis.py", "discovery.py", "report.py"):
        tree = ast.parse((src / module).read_text())
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        assert not any(
            m in {"model", ".model", "mesa"} or m.endswith(".model") for m in imported
        ), module


def test_only_plotting_modules_import_matplotlib():
    from pathlib import Path

    src = Path(dualpower_sim.__file__).parent
    offenders = [
        p.name
        for p in src.rglob("*.py")
        if str(p.relative_to(src)) not in PLOTTING
        and ("import matplotlib" in p.read_text() or "from matplotlib" in p.read_text())
    ]
    assert offenders == []
