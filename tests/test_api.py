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
