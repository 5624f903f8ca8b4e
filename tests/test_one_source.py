"""One source per fact: provenance, the time, 'did you mean', and a run's record."""

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from dualpower_sim.cli import main
from dualpower_sim.outcomes import RECORD_KEYS, run_record
from dualpower_sim.params import did_you_mean
from dualpower_sim.provenance import library_versions, now, provenance
from dualpower_sim.sweeps import RUN_COLUMNS, load_results, load_sweep, run_seed, run_sweep

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dualpower_sim"


def test_did_you_mean_names_the_closest_choice_or_nothing():
    assert did_you_mean("formaton_share", ["formation_share", "min_members"]) == (
        " (did you mean 'formation_share'?)"
    )
    assert did_you_mean("--stesp", ["--steps", "--seed"], quote=False) == (
        " (did you mean --steps?)"
    )
    assert did_you_mean("zzz", ["formation_share"]) == ""


def test_provenance_holds_the_versions_a_run_records():
    info = provenance()
    versions = library_versions()
    assert {k: info[k] for k in versions} == versions
    assert set(versions) == {"python", "numpy", "scipy", "pandas", "mesa", "numba"}
    assert isinstance(info["version"], str) and "git_commit" in info and "git_dirty" in info
    assert now().endswith("+00:00") and len(now()) == len("2026-12-02T02:06:15+00:00")


def test_each_fact_is_written_once_in_the_package():
    """The helpers have one definition each: no module keeps a copy of its own."""
    counts: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                counts.setdefault(node.name, []).append(path.name)
    for name in ("provenance", "now", "did_you_mean", "explain_outcome", "run_record"):
        assert len(counts.get(name, [])) == 1, (name, counts.get(name))
    for stale in ("_now", "_stamp", "_versions"):
        assert stale not in counts, (stale, counts[stale])
    sources = [p.read_text() for p in PACKAGE.rglob("*.py")]
    assert sum(s.count("get_close_matches(") for s in sources) == 1  # in did_you_mean


def test_the_model_does_not_import_the_results_module():
    tree = ast.parse((PACKAGE / "model.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "results" not in imported and "outcomes" in imported


def test_a_runs_summary_and_its_sweep_row_are_one_record(tmp_path, monkeypatch):
    """The same config and seed give the same facts in summary.json and in a sweep's row."""
    monkeypatch.chdir(tmp_path)
    Path("sw.toml").write_text(
        'config = "us_2003"\nreplicates = 1\nseed = 3\nn_workers = 9000\nhorizon = 40\n'
        "[metrics]\nindicators = ['state_power']\nat = [0, 40]\n"
    )
    sweep = load_sweep("sw.toml")
    run_sweep(sweep, Path("sweep"))
    row = load_results("sweep").runs.iloc[0]
    seed = run_seed(3, 0, 0)
    argv = ["run", "us_2003", "--workers", "9000", "--steps", "40", "--seed", str(seed)]
    assert main([*argv, "--quiet", "--out", "run"]) == 0
    summary = json.loads(Path("run/summary.json").read_text())
    assert summary["config_hash"] == sweep.experiment.config_hash
    shared = [c for c in RUN_COLUMNS if c in RECORD_KEYS]
    assert len(shared) == 11 and "peak_state_power" in shared
    for key in shared:
        value = row[key]
        expected = summary[key]
        if expected is None:
            assert pd.isna(value), key  # missing in a table
        else:
            assert value == expected, key  # exactly: the same numbers, not close ones
    indicators = pd.read_csv("run/indicators.csv", index_col="step")
    assert row["state_power@40"] == indicators["state_power"].iloc[40]
    assert summary["peak_state_power"] == indicators["state_power"].max()


def test_run_record_reads_the_peaks_from_the_indicators():
    summary = {key: None for key in RECORD_KEYS}
    indicators = pd.DataFrame({"council_power": [0.1, 0.7, 0.3], "state_power": [0.9, 0.4, 0.95]})
    record = run_record(summary, indicators)
    assert list(record) == list(RECORD_KEYS)
    assert record["peak_council_power_day"] == 1 and record["peak_state_power"] == 0.95


def test_the_model_and_a_config_allow_the_same_run_values():
    """RUN_KEYS is RunParams: a value the config refuses, the model refuses, and the reverse."""
    import dataclasses

    from dualpower_sim import ConfigError, DualPowerModel, ParameterError, load_experiment
    from dualpower_sim.config import RUN_KEYS
    from dualpower_sim.params import RunParams

    fields = {f.name: f for f in dataclasses.fields(RunParams)}
    assert list(RUN_KEYS) == list(fields)
    for name, (_, meta, doc) in RUN_KEYS.items():
        assert {**meta, "optional": fields[name].metadata["optional"]} == dict(
            fields[name].metadata
        )
        assert doc
    # The horizon was capped at 10^6 days in a config only; the model agrees now.
    with pytest.raises(ParameterError, match=r"horizon = 2000000 .*horizon <= 1000000"):
        DualPowerModel(n_workers=100, horizon=2_000_000)
    with pytest.raises(ConfigError, match="horizon = 2000000"):
        load_experiment("us_2003", horizon=2_000_000)
    # A city past the config's largest is refused before it is built, not after minutes.
    with pytest.raises(ParameterError, match="n_workers = 60000000"):
        DualPowerModel(n_workers=60_000_000)
    with pytest.raises(ParameterError, match="coercion"):
        DualPowerModel(n_workers=100, coercion=-0.1)
    assert DualPowerModel(n_workers=100, horizon=1_000_000, seed=1).horizon == 1_000_000
