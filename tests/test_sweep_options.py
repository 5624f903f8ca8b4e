"""A sweep's options checked in the library, the CLI's flags on them, designs and executors."""

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import one_line_error
from dualpower_sim import ConfigError, ParameterError, load_results
from dualpower_sim.cli import main
from dualpower_sim.sweeps import (
    DESIGNS,
    SerialExecutor,
    check_refine_options,
    check_run_options,
    load_sweep,
    make_executor,
    refine_sweep,
    register_design,
    run_sweep,
)
from dualpower_sim.sweeps.executors import DaskExecutor, LocalExecutor

SWEEP = """
description = "a small test sweep"
config = "us_2003"
replicates = 2
seed = 5
n_workers = 9000
horizon = 6
[parameters]
legitimacy = [0.3, 0.8]
"""


@pytest.fixture
def sweep_path(tmp_path: Path) -> Path:
    path = tmp_path / "sw.toml"
    path.write_text(SWEEP)
    return path


# -- the library checks what the command line checks ------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"jobs": 0}, "jobs"),
        ({"jobs": 1.5}, "jobs"),
        ({"batch": 0}, "batch"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": -3.0}, "time_limit"),
        ({"time_limit": float("nan")}, "time_limit"),
        ({"time_limit": float("inf")}, "time_limit"),
        ({"executor": "mpi"}, "executor"),
        ({"scheduler": "not an address"}, "scheduler"),
    ],
)
def test_run_options_are_refused_in_neutral_words(options, name):
    with pytest.raises(ParameterError) as err:
        check_run_options(**options)
    assert err.value.name == name
    assert str(err.value).startswith(f"{name} = ") and "allowed: " in str(err.value)
    assert "--" not in str(err.value)  # the library never speaks the command line's language


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"outcome": "victory"}, "outcome"),
        ({"target_width": 0}, "target_width"),
        ({"target_width": -0.1}, "target_width"),
        ({"target_width": float("nan")}, "target_width"),
        ({"budget": 0}, "budget"),
    ],
)
def test_refine_options_are_refused_in_neutral_words(options, name):
    with pytest.raises(ParameterError) as err:
        check_refine_options(**options)
    assert err.value.name == name and "--" not in str(err.value)


def test_good_options_pass():
    check_run_options(jobs=4, time_limit=2.5, executor="dask", scheduler="tcp://host:8786")
    check_refine_options(outcome="co_opted", target_width=0.05, budget=10)


def test_run_sweep_refuses_a_bad_option_before_it_writes_anything(sweep_path, tmp_path):
    sweep = load_sweep(sweep_path)
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match="time_limit = -1"):
        run_sweep(sweep, out, time_limit=-1)
    assert not out.exists()


def test_refine_sweep_refuses_a_bad_option_before_it_runs_anything(sweep_path, tmp_path):
    sweep = load_sweep(sweep_path)
    out = tmp_path / "out"
    run_sweep(sweep, out)
    before = sorted(out.rglob("*"))
    with pytest.raises(ParameterError, match="target_width = 0"):
        refine_sweep(sweep, out, target_width=0, log=lambda _: None)
    with pytest.raises(ParameterError, match="outcome = 'victory'"):
        refine_sweep(sweep, out, outcome="victory", log=lambda _: None)
    assert sorted(out.rglob("*")) == before


def test_the_old_keyword_for_processes_still_works_with_a_warning(sweep_path, tmp_path):
    sweep = load_sweep(sweep_path)
    with pytest.warns(FutureWarning, match=r"jobs="):
        counts = run_sweep(sweep, tmp_path / "out", workers=1)
    assert counts["done"] == sweep.n_runs


# -- the command line puts its flags on the library's messages --------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--time-limit", "-1"], "--time-limit -1.0: allowed: a number of seconds > 0"),
        (["--target-width", "0"], "--target-width 0.0: allowed: a number > 0"),
        (["--outcome", "victory"], "--outcome 'victory': allowed: 'council_power'"),
        (["--scheduler", "nowhere"], "--scheduler 'nowhere': allowed: a Dask scheduler's"),
        (["--shard", "3/2"], "--shard '3/2': allowed: i/N with 0 <= i < N"),
    ],
)
def test_a_bad_sweep_option_is_one_line_naming_the_flag(sweep_path, capsys, flags, expected):
    assert main(["sweep", str(sweep_path), "--dry-run", *flags]) == 2
    assert expected in one_line_error(capsys)


def test_workers_in_sweep_is_refused_naming_jobs(sweep_path, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_path), "--out", str(out), "--workers", "2"]) == 2
    line = one_line_error(capsys)
    assert line.startswith("error: dualpower sweep: --workers is now --jobs (-j)")
    assert "processes" in line and "dualpower run" in line
    assert not out.exists()
    assert main(["sweep", str(sweep_path), "--workers=2", "--dry-run"]) == 2
    assert "--jobs" in one_line_error(capsys)


def test_jobs_and_its_short_form_set_the_processes(sweep_path, capsys, monkeypatch):
    from dualpower_sim import memory

    monkeypatch.setattr(memory, "cores", lambda: 8)
    for flags in (["--jobs", "3"], ["-j", "3"], ["-j3"]):
        assert main(["sweep", str(sweep_path), "--dry-run", *flags]) == 0
        assert "on 3 process(es)" in capsys.readouterr().out


def test_workers_in_run_is_still_the_citys_size(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "us_2003", "--workers", "9000", "--steps", "3", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert json.loads((out / "summary.json").read_text())["n_workers"] == 9000


# -- designs: a registry of samplers by name --------------------------------------------------


def test_every_design_is_named_in_the_message_for_an_unknown_one(sweep_path, capsys):
    sweep_path.write_text(SWEEP + '[design]\nkind = "random"\n')
    assert main(["sweep", str(sweep_path), "--dry-run"]) == 2
    line = one_line_error(capsys)
    assert all(repr(name) in line for name in DESIGNS)
    assert list(DESIGNS)[:2] == ["grid", "list"]


def test_a_registered_design_is_usable_from_a_sweep_file(tmp_path, monkeypatch):
    monkeypatch.setitem(DESIGNS, "corners", DESIGNS["grid"])  # restored after the test

    @register_design("corners", keys=("kind", "levels"))
    def corners(request):
        levels = request.table.get("levels", 2)
        lows = {k: v["low"] for k, v in request.parameters.items()}
        highs = {k: v["high"] for k, v in request.parameters.items()}
        return pd.DataFrame([lows, highs] * (levels // 2))

    path = tmp_path / "c.toml"
    path.write_text(
        SWEEP.replace("legitimacy = [0.3, 0.8]", "legitimacy = { low = 0.2, high = 0.7 }")
        + '[design]\nkind = "corners"\nlevels = 4\n'
    )
    sweep = load_sweep(path)
    assert sweep.design == "corners"
    assert list(sweep.points["point"]) == [0, 1, 2, 3]
    assert list(sweep.points["legitimacy"]) == [0.2, 0.7, 0.2, 0.7]
    path.write_text(path.read_text().replace("levels = 4", "samples = 4"))
    with pytest.raises(ConfigError, match=r"design\.samples = 4 is not allowed; allowed: keys"):
        load_sweep(path)


# -- executors: one protocol ------------------------------------------------------------------


def test_make_executor_picks_by_name():
    assert isinstance(make_executor("local", jobs=1), SerialExecutor)
    local = make_executor("local", jobs=3, batch=7)
    assert isinstance(local, LocalExecutor) and (local.jobs, local.batch) == (3, 7)
    dask = make_executor("local", jobs=2, scheduler="tcp://h:1", prefix="p")
    assert isinstance(dask, DaskExecutor) and (dask.scheduler, dask.prefix) == ("tcp://h:1", "p")
    with pytest.raises(ParameterError, match="executor = 'mpi'"):
        make_executor("mpi")


class ReversedExecutor:
    """An executor of the test's own: runs the tasks last first, and counts them."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def map(self, function, tasks):
        for task in reversed(list(tasks)):
            self.seen.append(task["run"])
            yield function(task)


def test_an_executor_of_ones_own_gives_the_same_results(sweep_path, tmp_path):
    sweep = load_sweep(sweep_path)
    run_sweep(sweep, tmp_path / "serial")
    mine = ReversedExecutor()
    run_sweep(sweep, tmp_path / "mine", executor=mine)
    assert mine.seen == list(reversed(range(sweep.n_runs)))
    a = load_results(tmp_path / "serial").runs.drop(columns="seconds")
    b = load_results(tmp_path / "mine").runs.drop(columns="seconds")
    pd.testing.assert_frame_equal(
        a.sort_values("run", ignore_index=True), b.sort_values("run", ignore_index=True)
    )


@pytest.mark.parametrize(("key", "value"), [("horizon", 2_000_000), ("n_workers", 60_000_000)])
def test_a_sweep_files_run_sizes_have_the_models_bounds(tmp_path, key, value):
    path = tmp_path / "big.toml"
    path.write_text(f'config = "us_2003"\n{key} = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_sweep(path)
    message = str(err.value)
    assert "big.toml: " in message  # the file, named as the user wrote it
    assert f"{key} = {value} is not allowed" in message and "--" not in message
