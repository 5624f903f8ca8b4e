"""Sweeps: designs, seeds, execution, the crash-safe store, and the analysis of outcomes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dualpower_sim import ConfigError, ResultsError, load_results
from dualpower_sim.analysis import outcome_table, tipping_point
from dualpower_sim.cli import main
from dualpower_sim.sweep import load_sweep, run_seed, run_sweep

SMALL = """
description = "a small test sweep"
config = "us_2003"
replicates = 3
seed = 11
n_workers = 9000
horizon = 12
"""


def sweep_file(tmp_path: Path, body: str, name: str = "sw.toml") -> Path:
    path = tmp_path / name
    path.write_text(SMALL + body)
    return path


GRID = """
[parameters]
"legitimacy" = [0.3, 0.8]
"state.offensive_readiness" = { low = 0.1, high = 0.5, steps = 3 }
[metrics]
indicators = ["council_power"]
at = [5, 500]
"""


def test_a_grid_is_every_combination_and_runs_go_replicate_by_replicate(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path, GRID))
    assert sweep.n_runs == 2 * 3 * 3
    assert sorted(sweep.points["state.offensive_readiness"].unique()) == [0.1, 0.3, 0.5]
    runs = sweep.runs()
    assert list(runs["run"]) == list(range(18))
    # The first six runs are every point once: a sweep stopped there is a balanced sample.
    assert sorted(runs["point"][:6]) == list(range(6)) and set(runs["replicate"][:6]) == {0}
    assert runs["seed"].is_unique


def test_seeds_are_spawned_by_point_and_replicate_whatever_the_order():
    assert run_seed(11, 3, 2) == run_seed(11, 3, 2)
    assert run_seed(11, 3, 2) != run_seed(11, 2, 3) != run_seed(12, 3, 2)
    expected = np.random.SeedSequence(11, spawn_key=(3, 2)).generate_state(1, np.uint64)[0] >> 1
    assert run_seed(11, 3, 2) == int(expected)


@pytest.mark.parametrize("kind", ["lhs", "sobol", "halton"])
def test_space_filling_designs_stay_in_range_and_fill_it(tmp_path, kind):
    body = f"""
[design]
kind = "{kind}"
samples = 16
[parameters]
"legitimacy" = {{ low = 0.2, high = 0.9 }}
"debate.cadres" = {{ low = 0, high = 50, integer = true }}
"""
    sweep = load_sweep(sweep_file(tmp_path, body))
    pts = sweep.points
    assert len(pts) == 16
    assert pts["legitimacy"].between(0.2, 0.9).all() and pts["debate.cadres"].between(0, 50).all()
    assert pts["debate.cadres"].dtype.kind == "i"
    # Stratified: each quarter of the range holds about a quarter of the points.
    quarters = np.histogram(pts["legitimacy"], bins=4, range=(0.2, 0.9))[0]
    assert quarters.min() >= 2
    again = load_sweep(sweep_file(tmp_path, body))
    pd.testing.assert_frame_equal(pts, again.points)  # seeded from the sweep's root seed


def test_a_list_design_runs_the_points_given(tmp_path):
    body = """
[design]
kind = "list"
points = [
    { legitimacy = 0.3, "councils.min_members" = 5 },
    { legitimacy = 0.6, "councils.min_members" = 50 },
]
"""
    sweep = load_sweep(sweep_file(tmp_path, body))
    assert sweep.points.to_dict("records") == [
        {"point": 0, "legitimacy": 0.3, "councils.min_members": 5},
        {"point": 1, "legitimacy": 0.6, "councils.min_members": 50},
    ]
    assert sweep.overrides(1) == {"legitimacy": 0.6, "councils.min_members": 50}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[parameters]\n'councils.formaton_share' = [0.2]\n", "did you mean 'formation_share'?"),
        ("[parameters]\nlegitimacy = [0.2, 1.5]\n", "design point 1: "),
        ("[design]\nkind = 'random'\n", "design.kind = 'random' is not allowed"),
        (
            "[design]\nkind = 'sobol'\nsamples = 10\n"
            "[parameters]\nlegitimacy = { low = 0, high = 1 }\n",
            "a power of two",
        ),
        (
            "[design]\nkind = 'lhs'\nsamples = 4\n[parameters]\nlegitimacy = [0.1]\n",
            "{ low = number, high = number }",
        ),
        ("[metrics]\nindicators = ['council_powr']\nat = [5]\n", "did you mean 'council_power'?"),
        ("[metrics]\nindicators = ['council_power']\n", "both indicators and at"),
        ("name = 5\n", "name = 5 is not allowed; allowed: text"),
        ("replicats = 3\n", "unknown key 'replicats' (did you mean 'replicates'?)"),
    ],
)
def test_a_bad_sweep_is_refused_before_anything_runs(tmp_path, body, expected):
    with pytest.raises(ConfigError) as err:
        load_sweep(sweep_file(tmp_path, body))
    assert expected in str(err.value) and "sw.toml" in str(err.value)


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_processes(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path, GRID))
    counts = run_sweep(sweep, tmp_path / "one", jobs=1)
    assert counts == {"total": 18, "skipped": 0, "done": 18, "failed": 0}
    # Fresh processes every 3 runs each: several pools, as in a long sweep.
    run_sweep(sweep, tmp_path / "two", jobs=2, flush_every=4, batch=3)
    a, b = (
        load_results(tmp_path / d).runs.sort_values("run").drop(columns="seconds")
        for d in ("one", "two")
    )
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # Indicators kept on chosen days; a day past the end keeps the last value.
    assert {"council_power@5", "council_power@500"} <= set(a.columns)
    assert len(list((tmp_path / "two" / "runs").glob("part-*.parquet"))) >= 4


def test_shards_split_a_sweep_without_a_scheduler(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path, GRID))
    for i in range(3):
        run_sweep(sweep, tmp_path / "sharded", shard=(i, 3))
    runs = load_results(tmp_path / "sharded").runs
    assert sorted(runs["run"]) == list(range(18))


def test_a_failing_run_is_recorded_and_the_rest_finish(tmp_path):
    body = """
[design]
kind = "list"
points = [{ n_workers = 9000 }, { n_workers = 3000 }]
"""
    sweep = load_sweep(sweep_file(tmp_path, body))  # 3,000 workers cannot hold the firm bands
    counts = run_sweep(sweep, tmp_path / "out")
    assert counts["done"] == 3 and counts["failed"] == 3
    runs = load_results(tmp_path / "out").runs
    failed = runs[runs["status"] == "failed"]
    assert set(failed["point"]) == {1} and failed["error"].str.contains("n_workers = 3000").all()


def test_a_run_past_its_time_limit_is_recorded_as_failed(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path, ""))  # one point: the experiment as it is
    counts = run_sweep(sweep, tmp_path / "out", time_limit=1e-6)
    assert counts["failed"] == sweep.n_runs
    assert load_results(tmp_path / "out").runs["error"].str.contains("time limit").all()


def test_a_foreign_or_different_folder_is_never_overwritten(tmp_path, capsys):
    sweep = load_sweep(sweep_file(tmp_path, GRID))
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    assert main(["sweep", str(tmp_path / "sw.toml"), "--out", str(foreign)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    with pytest.raises(ResultsError, match="not a sweep folder"):
        run_sweep(sweep, foreign, resume=True)
    assert (foreign / "chapter1.tex").read_text() == "precious"
    run_sweep(sweep, tmp_path / "done")
    other = load_sweep(sweep_file(tmp_path, GRID.replace("0.3, 0.8", "0.3, 0.7"), "other.toml"))
    with pytest.raises(ResultsError, match="holds a different sweep"):
        run_sweep(other, tmp_path / "done", resume=True)
    (tmp_path / "done" / "sweep.json").write_text("{broken")
    with pytest.raises(ResultsError, match="not valid JSON"):
        load_results(tmp_path / "done")


@pytest.mark.slow
def test_a_sweep_killed_mid_run_resumes_with_every_run_once(tmp_path):
    body = GRID.replace("[0.3, 0.8]", "[0.3, 0.5, 0.8]").replace("horizon = 12", "horizon = 40")
    path = sweep_file(tmp_path, body)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "dualpower_sim", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen([*argv, "--jobs", "1", "--quiet"], stderr=subprocess.DEVNULL)
    parts = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("part-*.parquet"))) < 1:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    before = load_results(out).runs
    assert 0 < len(before) < 27
    resumed = subprocess.run(
        [*argv, "--resume", "--jobs", "2", "--quiet"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    runs = load_results(out).runs
    assert sorted(runs["run"]) == list(range(27))  # every run, exactly once
    # No recorded run was run again: the first records are untouched.
    kept = runs.set_index("run").loc[before["run"], "seconds"]
    np.testing.assert_array_equal(kept.to_numpy(), before["seconds"].to_numpy())


def test_report_writes_tables_figures_and_markdown(tmp_path, capsys):
    path = sweep_file(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert main(["report", str(out)]) == 0
    report = out / "report"
    text = (report / "report.md").read_text()
    assert "## Outcomes over all runs" in text and "Wilson" in text
    table = pd.read_csv(report / "outcomes.csv")
    assert {"outcome", "k", "n", "p", "low", "high"} <= set(table.columns)
    assert (report / "phase_legitimacy_state_offensive_readiness.png").stat().st_size > 20_000
    assert main(["report", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_dry_run_prints_runs_and_time_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = sweep_file(tmp_path, GRID)
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "6 points x 3 replicates = 18 runs" in out and "about" in out
    assert not (tmp_path / "sweeps").exists()


# --------------------------------------------------------------------------------------------
# Analysis against known answers
# --------------------------------------------------------------------------------------------


def synthetic_runs(rng, crossing=0.6, slope=12.0, points=11, replicates=40):
    rows = []
    for p, x in enumerate(np.linspace(0, 1, points)):
        prob = 1 / (1 + np.exp(-slope * (x - crossing)))
        for r in range(replicates):
            won = rng.random() < prob
            rows.append(
                {
                    "point": p,
                    "replicate": r,
                    "x": x,
                    "status": "done",
                    "outcome": "council_power" if won else "state_restored",
                }
            )
    return pd.DataFrame(rows)


def test_the_tipping_point_fit_recovers_a_known_crossing():
    covered = 0
    for seed in range(20):
        runs = synthetic_runs(np.random.default_rng(seed))
        tp = tipping_point(runs, "x", "council_power", n_boot=200, seed=seed)
        assert tp.found and tp.low < tp.estimate < tp.high and tp.slope > 0
        assert abs(tp.estimate - 0.6) < 0.06
        covered += tp.low <= 0.6 <= tp.high
    assert covered >= 16  # a 95% interval covers the truth in most of 20 samples


def test_no_crossing_in_range_is_said_not_guessed():
    runs = synthetic_runs(np.random.default_rng(0), crossing=2.5)
    tp = tipping_point(runs, "x", "council_power", n_boot=50)
    assert not tp.found and np.isnan(tp.estimate)


def test_outcome_intervals_are_scipys_wilson_and_exact_intervals():
    runs = pd.DataFrame(
        {"a": [1] * 10, "outcome": ["council_power"] * 3 + ["co_opted"] * 7, "status": "done"}
    )
    table = outcome_table(runs, ["a"], ["council_power", "co_opted", "state_restored"])
    row = table[table["outcome"] == "council_power"].iloc[0]
    ci = stats.binomtest(3, 10).proportion_ci(method="wilson")
    assert (row.k, row.n, row.p) == (3, 10, 0.3)
    assert (row.low, row.high) == pytest.approx((ci.low, ci.high))
    exact = outcome_table(runs, ["a"], ["council_power"], method="exact").iloc[0]
    assert (exact.low, exact.high) == pytest.approx(stats.binomtest(3, 10).proportion_ci())
    assert table[table["outcome"] == "state_restored"].iloc[0].p == 0


# --------------------------------------------------------------------------------------------
# Dask (the dask extra, installed with the test extra)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_table_as_the_local_pool(tmp_path):
    pytest.importorskip("distributed")
    sweep = load_sweep(sweep_file(tmp_path, GRID))
    run_sweep(sweep, tmp_path / "local", jobs=1)
    run_sweep(sweep, tmp_path / "dask", jobs=2, executor="dask")
    a, b = (
        load_results(tmp_path / d).runs.sort_values("run").drop(columns="seconds")
        for d in ("local", "dask")
    )
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@pytest.mark.slow
def test_a_dask_worker_killed_mid_sweep_loses_no_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    import threading

    body = GRID.replace("[0.3, 0.8]", "[0.3, 0.5, 0.8]").replace("horizon = 12", "horizon = 40")
    sweep = load_sweep(sweep_file(tmp_path, body))
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result: dict = {}
        worker = threading.Thread(
            target=lambda: result.update(
                run_sweep(sweep, out, scheduler=cluster.scheduler_address, flush_every=2)
            )
        )
        worker.start()
        parts = out / "runs"
        deadline = time.time() + 120
        while time.time() < deadline and not list(parts.glob("part-*.parquet")):
            time.sleep(0.05)
        pids = list(client.run(os.getpid).values())
        os.kill(pids[0], signal.SIGKILL)  # the nanny starts a new worker; its tasks move
        worker.join(timeout=300)
    assert result["failed"] == 0
    runs = load_results(out).runs
    assert sorted(runs["run"]) == list(range(sweep.n_runs))


# --------------------------------------------------------------------------------------------
# Sensitivity (SALib, the sensitivity extra, installed with the test extra)
# --------------------------------------------------------------------------------------------


def test_sobol_indices_find_the_parameter_that_matters_in_a_known_function():
    pytest.importorskip("SALib")
    from SALib.sample import sobol

    from dualpower_sim.analysis import sensitivity

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    x = sobol.sample(problem, 256, calc_second_order=False, seed=1)
    runs = pd.DataFrame({"point": np.arange(len(x)), "a": x[:, 0], "b": x[:, 1]})
    runs["y"] = 4 * runs["a"] + 0.1 * runs["b"]  # b explains 1/1600 of the variance
    manifest = {
        "design": "saltelli",
        "points": len(x),
        "parameter_spec": {"a": {"low": 0, "high": 1}, "b": {"low": 0, "high": 1}},
    }
    table = sensitivity(runs, manifest, "y").set_index("parameter")
    assert table.loc["a", "S1"] == pytest.approx(1, abs=0.05)
    assert table.loc["b", "ST"] == pytest.approx(0, abs=0.02)
    assert table.loc["a", "S1_low"] < table.loc["a", "S1"] < table.loc["a", "S1_high"]


def test_a_saltelli_sweep_runs_and_reports_its_indices(tmp_path):
    pytest.importorskip("SALib")
    body = """
[design]
kind = "saltelli"
samples = 4
[parameters]
legitimacy = { low = 0.2, high = 0.8 }
coercion = { low = 0.02, high = 0.1 }
"""
    path = sweep_file(tmp_path, body.replace("replicates = 3", ""))
    sweep = load_sweep(path)
    assert len(sweep.points) == 4 * (2 + 2)
    run_sweep(sweep, tmp_path / "out", jobs=1)
    assert main(["report", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "## Sensitivity: Sobol indices" in text and "`legitimacy`" in text


def test_a_morris_design_has_trajectories(tmp_path):
    pytest.importorskip("SALib")
    body = """
[design]
kind = "morris"
samples = 3
levels = 4
[parameters]
legitimacy = { low = 0.2, high = 0.8 }
coercion = { low = 0.02, high = 0.1 }
"""
    sweep = load_sweep(sweep_file(tmp_path, body))
    assert len(sweep.points) == 3 * (2 + 1)


# --------------------------------------------------------------------------------------------
# Adaptive refinement
# --------------------------------------------------------------------------------------------


def fake_run(task):
    """A stand-in for a model run: council power wins with a known logistic probability."""
    x = task["overrides"]["legitimacy"]
    p = 1 / (1 + np.exp(-25 * (x - 0.52)))
    won = np.random.default_rng(task["seed"]).random() < p
    return {
        **{k: task[k] for k in ("run", "point", "replicate", "seed")},
        "status": "done",
        "outcome": "council_power" if won else "state_restored",
        "steps": 10,
        "seconds": 0.0,
        "error": "",
    }


def test_refinement_adds_runs_where_the_outcome_is_unsure_and_narrows_the_tipping_point(
    tmp_path, monkeypatch
):
    from dualpower_sim.sweeps import refine as sweep_module
    from dualpower_sim.sweeps import running

    monkeypatch.setattr(running, "execute_run", fake_run)
    # Twelve replicates, so that a point where the outcome is plain does not straddle 0.5.
    text = SMALL.replace("replicates = 3", "replicates = 12")
    (tmp_path / "sw.toml").write_text(text + "\n[parameters]\nlegitimacy = [0.2, 0.4, 0.6, 0.8]\n")
    sweep = load_sweep(tmp_path / "sw.toml")
    out = tmp_path / "out"
    run_sweep(sweep, out)
    first = load_results(out).runs
    refined = sweep_module.refine_sweep(
        sweep, out, target_width=0.08, budget=400, log=lambda _: None
    )
    runs = load_results(out).runs
    assert refined["runs_added"] == len(runs) - len(first) > 0
    assert sorted(runs["run"]) == list(range(len(runs)))  # new runs continue the numbering
    assert runs[["point", "replicate"]].duplicated().sum() == 0
    # The new runs went where the outcome was unsure: around the crossing, not at the ends.
    new = runs[~runs["run"].isin(first["run"])]
    assert new["legitimacy"].between(0.4, 0.6).all()
    assert set(new["legitimacy"]) - {0.4, 0.6}  # and new points between the design's
    tp = refined["tipping"]
    assert tp.found and abs(tp.estimate - 0.52) < 0.05
    assert refined["stopped"].startswith(("tipping point known", "budget"))
    if refined["stopped"].startswith("tipping"):
        assert tp.high - tp.low <= 0.08
    # Seeds of refined runs are spawned like the design's: same (point, replicate), same seed.
    row = new.iloc[0]
    assert int(row["seed"]) == run_seed(sweep.seed, int(row["point"]), int(row["replicate"]))


def test_refinement_stops_when_nothing_is_unsure_any_more(tmp_path, monkeypatch):
    from dualpower_sim.sweeps import refine as sweep_module
    from dualpower_sim.sweeps import running

    monkeypatch.setattr(running, "execute_run", fake_run)
    body = "\n[parameters]\nlegitimacy = [0.0, 0.05]\n"  # council power never wins here
    sweep = load_sweep(sweep_file(tmp_path, body))
    run_sweep(sweep, tmp_path / "out")
    refined = sweep_module.refine_sweep(sweep, tmp_path / "out", log=lambda _: None)
    # Three runs a point cannot rule out one half (Wilson: 0 of 3 is 0 to 0.56); a few more
    # can, and refinement stops there.
    assert refined["rounds"] <= 2
    assert "one half" in refined["stopped"]  # no interval straddles it any more
    again = sweep_module.refine_sweep(sweep, tmp_path / "out", log=lambda _: None)
    assert again["runs_added"] == 0


def _pool_children() -> list[int]:
    """Process ids of this process's multiprocessing workers (not its resource tracker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_a_pool_process_killed_mid_sweep_is_replaced_and_its_runs_retried(tmp_path):
    from dualpower_sim.sweeps import local_results, tasks_for

    body = GRID.replace("horizon = 12", "horizon = 40")
    sweep = load_sweep(sweep_file(tmp_path, body))
    tasks = tasks_for(sweep, sweep.runs(), None)
    rows = []
    for row in local_results(tasks, jobs=2, batch=100):
        rows.append(row)
        if len(rows) == 1:
            children = _pool_children()
            assert children, "the pool's processes were found"
            os.kill(children[0], signal.SIGKILL)
    assert sorted(r["run"] for r in rows) == list(range(sweep.n_runs))  # each exactly once
    assert all(r["status"] == "done" for r in rows)


@pytest.mark.slow
def test_a_script_without_the_main_guard_gets_one_clear_error_not_failed_runs(tmp_path):
    # Each spawned process imports the script that started the sweep; without the guard it
    # tries to start a pool of its own. The sweep used to retry every run in new pools and
    # record them all as failed ("the worker process died"), after a traceback per process.
    sweep = sweep_file(tmp_path, "\n[parameters]\nlegitimacy = [0.3, 0.8]\n")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from dualpower_sim.sweep import load_sweep, run_sweep\n"
        f"run_sweep(load_sweep({str(sweep)!r}), {str(tmp_path / 'out')!r}, jobs=2)\n"
        "print('the sweep returned')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 1
    assert "the sweep returned" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: the sweep's worker processes could not start")
    assert 'if __name__ == "__main__":' in last
    assert "the worker process died" not in done.stderr


class _DieOnArrival:
    """A task field that kills the process that unpickles it (a run that crashes its worker)."""

    def __reduce__(self):
        return (os._exit, (1,))


@pytest.mark.slow
def test_a_run_that_keeps_killing_its_process_fails_alone(tmp_path):
    from dualpower_sim.sweeps import local_results, tasks_for

    body = "\n[parameters]\nlegitimacy = { low = 0.1, high = 0.9, steps = 4 }\n"
    sweep = load_sweep(sweep_file(tmp_path, body.replace("replicates = 3", "")))
    tasks = tasks_for(sweep, sweep.runs(), None)
    tasks[0]["poison"] = _DieOnArrival()
    rows = {r["run"]: r for r in local_results(tasks, jobs=2)}
    assert sorted(rows) == list(range(sweep.n_runs))
    assert rows[0]["status"] == "failed" and "worker process died" in rows[0]["error"]
    assert all(r["status"] == "done" for run, r in rows.items() if run != 0)


def test_whole_number_parameters_cover_their_range_without_repeats(tmp_path):
    body = """
[design]
kind = "lhs"
samples = 40
[parameters]
"debate.cadres" = { low = 0, high = 3, integer = true }
"""
    counts = load_sweep(sweep_file(tmp_path, body)).points["debate.cadres"].value_counts()
    assert sorted(counts.index) == [0, 1, 2, 3] and counts.min() == 10  # stratified: 10 each
    grid = "[parameters]\n'debate.cadres' = { low = 0, high = 2, steps = 5, integer = true }\n"
    assert list(load_sweep(sweep_file(tmp_path, grid)).points["debate.cadres"]) == [0, 1, 2]


def test_perfectly_separated_runs_give_the_bracket_as_the_interval():
    rows = [
        {"point": p, "x": x, "outcome": "council_power" if x > 30 else "state_restored"}
        for p, x in enumerate([0, 25, 50, 75])
        for _ in range(8)
    ]
    tp = tipping_point(pd.DataFrame(rows), "x", n_boot=50)
    assert tp.found and tp.low <= 25 and tp.high >= 50  # anything between 25 and 50 fits


def test_outcome_tables_group_table_valued_parameters_by_their_text():
    runs = pd.DataFrame(
        {
            "h": [{"kind": "beta", "a": 2}] * 2 + [{"kind": "beta", "a": 5}] * 2,
            "outcome": ["co_opted", "unresolved"] * 2,
        }
    )
    table = outcome_table(runs, ["h"], ["co_opted"])
    assert len(table) == 2 and (table["p"] == 0.5).all()


def test_duckdb_queries_the_store_as_it_is(tmp_path):
    import duckdb

    sweep = load_sweep(sweep_file(tmp_path, GRID))
    run_sweep(sweep, tmp_path / "out", jobs=1, flush_every=5)
    out = tmp_path / "out"
    got = duckdb.sql(
        f"SELECT d.legitimacy, r.outcome, count(*) AS n "
        f"FROM read_parquet('{out / 'runs' / '*.parquet'}') AS r "
        f"JOIN read_parquet('{out / 'design.parquet'}') AS d USING (run) "
        "GROUP BY ALL ORDER BY ALL"
    ).df()
    runs = load_results(out).runs
    expected = (
        runs.groupby(["legitimacy", "outcome"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["legitimacy", "outcome"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["n"].sum() == 18


def test_a_dry_run_times_whole_runs_at_the_first_middle_and_last_points(tmp_path, monkeypatch):
    from dualpower_sim.sweeps import runs as sweep_runs

    sweep = load_sweep(sweep_file(tmp_path, GRID))  # 6 points
    timed = []
    real = sweep_runs.experiment_from_config

    def recording(config, overrides, label, seed=None):
        experiment = real(config, overrides, label, seed=seed)
        timed.append((dict(overrides), seed))
        return experiment

    monkeypatch.setattr(sweep_runs, "experiment_from_config", recording)
    seconds = sweep_runs.estimate_seconds_per_run(sweep)
    assert 0 < seconds < 60
    design = sweep.runs()
    first = design[design["replicate"] == 0].set_index("point")
    expected = [(sweep.overrides(p), int(first.loc[p, "seed"])) for p in (0, 2, 5)]
    assert timed == expected  # whole runs, each with its own seed, spread over the design
    # A run stopped at the cap is extrapolated over its horizon, not counted as done.
    assert sweep_runs.estimate_seconds_per_run(sweep, runs=1, cap=0.0) > 0
