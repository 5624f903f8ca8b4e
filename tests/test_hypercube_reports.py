"""Reading a hypercube: binned outcome curves and the tipping-point rules, on known tables.

A Latin hypercube gives every run its own parameter values, usually one run a point: the
curves pool runs into quantile bins, and a tipping point is reported only where the runs can
place it (``analysis.TIPPING_RULE``).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

from dualpower_sim.analysis import MIN_RUNS, binned_outcome_table, tipping_point


def hypercube_runs(seed, n=300, crossing=0.6, slope=12.0):
    """One run a point at uniform x, council power with a known logistic probability."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=n)
    won = rng.random(n) < special.expit(slope * (x - crossing))
    return pd.DataFrame(
        {
            "point": np.arange(n),
            "replicate": 0,
            "x": x,
            "status": "done",
            "outcome": np.where(won, "council_power", "state_restored"),
        }
    )


def test_binned_curves_follow_a_known_logistic_with_wilson_intervals():
    runs = hypercube_runs(0, n=600, crossing=0.5, slope=10.0)
    table = binned_outcome_table(runs, "x", ["council_power", "state_restored"], bins=10)
    power = table[table["outcome"] == "council_power"].reset_index(drop=True)
    assert len(power) == 10 and (power["n"] == 60).all()  # quantile bins: equal numbers
    assert power["x"].is_monotonic_increasing
    assert (power["bin_low"] <= power["x"]).all() and (power["x"] <= power["bin_high"]).all()
    assert (power["bin_high"].to_numpy()[:-1] < power["bin_low"].to_numpy()[1:]).all()
    # Each bin's Wilson interval against the true share of its runs (the mean of their
    # probabilities): a 95% interval misses now and then, rarely more than twice in ten.
    covered = 0
    for row in power.itertuples():
        inside = runs[runs["x"].between(row.bin_low, row.bin_high)]
        truth = special.expit(10 * (inside["x"] - 0.5)).mean()
        covered += row.low <= truth <= row.high
    assert covered >= 8
    both = table.groupby("x")["p"].sum()
    assert np.allclose(both, 1.0)  # the two outcomes share every bin's runs


def test_default_bins_hold_about_30_runs_and_a_whole_number_parameter_is_never_split():
    runs = hypercube_runs(1, n=90)
    assert binned_outcome_table(runs, "x", ["council_power"])["n"].tolist() == [30, 30, 30]
    assert len(binned_outcome_table(hypercube_runs(1, n=900), "x", ["council_power"])) == 10
    runs["garrison"] = np.repeat([100, 200, 300], 30)
    table = binned_outcome_table(runs, "garrison", ["council_power"], bins=10)
    assert table["garrison"].tolist() == [100, 200, 300] and (table["n"] == 30).all()


def test_one_replicate_a_point_resamples_points_and_gives_an_honest_interval():
    covered = 0
    for seed in range(8):
        tp = tipping_point(hypercube_runs(seed), "x", n_boot=200, seed=seed)
        assert tp.verdict == "crossing" and tp.found
        assert abs(tp.estimate - 0.6) < 0.08
        # Resampling replicates within single-run points gave every resample the same runs
        # and an interval of width zero; resampling the points does not.
        assert tp.high - tp.low > 0.02
        covered += tp.low <= 0.6 <= tp.high
    assert covered >= 6


def test_a_single_event_is_too_few_runs_not_a_tipping_point():
    runs = hypercube_runs(2, n=160, crossing=5.0)  # essentially no council power ...
    runs["outcome"] = "state_restored"
    runs.loc[runs["x"].idxmin(), "outcome"] = "co_opted"  # ... and one co-opted run
    tp = tipping_point(runs, "x", "co_opted", n_boot=50)
    assert tp.verdict == "too few runs" and not tp.found and np.isnan(tp.estimate)
    assert tp.events == 1 < MIN_RUNS


def test_a_crossing_at_the_edge_of_the_runs_is_too_few_runs():
    verdicts = []
    for seed in range(8):  # a steep rise at 0.012: about 4 of 300 runs lie below it
        runs = hypercube_runs(seed, crossing=0.012, slope=60.0)
        tp = tipping_point(runs, "x", n_boot=50, seed=seed)
        verdicts.append(tp.verdict)
        if tp.found:  # a crossing reported has its runs on both sides
            assert min((runs["x"] < tp.estimate).sum(), (runs["x"] > tp.estimate).sum()) >= 5
    assert verdicts.count("too few runs") >= 3


def test_perfect_separation_gives_the_gap_and_no_slope():
    runs = hypercube_runs(4)
    runs["outcome"] = np.where(runs["x"] > 0.37, "council_power", "state_restored")
    tp = tipping_point(runs, "x", n_boot=50)
    below, above = runs.loc[runs["x"] <= 0.37, "x"].max(), runs.loc[runs["x"] > 0.37, "x"].min()
    assert tp.verdict == "separation" and tp.found
    assert (tp.low, tp.high) == (below, above) and tp.low <= tp.estimate <= tp.high
    # The other way round too.
    runs["outcome"] = np.where(runs["x"] > 0.37, "state_restored", "council_power")
    assert tipping_point(runs, "x", n_boot=50).verdict == "separation"


@pytest.mark.parametrize("seed", range(4))
def test_a_flat_curve_near_one_half_is_not_a_tipping_point(seed):
    runs = hypercube_runs(seed, slope=0.0)  # P = 0.5 whatever x
    tp = tipping_point(runs, "x", n_boot=200, seed=seed)
    assert tp.verdict in ("not crossed", "not located") and not tp.found


def test_the_example_sweeps_load_and_the_hypercube_covers_the_articles_conditions():
    from pathlib import Path

    from dualpower_sim.sweep import load_sweep

    folder = Path(__file__).resolve().parents[1] / "experiments" / "sweeps"
    sweeps = {p.stem: load_sweep(p) for p in sorted(folder.glob("*.toml"))}
    cube = sweeps["conditions_lhs"]
    assert cube.design == "lhs" and cube.replicates == 1
    assert {
        "city.territorial_share",  # workplace or territory
        "debate.cadre_share",  # cadres
        "state.offensive_readiness",  # the state's offensive ...
        "state.concession_weight",  # ... and concessions
        "soldiers.per_worker",  # the garrison
        "legitimacy",
        "shocks.0.magnitude",  # the shock
    } <= set(cube.parameters)
    assert cube.n_runs <= 300  # a few minutes on two cores
