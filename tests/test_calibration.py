"""Calibration against history: the file's checks, the statistics and distance, ABC-SMC runs."""

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from dualpower_sim import load_posterior, scenario_names
from dualpower_sim.calibration import load_calibration
from dualpower_sim.calibration.episodes import particle_seed
from dualpower_sim.calibration.smc import CalibrationError, calibrate
from dualpower_sim.calibration.summaries import (
    distance,
    episode_statistics,
    observation,
    target_statistics,
)
from dualpower_sim.cli import main
from dualpower_sim.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "tests" / "data" / "calibration_smoke.toml"
HISTORY = ROOT / "experiments" / "calibration" / "history.toml"

pytest.importorskip("pyabc")


# --- the file ---------------------------------------------------------------------------------


def test_the_history_file_infers_shared_parameters_over_the_presets_guesses():
    c = load_calibration(HISTORY)
    names = [e.name for e in c.episodes]
    assert len(names) == 8 and sorted(names) == scenario_names()  # every preset, once
    assert all(p.episode is None for p in c.priors) and len(c.priors) == 5
    priors = {p.name: p for p in c.priors}
    assert priors["resolution.leverage_size"].scale == "log"
    assert not priors["resolution.leverage_size"].integer
    guesses = {g.name: g for e in c.episodes for g in e.guesses}
    assert guesses["gdansk_1980/shocks.0.duration"].integer
    assert not guesses["petrograd_1917/legitimacy"].integer
    assert c.episode("petrograd_1917").days == {"majority": 185.0, "end": 240.0}
    assert c.episode("petrograd_1917").experiment.kwargs["n_workers"] == 6000
    # Leaving an episode out drops it (and its guesses), keeps the shared parameters.
    without = c.without("paris_1871")
    assert "paris_1871" not in [e.name for e in without.episodes]
    assert [p.name for p in without.priors] == [p.name for p in c.priors]
    assert without.calibration_hash != c.calibration_hash


def test_guesses_are_drawn_afresh_in_each_run_within_their_ranges():
    from dualpower_sim.calibration.episodes import draw_guesses

    e = load_calibration(HISTORY).episode("gdansk_1980")
    draws = [draw_guesses(e, seed) for seed in range(200)]
    assert draws[0] == draw_guesses(e, 0)  # a run's guesses follow from its seed
    for g in e.guesses:
        values = [d[g.key] for d in draws]
        assert all(g.low <= v <= g.high for v in values), g.name
        assert len(set(values)) > 100 or g.integer, g.name
    assert all(isinstance(d["shocks.0.duration"], int) for d in draws)


GOOD = SMOKE.read_text()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("seed = 7", "seeds = 7"), "unknown key 'seeds' (did you mean 'seed'?)"),
        (("population_size = 6", "population_size = 1"), "population_size = 1"),
        (
            ("{ low = 0.02, high = 0.5 }", "{ low = 0.5, high = 0.02 }"),
            "low (0.5) must be below high (0.02)",
        ),
        (("{ low = 0.02, high = 0.5 }", "0.3"), "allowed: a table { low = ..., high = ..."),
        (
            ("{ low = 0.02, high = 0.5 }", '{ low = 0.02, high = 0.5, scale = "ln" }'),
            "allowed: 'linear', 'log'",
        ),
        (('outcome = ["no_dual_power"]', 'outcome = ["won"]'), "outcome = ['won']"),
        (("dual_power = 20", "dual_powr = 20"), "unknown key 'dual_powr'"),
        (('preset = "france_2006"', 'preset = "nowhere_1900"'), "nowhere_1900"),
        # A prior whose bounds the config refuses (legitimacy lies in [0, 1]).
        (("{ low = 0.05, high = 0.25 }", "{ low = 0.5, high = 1.5 }"), "'legitimacy'"),
        (('"debate.persuasion"', '"debate.persuade"'), "persuade"),
        # A target no run can reach, and days of dual power for an episode without it.
        (("dual_power = 20", "dual_power = 41"), "from 0 to the horizon, 40"),
        (('outcome = ["no_dual_power", "co_opted"]', 'outcome = ["no_dual_power"]'), "no days"),
        # A key both shared and an episode's.
        (
            (
                '"legitimacy" = { low = 0.05, high = 0.25 }',
                '"debate.persuasion" = { low = 0.1, high = 0.2 }',
            ),
            "is also set by a shared parameter",
        ),
        (
            (
                '"legitimacy" = { low = 0.05, high = 0.25 }',
                '"loyalty_mean" = { low = 0.3, high = 0.6 }\n'
                '"soldiers.loyalty.a" = { low = 1.0, high = 2.0 }',
            ),
            "set the same garrison",
        ),
    ],
)
def test_a_bad_calibration_file_is_one_line_naming_file_and_key(tmp_path, capsys, change, says):
    old, new = change
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_calibration(path)
    assert says in str(err.value) and "bad.toml" in str(err.value)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_a_parameter_is_whole_where_the_config_holds_a_whole_number(tmp_path):
    c = load_calibration(HISTORY)
    whole = {p.name for p in c.priors if p.integer} | {
        g.name for e in c.episodes for g in e.guesses if g.integer
    }
    assert whole == {"gdansk_1980/shocks.0.duration"}
    path = tmp_path / "ints.toml"
    path.write_text(GOOD.replace("{ low = 0.02, high = 0.5 }", "{ low = 0, high = 1 }"))
    assert not load_calibration(path).priors[0].integer  # a float key stays a float


def test_without_pyabc_the_command_names_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "pyabc", None)  # import pyabc now raises ImportError
    assert main(["calibrate", str(SMOKE), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "dualpower_sim[calibrate]" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


# --- statistics and distance ------------------------------------------------------------------


def test_observation_counts_events_that_never_came_at_twice_the_horizon():
    assert observation("no_dual_power", None, None, None, 180) == {
        "outcome": "no_dual_power",
        "dual_power": 360,
        "majority": 360,
        "end": 360,
    }
    assert observation("council_power", 10, 150, 200, 365) == {
        "outcome": "council_power",
        "dual_power": 10,
        "majority": 140,
        "end": 190,
    }
    assert observation("state_restored", 10, None, 60, 365)["majority"] == 730
    # Dual power still standing at the horizon did not end: censored, not the horizon's day.
    assert observation("unresolved", 30, None, None, 500)["end"] == 1000


def test_episode_statistics_are_the_share_ending_as_history_and_median_timings():
    runs = [
        observation("state_restored", 5, None, 45, 365),
        observation("co_opted", 5, None, 105, 365),
        observation("state_restored", 5, None, 65, 365),
    ]
    stats = episode_statistics("paris", runs, ["state_restored"], ["end"])
    assert stats == {"paris:outcome": pytest.approx(2 / 3), "paris:end": 60.0}


def test_distance_units_are_half_the_runs_or_a_factor_of_two():
    x0 = target_statistics([("a", {"end": 49.0})])
    assert distance(x0, x0) == 0.0
    # Half the runs ending otherwise: one unit on one of the episode's two statistics.
    assert distance({"a:outcome": 0.5, "a:end": 49.0}, x0) == pytest.approx(math.sqrt(1 / 2))
    # A timing off by a factor of two, either way (days + 1).
    assert distance({"a:outcome": 1.0, "a:end": 99.0}, x0) == pytest.approx(math.sqrt(1 / 2))
    assert distance({"a:outcome": 1.0, "a:end": 24.0}, x0) == pytest.approx(math.sqrt(1 / 2))
    # Episodes weigh the same, whatever their number of statistics.
    x0 = target_statistics([("a", {"dual_power": 9.0, "majority": 9.0, "end": 9.0}), ("b", {})])
    x = {**x0, "a:dual_power": 19.0, "a:majority": 19.0, "a:end": 19.0}
    assert distance(x, x0) == pytest.approx(math.sqrt((3 / 4) / 2))
    assert distance({**x0, "b:outcome": 0.0}, x0) == pytest.approx(math.sqrt(4 / 2))


def test_a_particles_seeds_depend_on_all_of_its_key_and_nothing_else():
    v = {"b": 0.25, "a": 0.5}
    s = particle_seed(7, 0, v, 1, 0)
    assert s == particle_seed(7, 0, {"a": 0.5, "b": 0.25}, 1, 0)
    others = {
        particle_seed(8, 0, v, 1, 0),
        particle_seed(7, 1, v, 1, 0),
        particle_seed(7, 0, {"b": 0.25, "a": np.nextafter(0.5, 1)}, 1, 0),
        particle_seed(7, 0, v, 0, 0),
        particle_seed(7, 0, v, 1, 1),
    }
    assert s not in others and len(others) == 5
    assert 0 <= s < 2**63


# --- running a calibration --------------------------------------------------------------------


def _generations(db: Path) -> int:
    with closing(sqlite3.connect(db)) as con:
        try:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
        except sqlite3.OperationalError:  # pyabc has not made its tables yet
            return 0


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("calib") / "smoke"
    calibrate(load_calibration(SMOKE), out, jobs=1, echo=None, source=SMOKE)
    return out


def test_a_smoke_calibration_records_its_generations_and_posterior(smoke):
    post = load_posterior(smoke)
    assert list(post.generations["generation"]) == [0, 1]
    assert post.info["state"] == "done" and post.info["seed"] == 7
    assert post.info["provenance"]["numpy"] == np.__version__
    assert len(post.particles) == 6
    assert post.weights.sum() == pytest.approx(1.0)
    for p in post.priors.itertuples():
        x = post.particles[p.name]
        assert ((x >= p.low) & (x <= p.high)).all(), p.name
    summary = post.summary()
    assert list(summary.index) == list(post.priors["name"])
    assert (summary["low"] <= summary["median"]).all()
    assert (summary["median"] <= summary["high"]).all()
    assert (post.statistics["distance"] <= post.generations["epsilon"].iloc[-1] + 1e-12).all()
    eps = post.generations["epsilon"].to_numpy()
    assert (np.diff(eps) <= 1e-12).all()  # epsilon never rises


def test_one_process_calibrations_are_reproducible(smoke, tmp_path):
    again = calibrate(load_calibration(SMOKE), tmp_path / "again", jobs=1, echo=None)
    a, b = load_posterior(smoke), load_posterior(again)
    assert a.particles.sort_values(list(a.particles)).to_numpy().tolist() == (
        b.particles.sort_values(list(b.particles)).to_numpy().tolist()
    )


def test_a_finished_or_foreign_folder_is_refused_or_left_alone(smoke, tmp_path):
    c = load_calibration(SMOKE)
    with pytest.raises(CalibrationError, match="pass resume=True to continue it"):
        calibrate(c, smoke, echo=None)
    lines = []
    calibrate(c, smoke, resume=True, echo=lines.append)
    assert lines == ["calibration_smoke: already complete (2 generations); nothing to do"]
    other = tmp_path / "other.toml"
    other.write_text(GOOD.replace("seed = 7", "seed = 8"))
    with pytest.raises(CalibrationError, match="made by another calibration"):
        calibrate(load_calibration(other), smoke, resume=True, echo=None)
    with pytest.raises(CalibrationError, match="holds no calibration"):
        calibrate(c, tmp_path / "empty", resume=True, echo=None)


def test_the_kernel_proposes_inside_the_priors_with_a_density_that_integrates_to_one():
    import pandas as pd

    from dualpower_sim.calibration.spec import Prior
    from dualpower_sim.calibration.transition import BoundedTransition

    priors = [Prior("a", "a", None, 0.0, 1.0), Prior("b", "b", None, 1.0, 100.0, "log")]
    rng = np.random.default_rng(5)
    particles = pd.DataFrame({"a": rng.uniform(0, 1, 30), "b": np.exp(rng.uniform(0, 4.6, 30))})
    kernel = BoundedTransition(priors)
    kernel.fit(particles, rng.random(30))
    np.random.seed(1)  # noqa: NPY002 - pyabc's kernels draw from numpy's global generator
    draws = pd.DataFrame([kernel.rvs_single() for _ in range(500)])
    assert draws["a"].between(0, 1).all() and draws["b"].between(1, 100).all()
    assert kernel.pdf(pd.Series({"a": 1.5, "b": 10.0})) == 0.0
    # Monte Carlo over the box (a, log b): the density, times b, integrates to one.
    a, log_b = rng.uniform(0, 1, 10_000), rng.uniform(0, np.log(100), 10_000)
    b = np.exp(log_b)
    dens = kernel.pdf(pd.DataFrame({"a": a, "b": b}))
    assert np.mean(dens * b) * np.log(100) == pytest.approx(1.0, abs=0.03)
    # Many parameters and few particles: every proposal still lands inside the priors.
    many = load_calibration(HISTORY).priors
    wide = pd.DataFrame({p.name: np.full(40, (p.low + p.high) / 2) for p in many})
    wide.iloc[0] = [p.low for p in many]
    kernel = BoundedTransition(many)
    kernel.fit(wide, np.ones(40))
    for _ in range(50):
        x = kernel.rvs_single()
        assert all(p.low <= x[p.name] <= p.high for p in many)


def test_a_folder_left_with_only_a_lock_is_reused_and_versions_are_checked(tmp_path, smoke):
    import json
    import shutil

    c = load_calibration(SMOKE)
    out = tmp_path / "locked"
    out.mkdir()
    (out / ".lock").write_text("{}")
    calibrate(c, out, echo=None)
    assert load_posterior(out).info["provenance"]["pyabc"]
    copy = tmp_path / "copy"
    shutil.copytree(smoke, copy)
    info = json.loads((copy / "calibration.json").read_text())
    info["provenance"]["pyabc"] = "0.0.1"
    (copy / "calibration.json").write_text(json.dumps(info))
    with pytest.raises(CalibrationError, match=r"made with pyabc 0\.0\.1"):
        calibrate(c, copy, resume=True, echo=None)


@pytest.mark.slow
def test_a_calibration_killed_mid_generation_resumes_to_the_same_posterior(smoke, tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    cmd = [sys.executable, "-m", "dualpower_sim", "calibrate", str(SMOKE), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "-j", "1", "--quiet"], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db = out / "history.db"
            if db.is_file() and _generations(db) >= 1:
                break
            assert proc.poll() is None, "finished before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("generation 0 never finished")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _generations(out / "history.db") == 1  # killed in generation 1
    done = subprocess.run(
        [*cmd, "-j", "1", "--resume"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "resuming after generation 0 of 2" in done.stdout
    assert _generations(out / "history.db") == 2
    a, b = load_posterior(smoke), load_posterior(out)
    # One process from the same root seed, resumed or not: the same particles.
    assert a.particles.sort_values(list(a.particles)).to_numpy().tolist() == (
        b.particles.sort_values(list(b.particles)).to_numpy().tolist()
    )
    # The report from the resumed folder.
    report = tmp_path / "report"
    code = main(["posterior", str(out), "--out", str(report), "--draws", "2"])
    assert code == 0
    text = (report / "report.md").read_text()
    for name in ("debate.persuasion", "eastern_europe_1989/legitimacy", "Posterior predictive"):
        assert name in text
    for name in ("marginals.png", "predictive.png", "posterior.csv", "predictive.csv"):
        assert (report / name).stat().st_size > 0


def test_the_posterior_report_has_its_tables_and_figures(smoke, tmp_path):
    out = tmp_path / "post"
    assert main(["posterior", str(smoke), "--out", str(out), "--draws", "3", "-j", "1"]) == 0
    text = (out / "report.md").read_text()
    assert "| `debate.persuasion` | 0.02 to 0.5 |" in text
    assert "## Posterior predictive checks" in text
    assert "`france_2006` | no_dual_power or co_opted |" in text
    for name in ("summary.csv", "generations.csv", "marginals.png", "predictive_runs.csv"):
        assert (out / name).stat().st_size > 0


def test_predictive_runs_are_the_same_on_one_process_or_two(smoke):
    from dualpower_sim.calibration.predictive import posterior_predictive

    c, post = load_calibration(SMOKE), load_posterior(smoke)
    one = posterior_predictive(c, post, draws=3, jobs=1)
    two = posterior_predictive(c, post, draws=3, jobs=2)
    assert len(one) == 3 * len(c.episodes)
    assert one.equals(two)


def test_a_dead_predictive_process_is_one_line_naming_the_option(
    smoke, capsys, monkeypatch, tmp_path
):
    from concurrent.futures.process import BrokenProcessPool

    from dualpower_sim.calibration import predictive

    class DyingPool:
        def __init__(self, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, *args, **kwargs):
            raise BrokenProcessPool("a process terminated abruptly")

    monkeypatch.setattr(predictive, "ProcessPoolExecutor", DyingPool)
    out = tmp_path / "post"
    assert main(["posterior", str(smoke), "--draws", "2", "-j", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "a process of the predictive runs died" in err and "--jobs 1" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()


def test_a_report_without_predictive_checks_leaves_no_earlier_ones_behind(smoke, tmp_path):
    out = tmp_path / "post"
    assert main(["posterior", str(smoke), "--out", str(out), "--draws", "2", "-j", "1"]) == 0
    assert (out / "predictive.csv").is_file()
    assert main(["posterior", str(smoke), "--out", str(out), "--draws", "0"]) == 0
    assert not (out / "predictive.csv").exists() and not (out / "predictive.png").exists()
    assert "## Posterior predictive checks" not in (out / "report.md").read_text()


def test_the_command_names_its_options_where_the_library_names_arguments(smoke, capsys):
    assert main(["calibrate", str(SMOKE), "--out", str(smoke)]) == 2
    err = capsys.readouterr().err
    assert f"--out {smoke}: holds a calibration; pass --resume to continue it" in err
    assert main(["calibrate", str(SMOKE), "--leave-out", "paris", "--dry-run"]) == 2
    assert "--leave-out 'paris': no such episode" in capsys.readouterr().err


def test_dry_run_prints_the_budget_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", str(SMOKE), "--dry-run", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert "budget: 6 particles x at most 2 generations; root seed 7" in out
    assert "a particle: 2 runs" in out and "runs: at least 36" in out
    assert list(tmp_path.iterdir()) == []


def test_a_dry_run_leaving_an_episode_out_shows_the_calibration_without_it(capsys):
    assert (
        main(["calibrate", str(SMOKE), "--leave-out", "france_2006", "--dry-run", "-j", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("calibration_smoke-without-france_2006: smoke test")
    assert "episodes (1)" in out and "france_2006" not in out.split("\n", 1)[1]


def test_posterior_of_a_folder_without_a_calibration_is_one_line(tmp_path, capsys):
    assert main(["posterior", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a calibration's folder" in err and err.count("\n") == 1


def _recomputed(folder: Path, calibration) -> list[tuple[dict, dict]]:
    """Each particle of the last generation: its stored statistics and those simulated anew."""
    import pyabc

    from dualpower_sim.calibration.episodes import ParticleModel

    history = pyabc.History(f"sqlite:///{folder / 'history.db'}", create=False)
    history.id = 1
    t = history.max_t
    model = ParticleModel(calibration)
    return [
        (dict(p.sum_stat), model(dict(p.parameter), t))
        for p in history.get_population(t=t).particles
    ]


def test_a_particles_statistics_are_what_its_runs_give_here(smoke):
    pairs = _recomputed(smoke, load_calibration(SMOKE))
    assert pairs and all(stored == again for stored, again in pairs)


@pytest.mark.slow
def test_a_dask_calibration_runs_its_particles_as_this_process_would(tmp_path):
    distributed = pytest.importorskip("distributed")
    c = load_calibration(SMOKE)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        calibrate(c, tmp_path / "dask", scheduler=cluster.scheduler_address, echo=None)
    post = load_posterior(tmp_path / "dask")
    assert list(post.generations["generation"]) == [0, 1]
    pairs = _recomputed(tmp_path / "dask", c)
    assert pairs and all(stored == again for stored, again in pairs)


@pytest.mark.slow
def test_leave_one_out_predicts_each_episode_from_the_others(tmp_path, capsys):
    out = tmp_path / "loo"
    args = ["calibrate", str(SMOKE), "--out", str(out), "-j", "1", "--leave-one-out"]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "leaving out eastern_europe_1989" in said and "leaving out france_2006" in said
    for name in ("eastern_europe_1989", "france_2006"):
        info = load_posterior(out / "leave_out" / name).info
        assert info["leave_out"] == name
        assert [e["name"] for e in info["episodes"]] != [name]
        assert not any(p["episode"] == name for p in info["priors"])
    report = tmp_path / "report"
    assert main(["posterior", str(out), "--out", str(report), "--draws", "2", "-j", "1"]) == 0
    text = (report / "report.md").read_text()
    assert "## Leave one episode out" in text
    loo = (report / "leave_one_out.csv").read_text()
    assert "eastern_europe_1989" in loo and "france_2006" in loo
    # A leave-one-out folder of another calibration (another budget, say) is not mixed in.
    info_path = out / "leave_out" / "france_2006" / "calibration.json"
    info = json.loads(info_path.read_text())
    info_path.write_text(json.dumps({**info, "whole_hash": "0" * 64}))
    capsys.readouterr()
    assert main(["posterior", str(out), "--out", str(report), "--draws", "1", "-j", "1"]) == 0
    said = capsys.readouterr().out
    assert f"{out / 'leave_out' / 'france_2006'}: made from another calibration" in said
    loo = (report / "leave_one_out.csv").read_text()
    assert "eastern_europe_1989" in loo and "france_2006" not in loo
