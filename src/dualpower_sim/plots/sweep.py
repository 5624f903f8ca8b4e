"""Figures of sweeps and of experiments compared: outcome curves, phase diagrams, shares.

The trajectories of several experiments' runs can also be drawn side by side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .style import (
    PALETTE,
    _days,
    _footer,
    _legend_below,
    _outcome_colour,
    _shade_days,
    _text_colour,
)

__all__ = [
    "plot_outcome_curves",
    "plot_outcome_shares",
    "plot_phase_diagram",
    "plot_power_trajectories",
]


def plot_outcome_curves(
    table: pd.DataFrame,
    parameter: str,
    tipping: Any = None,
    *,
    runs: pd.DataFrame | None = None,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """Probability of each outcome against one parameter, with its confidence band.

    The table may hold a probability per design point (``analysis.outcome_table``) or per
    quantile bin of the runs (``analysis.binned_outcome_table``, for a continuous design,
    where every run has its own value): bins are drawn at their runs' median, with their
    edges as faint lines. With ``runs``, every run is drawn as a tick below the curves (a
    rug), coloured by its outcome, so a reader sees where the runs lie.

    Args:
        table: An outcome table by ``parameter``: columns ``parameter``, ``outcome``, ``k``,
            ``n``, ``p``, ``low``, ``high`` (and ``bin_low``, ``bin_high`` for bins).
        parameter: The swept parameter.
        tipping: A tipping point or a list of them (``analysis.tipping_point``): a crossing
            is drawn as a vertical line with its interval shaded and its fitted logistic
            curve dashed, a separation as its gap shaded; a verdict of too few runs draws
            nothing.
        runs: The runs (``parameter`` and ``outcome`` columns), for the rug.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.subplots()
    binned = "bin_low" in table
    for outcome, rows in table.groupby("outcome", sort=False):
        if not (rows["k"] > 0).any():
            continue  # an outcome no run reached: a flat line at zero says nothing
        rows = rows.sort_values(parameter)
        colour = _outcome_colour(outcome)
        ax.plot(rows[parameter], rows["p"], "o-", color=colour, lw=1.8, ms=4, label=outcome)
        ax.fill_between(rows[parameter], rows["low"], rows["high"], color=colour, alpha=0.15)
    if binned:  # where one bin ends and the next begins
        edges = table.drop_duplicates("bin_low").sort_values("bin_low")
        for left, right in zip(edges["bin_high"][:-1], edges["bin_low"][1:], strict=True):
            ax.axvline((left + right) / 2, color="0.8", lw=0.6, zorder=0)
    ax.axhline(0.5, color="0.4", lw=0.8, ls=":")
    tippings = tipping if isinstance(tipping, list | tuple) else [tipping] if tipping else []
    low_x = table["bin_low"].min() if binned else table[parameter].min()
    high_x = table["bin_high"].max() if binned else table[parameter].max()
    xs = np.linspace(low_x, high_x, 200)
    for tp in tippings:
        colour = _outcome_colour(tp.outcome)
        verdict = getattr(tp, "verdict", "crossing")
        if verdict in ("crossing", "not crossed", "not located"):
            # The fitted curve a crossing comes from, so a reader can judge the fit.
            ax.plot(
                xs,
                tp.probability(xs),
                color=colour,
                lw=1,
                ls="--",
                label=f"logistic fit, {tp.outcome}",
            )
        # The estimate goes in the legend, below the axes: inside them every corner can hold
        # a curve at 0 or 1 (two outcomes crossing fill all four), and a box there hid points.
        if verdict == "crossing":
            ax.axvline(
                tp.estimate,
                color=colour,
                lw=1.2,
                ls=":",
                label=(
                    f"P({tp.outcome}) = {tp.level} at {tp.estimate:.3g} "
                    f"(95% interval {tp.low:.3g} to {tp.high:.3g})"
                ),
            )
            ax.axvspan(max(tp.low, xs[0]), min(tp.high, xs[-1]), color=colour, alpha=0.1, lw=0)
        elif verdict == "separation":
            ax.axvspan(
                tp.low,
                tp.high,
                color=colour,
                alpha=0.15,
                lw=0,
                label=(
                    f"{tp.outcome}: runs separated, crossing between {tp.low:.3g} and {tp.high:.3g}"
                ),
            )
    n = int(table["n"].min()) if len(table) else 0
    ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    if runs is not None and len(runs):
        done = runs[runs["outcome"].notna()]
        colours = [_outcome_colour(str(o)) for o in done["outcome"]]
        ax.vlines(done[parameter].astype(float), -0.11, -0.04, colors=colours, lw=0.7, alpha=0.7)
        ax.set_ylim(-0.12, 1.02)
        ax.set_yticks([-0.075, *ticks], ["runs", *(f"{t:g}" for t in ticks)])
    else:
        ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(parameter)
    ax.set_ylabel("probability of the outcome")
    ax.grid(alpha=0.3)
    _legend_below(ax, ncol=3)
    what = f"quantile bins of {n}+ runs" if binned else f"{n}+ runs a point"
    ax.set_title(
        title or f"Outcomes against {parameter} ({what}, 95% intervals)",
        fontsize=11,
        loc="left",
    )
    _footer(fig, footer)
    return fig


def plot_phase_diagram(
    table: pd.DataFrame,
    x: str,
    y: str,
    outcomes: list[str] | None = None,
    *,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """Phase diagrams over two parameters: each outcome's probability, the 0.5 boundary drawn.

    Args:
        table: An outcome table by ``x`` and ``y`` (``analysis.outcome_table(runs, [x, y],
            outcomes)``), on a grid.
        x: Parameter on the horizontal axis.
        y: Parameter on the vertical axis.
        outcomes: The outcomes to draw, one panel each (default: every outcome some run
            reached).
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    reached = [o for o, rows in table.groupby("outcome", sort=False) if (rows["k"] > 0).any()]
    outcomes = outcomes or reached or list(table["outcome"].unique())
    cols = min(len(outcomes), 3)
    rows_n = math.ceil(len(outcomes) / cols)
    fig = Figure(figsize=(4.2 * cols + 1, 3.8 * rows_n + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows_n, cols, squeeze=False)).ravel()
    image = None
    for ax, outcome in zip(axes, outcomes, strict=False):
        grid = table[table["outcome"] == outcome].pivot(index=y, columns=x, values="p")
        xs, ys = grid.columns.to_numpy(float), grid.index.to_numpy(float)
        image = ax.pcolormesh(
            _edges(xs), _edges(ys), grid.to_numpy(float), cmap="cividis", vmin=0, vmax=1
        )
        if len(xs) > 1 and len(ys) > 1 and np.nanmin(grid) < 0.5 < np.nanmax(grid):
            ax.contour(xs, ys, grid.to_numpy(float), levels=[0.5], colors="white", linewidths=1.6)
        ax.set_title(f"P({outcome})", fontsize=10, loc="left")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes[: len(outcomes)].tolist(), label="probability (white: 0.5)")
    fig.suptitle(title or f"Where dual power resolves: {x} against {y}", fontsize=12)
    _footer(fig, footer)
    return fig


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around grid centres (for pcolormesh)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mids = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mids[0]], mids, [2 * centres[-1] - mids[-1]]])


def plot_outcome_shares(
    table: pd.DataFrame,
    by: str,
    *,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """How each experiment's runs ended: one bar per experiment, split by outcome.

    Each bar is stacked from the outcomes' shares of that experiment's runs, in the table's
    order of outcomes, and each piece is labelled with its number of runs; the bar's label says
    how many runs it holds. The table's ``low`` and ``high`` columns (the intervals) are not
    drawn: with a few runs an experiment's shares are known only roughly, and the run counts
    say so.

    Args:
        table: An outcome table by ``by`` (``analysis.outcome_table(runs, [by], outcomes)``):
            columns ``by``, ``outcome``, ``k`` (runs that ended so), ``n`` (runs) and ``p``.
        by: The column naming the experiments (e.g. ``"scenario"``); bars run top to bottom in
            the order the experiments first appear in the table.
        title: Figure title; default names the number of runs per experiment.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    groups = list(dict.fromkeys(table[by]))
    outcomes = list(dict.fromkeys(table["outcome"]))
    reached = [o for o in outcomes if (table.loc[table["outcome"] == o, "k"] > 0).any()]
    fig = Figure(figsize=(9, 0.5 * len(groups) + 1.9), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    indexed = table.set_index([by, "outcome"])
    n = table.groupby(by, sort=False)["n"].max().reindex(groups).to_numpy()
    for outcome in reached:
        rows = indexed.xs(outcome, level="outcome").reindex(groups)
        share = rows["p"].fillna(0.0).to_numpy(float)
        k = rows["k"].fillna(0).to_numpy(int)
        colour = _outcome_colour(outcome)
        bars = ax.barh(y, share, left=left, color=colour, edgecolor="white", lw=0.8, label=outcome)
        ax.bar_label(
            bars,
            labels=[str(v) if v else "" for v in k],
            label_type="center",
            fontsize=8,
            color=_text_colour(colour),
        )
        left += share
    ax.set_yticks(y, [f"{g} ({m} runs)" for g, m in zip(groups, n, strict=True)])
    ax.invert_yaxis()  # the first experiment on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of runs (numbers: runs ending so)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    _legend_below(ax, ncol=len(reached) or 1)
    runs = f"{int(n.min())} runs each" if len(n) and n.min() == n.max() else "runs"
    ax.set_title(title or f"How the runs ended ({runs})", fontsize=11, loc="left")
    _footer(fig, footer)
    return fig


def plot_power_trajectories(
    trajectories: pd.DataFrame,
    by: str,
    run: str = "seed",
    *,
    columns: int = 4,
    thresholds: tuple[float, float] | None = None,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """Council and state power over time, one panel per experiment, one pair of lines per run.

    Each run's council power and state power are drawn as thin lines and the days it held dual
    power are shaded; where several runs held dual power on the same days the shading is darker.
    A run's lines stop on the day it resolved. With an ``outcome`` column, each panel's title
    also counts how its runs ended.

    Args:
        trajectories: A long table, one row per run and day: ``by`` (the experiment), ``run``
            (the run within it), ``step`` (the day), ``council_power`` and ``state_power``
            (0 to 1), and optionally ``dual_power`` (1 on days it held, else 0) and ``outcome``.
        by: The column naming the experiments; panels follow their order of first appearance.
        run: The column telling runs of one experiment apart (e.g. ``"seed"``).
        columns: Panels per row.
        thresholds: The council and state power thresholds of dual power, drawn dashed in
            every panel (when every experiment has the same ones).
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    groups = list(dict.fromkeys(trajectories[by]))
    cols = max(1, min(columns, len(groups)))
    rows_n = math.ceil(len(groups) / cols)
    fig = Figure(figsize=(3.4 * cols + 0.6, 2.7 * rows_n + 1.2), layout="constrained")
    axes = fig.subplots(rows_n, cols, squeeze=False, sharey=True).ravel()
    for ax, group in zip(axes, groups, strict=False):
        in_group = trajectories[trajectories[by] == group]
        runs = list(dict.fromkeys(in_group[run]))
        # Each run adds its share of shade, so days every run held dual power reach 0.45.
        alpha = 0.45 / len(runs)
        for key in runs:
            df = in_group[in_group[run] == key].sort_values("step").set_index("step")
            _shade_days(ax, df, "dual_power", PALETTE[4], alpha)
            days = _days(df)
            ax.plot(days, df["council_power"], color=PALETTE[0], lw=1.1, alpha=0.85)
            ax.plot(days, df["state_power"], color=PALETTE[1], lw=1.1, alpha=0.85)
        for value, colour in zip(thresholds or (), PALETTE[:2], strict=False):
            ax.axhline(value, color=colour, lw=0.9, ls="--")
        heading = str(group)
        if "outcome" in in_group:
            ends = in_group.groupby(run, sort=False)["outcome"].last().value_counts(sort=False)
            heading += "\n" + ", ".join(f"{o.replace('_', ' ')} {c}" for o, c in ends.items())
        ax.set_title(heading, fontsize=9, loc="left")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("power (0 to 1)")
    for ax in axes[: len(groups)][-cols:]:
        ax.set_xlabel("day")
    handles = [
        Line2D([], [], color=PALETTE[0], lw=1.6, label="council power (a line per run)"),
        Line2D([], [], color=PALETTE[1], lw=1.6, label="state power"),
        Patch(color=PALETTE[4], alpha=0.3, lw=0, label="dual power (darker: more runs)"),
    ]
    if thresholds is not None:
        handles[2:2] = [
            Line2D([], [], color=colour, lw=0.9, ls="--", label=f"{who} threshold")
            for colour, who in zip(PALETTE[:2], ("council", "state"), strict=True)
        ]
    # The legend goes above the panels, under the title (as its own title: constrained layout
    # would put a suptitle on top of an outside legend), where it never meets the footer.
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        title=title or "Council power against state power",
        title_fontsize=12,
    )
    _footer(fig, footer)
    return fig
