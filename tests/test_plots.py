import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from dualpower_sim.plots import plot_mobilization


def test_plot_draws_every_series_it_is_given():
    steps = pd.RangeIndex(50, name="step")
    df = pd.DataFrame(
        {
            "mobilized": np.linspace(0, 0.5, 50),
            "jailed": np.linspace(0, 0.1, 50),
            "hardship": 0.4,
            "legitimacy": 0.7,
            "striking": 0.1,
            "blockading": 0.2,
            "occupying": 0.0,
            "mobilized_firms_1_50": 0.1,
            "mobilized_firms_1001_plus": 0.3,
            "mobilized_sector_metal_working": 0.2,
        },
        index=steps,
    )
    fig = plot_mobilization(df)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 4
    labels = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert labels[0] == ["mobilized", "jailed", "mean hardship", "state legitimacy"]
    assert labels[2] == ["1-50 workers", "1001+ workers"]
    assert labels[3] == ["metal working"]
    assert all(ax.get_title(loc="left") for ax in axes)


def _outcome_table():
    from dualpower_sim import OUTCOMES
    from dualpower_sim.analysis import outcome_table

    runs = pd.DataFrame(
        {
            "scenario": ["b_city"] * 4 + ["a_city"] * 2,
            "outcome": [
                *("co_opted", "state_restored", "co_opted", "co_opted"),  # b_city
                *("council_power", "state_restored"),  # a_city
            ],
        }
    )
    # outcome_table sorts the scenarios: a_city first, then b_city.
    return outcome_table(runs, ["scenario"], OUTCOMES)


def test_outcome_shares_stack_each_experiments_runs_in_its_own_bar():
    from dualpower_sim.plots import OUTCOME_COLOURS, plot_outcome_shares

    def pieces_of(ax):
        """(bar label, outcome) -> (left, width) of every piece drawn."""
        labels = [t.get_text() for t in ax.get_yticklabels()]
        ticks = dict(zip(labels, ax.get_yticks(), strict=True))
        pieces = {}
        for container in ax.containers:
            outcome = container.get_label()
            for patch in container.patches:
                bar = min(ticks, key=lambda name: abs(ticks[name] - patch.get_y() - 0.4))
                pieces[bar, outcome] = (patch.get_x(), patch.get_width())
                assert patch.get_facecolor()[:3] == to_rgb(OUTCOME_COLOURS[outcome])
        return pieces

    table = _outcome_table()
    fig = plot_outcome_shares(table, "scenario")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["a_city (2 runs)", "b_city (4 runs)"]
    # Only outcomes some run reached get a legend entry, in the table's order.
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["council_power", "state_restored", "co_opted"]
    pieces = pieces_of(ax)
    # Rows in another order draw the same bars (an experiment's shares stay in its bar): here
    # a_city comes first for council_power but second for every other outcome.
    shuffled = table.iloc[[0, 5, 6, 7, 8, 9, 1, 2, 3, 4]]
    assert list(table["scenario"]) == ["a_city"] * 5 + ["b_city"] * 5
    assert pieces_of(plot_outcome_shares(shuffled, "scenario").axes[0]) == pieces
    a, b = "a_city (2 runs)", "b_city (4 runs)"
    assert pieces[a, "council_power"] == pytest.approx((0.0, 0.5))
    assert pieces[a, "state_restored"] == pytest.approx((0.5, 0.5))
    assert pieces[a, "co_opted"][1] == pytest.approx(0.0)
    assert pieces[b, "council_power"][1] == pytest.approx(0.0)
    assert pieces[b, "state_restored"] == pytest.approx((0.0, 0.25))
    assert pieces[b, "co_opted"] == pytest.approx((0.25, 0.75))
    # Every bar adds up to all its runs, and each piece is labelled with its count of runs.
    for bar in (a, b):
        assert sum(w for (name, _), (_, w) in pieces.items() if name == bar) == pytest.approx(1)
    counts = sorted(t.get_text() for t in ax.texts if t.get_text())
    assert counts == ["1", "1", "1", "3"]


def _trajectories():
    rows = []
    for scenario, seed, days, dual, outcome in (
        ("petrograd", 1, 10, range(2, 5), "state_restored"),
        ("petrograd", 2, 6, (), "no_dual_power"),
        ("paris", 1, 8, range(0, 8), "unresolved"),
    ):
        for step in range(days):
            rows.append(
                {
                    "scenario": scenario,
                    "seed": seed,
                    "step": step,
                    "council_power": 0.01 * step + seed / 10,
                    "state_power": 1 - 0.02 * step,
                    "dual_power": float(step in dual),
                    "outcome": outcome,
                }
            )
    return pd.DataFrame(rows)


def test_power_trajectories_draw_each_run_of_each_experiment_in_its_panel():
    from dualpower_sim.plots import PALETTE, plot_power_trajectories

    table = _trajectories()
    fig = plot_power_trajectories(table, "scenario", thresholds=(0.2, 0.1))
    petrograd, paris = (ax for ax in fig.axes if ax.get_visible())
    assert petrograd.get_title(loc="left").splitlines() == [
        "petrograd",
        "state restored 1, no dual power 1",
    ]
    assert paris.get_title(loc="left").splitlines() == ["paris", "unresolved 1"]
    # Two runs: a council and a state line each, with that run's own values and length.
    council = [ln for ln in petrograd.lines if ln.get_color() == PALETTE[0] and ln.get_ls() == "-"]
    state = [ln for ln in petrograd.lines if ln.get_color() == PALETTE[1] and ln.get_ls() == "-"]
    assert len(council) == len(state) == 2
    assert sorted(len(ln.get_xdata()) for ln in council) == [6, 10]
    run2 = table[(table["scenario"] == "petrograd") & (table["seed"] == 2)]
    line2 = next(ln for ln in council if len(ln.get_xdata()) == 6)
    np.testing.assert_allclose(line2.get_ydata(), run2["council_power"])
    dashed = sorted(ln.get_ydata()[0] for ln in petrograd.lines if ln.get_ls() == "--")
    assert dashed == [0.1, 0.2]
    # Dual power shaded from its first day to the day after its last; none for run 2.
    spans = [p.get_extents() for p in petrograd.patches]
    assert len(spans) == 1
    (x0, _), (x1, _) = petrograd.transData.inverted().transform(spans[0].get_points())
    assert (x0, x1) == pytest.approx((2, 5))
    assert len(paris.patches) == 1
    assert fig.legends[0].get_title().get_text() == "Council power against state power"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["council power (a line per run)", "state power"]
    assert "state threshold" in legend


def test_power_trajectories_leave_no_empty_panels_visible():
    from dualpower_sim.plots import plot_power_trajectories

    fig = plot_power_trajectories(_trajectories(), "scenario", columns=3)
    assert sum(ax.get_visible() for ax in fig.axes) == 2


def test_the_powers_title_names_the_outcome_as_an_outcome():
    from dualpower_sim.plots import plot_powers

    steps = pd.RangeIndex(20, name="step")
    df = pd.DataFrame(
        {"council_power": np.linspace(0, 0.6, 20), "state_power": 0.4, "dual_power": False},
        index=steps,
    )
    fig = plot_powers(df, outcome="council_power")
    title = fig.axes[0].get_title(loc="left")
    assert title == "Council power against state power (outcome: council power)"
    assert plot_powers(df).axes[0].get_title(loc="left") == "Council power against state power"
