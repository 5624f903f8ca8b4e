"""Figures of scenario discovery (a plotting module beside :mod:`dualpower_sim.plots`).

They draw a :class:`~dualpower_sim.discovery.Discovery`: PRIM's peeling trajectory, the chosen
box's limits against the ranges the sweep sampled, the runs in the box's restricted
parameters, and the feature scores of several conditions. Like :mod:`dualpower_sim.plots`
(whose palette and small print they share), they return a ``matplotlib.figure.Figure``
without touching pyplot's global state, and never import the simulator. They live in their
own module so that :mod:`dualpower_sim.plots`, the figures of runs, sweeps and the city,
stays a size one can read.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .plots.style import OUTCOME_COLOURS, PALETTE, _footer, _legend_below

if TYPE_CHECKING:
    from .discovery import Discovery

__all__ = [
    "condition_colour",
    "plot_box_limits",
    "plot_box_pairs",
    "plot_feature_scores",
    "plot_peeling_trajectory",
]

#: The most restricted parameters :func:`plot_box_pairs` draws (the best-scoring ones).
MAX_PAIRS = 4


def condition_colour(condition: str) -> str:
    """The colour of a condition's cases: its outcome's colour, or purple for another."""
    for outcome, colour in OUTCOME_COLOURS.items():
        if condition in (f'outcome == "{outcome}"', f"outcome == '{outcome}'"):
            return colour if outcome != "no_dual_power" else "0.35"
    return PALETTE[3]


def _dims_colour(k: int) -> str:
    """A colour per number of restricted parameters (0: grey)."""
    order = (PALETTE[5], PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[1], PALETTE[3], PALETTE[7])
    return "0.6" if k == 0 else order[(k - 1) % len(order)]


def plot_peeling_trajectory(
    found: Discovery, *, title: str | None = None, footer: str | None = None
) -> Figure:
    """PRIM's peeling trajectory: coverage against density, one point per candidate box.

    Points are coloured by how many parameters the box restricts; boxes made by dropping a
    restriction that was not significant are diamonds, joined by a dotted line to the box they
    were made from; the chosen box is ringed and labelled; the density of the whole space (the
    share of all runs that meet the condition) is a dashed line, and the least coverage a
    chosen box may have a dotted one.

    Args:
        found: A discovery (``discovery.discover(...)``).
        title: Figure title; default names the condition.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    t = found.trajectory
    fig = Figure(figsize=(8, 5.6), layout="constrained")
    ax = fig.subplots()
    handles = []
    for k in sorted(t["restricted"].unique()):
        for kind, marker in (("peeling", "o"), ("dropped", "D")):
            rows = t[(t["restricted"] == k) & (t["kind"] == kind)]
            if rows.empty:
                continue
            ax.scatter(
                rows["coverage"],
                rows["density"],
                s=36,
                marker=marker,
                color=_dims_colour(int(k)),
                edgecolor="white",
                linewidth=0.5,
                zorder=3,
            )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=_dims_colour(int(k)),
                label=f"{k} restricted",
            )
        )
    if (t["kind"] == "dropped").any():
        handles.append(
            Line2D([], [], marker="D", ls="", mfc="white", mec="0.3", label="a restriction dropped")
        )
    peeling = t[t["kind"] == "peeling"]
    ax.plot(peeling["coverage"], peeling["density"], color="0.75", lw=0.8, zorder=2)
    for _, row in t[t["kind"] == "dropped"].iterrows():  # from the box each was made from
        parent = t.loc[int(row["made_from"])]
        ax.plot(
            [parent["coverage"], row["coverage"]],
            [parent["density"], row["density"]],
            color="0.45",
            lw=0.8,
            ls=":",
            zorder=2,
        )
    ax.axhline(found.base_rate, color="0.4", lw=0.9, ls="--")
    ax.text(
        0.02,
        found.base_rate,
        f" all runs: density {found.base_rate:.2f}",
        transform=ax.get_yaxis_transform(),
        va="bottom",
        fontsize=8,
        color="0.3",
    )
    chosen = t.loc[found.chosen]
    ax.scatter(
        [chosen["coverage"]],
        [chosen["density"]],
        s=260,
        facecolor="none",
        edgecolor="black",
        linewidth=1.6,
        zorder=4,
    )
    # The label goes to the side with room: left of a box near full coverage.
    right = chosen["coverage"] < 0.6
    ax.annotate(
        f"chosen box: coverage {chosen['coverage']:.2f}, density {chosen['density']:.2f},\n"
        f"{int(chosen['restricted'])} parameter{'s' if chosen['restricted'] != 1 else ''} "
        f"restricted, {int(chosen['runs'])} runs inside",
        (chosen["coverage"], chosen["density"]),
        xytext=(14 if right else -14, -26),
        textcoords="offset points",
        ha="left" if right else "right",
        va="top",
        fontsize=8,
        arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8},
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
    )
    handles.append(
        Line2D([], [], marker="o", ls="", mfc="none", mec="black", mew=1.6, ms=12, label="chosen")
    )
    # Coverage runs from 1 down to where peeling stopped: the axis starts a little before, and
    # before the least coverage a chosen box may have, drawn dotted.
    ax.axvline(found.min_coverage, color="0.4", lw=0.9, ls=":")
    ax.text(
        found.min_coverage,
        0.02,
        " least coverage\n of the chosen box",
        transform=ax.get_xaxis_transform(),
        fontsize=7,
        color="0.3",
        va="bottom",
    )
    low = min(float(t["coverage"].min()), found.min_coverage) - 0.05
    ax.set_xlim(max(0.0, low), 1.02)
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("coverage: share of the runs meeting the condition that lie in the box")
    ax.set_ylabel("density: share of the runs in the box\nthat meet the condition")
    ax.grid(alpha=0.3)
    _legend_below(ax, handles, ncol=min(len(handles), 5))
    ax.set_title(
        title or f"PRIM's peeling trajectory for {found.condition} ({found.cases} of {found.runs})",
        fontsize=11,
        loc="left",
    )
    _footer(fig, footer)
    return fig


def _qp_text(value: float) -> str:
    if math.isnan(value):
        return ""
    return "p < 0.001" if value < 0.001 else f"p = {value:.2g}"


def plot_box_limits(
    found: Discovery, *, title: str | None = None, footer: str | None = None
) -> Figure:
    """The chosen box's limits against the ranges the sweep sampled, one row per parameter.

    Each restricted parameter is a grey bar, its sampled range, scaled to the same length;
    the box is the coloured bar inside it, with each limit it sets written at its end with
    that limit's quasi-p-value (grey and italic when it is not significant). A side the box
    leaves open reaches the end of the range.

    Args:
        found: A discovery.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    box = found.box
    colour = condition_colour(found.condition)
    rows = max(len(box), 1)
    fig = Figure(figsize=(9, 1.1 + 0.75 * rows + 0.9), layout="constrained")
    ax = fig.subplots()
    labels = []
    for i, (name, row) in enumerate(box.iterrows()):
        lo, hi = row["range_low"], row["range_high"]
        span = (hi - lo) or 1.0
        # A side the box does not restrict reaches the range's end.
        low_cut, high_cut = not math.isnan(row["qp_low"]), not math.isnan(row["qp_high"])
        a = (row["low"] - lo) / span if low_cut else 0.0
        b = (row["high"] - lo) / span if high_cut else 1.0
        y = -i
        ax.barh(y, 1.0, left=0, height=0.5, color="0.88", edgecolor="0.7", lw=0.6)
        ax.barh(y, b - a, left=a, height=0.5, color=colour, alpha=0.85)
        for cut, end, value, qp, align, dx in (
            (low_cut, a, row["low"], row["qp_low"], "right", -0.01),
            (high_cut, b, row["high"], row["qp_high"], "left", 0.01),
        ):
            if not cut:
                continue
            ax.text(end + dx, y + 0.3, f"{value:.3g}", ha=align, va="bottom", fontsize=8)
            significant = qp < 0.05
            ax.text(
                end + dx,
                y - 0.3,
                _qp_text(qp),
                ha=align,
                va="top",
                fontsize=7,
                color="black" if significant else "0.55",
                style="normal" if significant else "italic",
            )
        labels.append(f"{name}\n(sampled {lo:.3g} to {hi:.3g})")
    if box.empty:
        ax.text(0.5, 0, "no box restricts any parameter", ha="center", va="center", color="0.4")
    ax.set_yticks([-i for i in range(len(box))], labels, fontsize=8)
    ax.set_ylim(-rows + 0.35, 0.75)
    ax.set_xlim(-0.12, 1.12)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["low end", "", "middle", "", "high end"])
    ax.set_xlabel("position in the sampled range (the box in colour; p: quasi-p-value of a limit)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(
        title
        or f"The box for {found.condition}: coverage {found.coverage:.2f}, "
        f"density {found.density:.2f} (all runs {found.base_rate:.2f})",
        fontsize=11,
        loc="left",
    )
    _footer(fig, footer)
    return fig


def plot_box_pairs(
    found: Discovery, *, title: str | None = None, footer: str | None = None
) -> Figure:
    """The runs in the box's restricted parameters, two at a time, coloured by the condition.

    One panel per pair of restricted parameters (the :data:`MAX_PAIRS` best-scoring ones);
    the box is the dashed rectangle. A box on one parameter is drawn against the
    best-scoring other parameter, across which it spans the whole range.

    Args:
        found: A discovery.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    restricted = [n for n in found.scores.index if n in set(found.restricted)][:MAX_PAIRS]
    if len(restricted) < 2:
        others = [n for n in found.scores.index if n not in restricted]
        names = (restricted + others)[:2]
    else:
        names = restricted
    pairs = list(itertools.combinations(names, 2))
    k = len(names) - 1
    fig = Figure(figsize=(max(3.3 * k + 1.6, 7.0), 3.1 * k + 1.9), layout="constrained")
    axes = np.atleast_2d(fig.subplots(k, k, squeeze=False))
    colour = condition_colour(found.condition)
    limits = found.limits[found.chosen]
    inside = found.y
    for i in range(k):
        for j in range(k):
            if j > i:
                axes[i, j].set_visible(False)
    for a, b in pairs:
        ax = axes[names.index(b) - 1, names.index(a)]
        x, y = found.x[a].to_numpy(), found.x[b].to_numpy()
        ax.scatter(x[~inside], y[~inside], s=10, color="0.7", lw=0, label="does not meet it")
        ax.scatter(
            x[inside], y[inside], s=16, marker="^", color=colour, lw=0, label="meets the condition"
        )
        lo_a, hi_a = limits.loc["low", a], limits.loc["high", a]
        lo_b, hi_b = limits.loc["low", b], limits.loc["high", b]
        ax.add_patch(
            Rectangle(
                (lo_a, lo_b),
                hi_a - lo_a,
                hi_b - lo_b,
                fill=False,
                ls="--",
                lw=1.4,
                edgecolor="black",
                zorder=4,
            )
        )
        for name, setter in ((a, ax.set_xlim), (b, ax.set_ylim)):
            lo, hi = found.ranges[name]
            pad = 0.03 * ((hi - lo) or 1.0)
            setter(lo - pad, hi + pad)
        ax.set_xlabel(a, fontsize=8)
        ax.set_ylabel(b, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    handles = [
        Line2D(
            [],
            [],
            marker="^",
            ls="",
            color=colour,
            label=f"meets the condition ({found.cases} runs)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color="0.7",
            label=f"does not ({found.runs - found.cases})",
        ),
        Patch(facecolor="none", edgecolor="black", ls="--", label="the box"),
    ]
    heading = title or (
        f"Runs in the box's parameters: {found.condition}"
        if len(restricted) >= 2
        else f"{found.condition}: runs against the box's parameter\nand the best-scoring other"
    )
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncol=3,
        fontsize=8,
        frameon=False,
        title=heading,
        title_fontsize=11,
    )
    _footer(fig, footer)
    return fig


def _short(condition: str) -> str:
    """A condition as a column label: an outcome's name alone, other text wrapped."""
    for quote in ('"', "'"):
        prefix = f"outcome == {quote}"
        if (
            condition.startswith(prefix)
            and condition.endswith(quote)
            and condition.count(quote) == 2
        ):
            return condition[len(prefix) : -1]
    words, lines, line = condition.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > 22:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def plot_feature_scores(
    scores: Mapping[str, pd.Series] | pd.DataFrame,
    *,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """Feature scores of several conditions as a table of shaded, numbered cells.

    Args:
        scores: Per condition, the scores of the parameters (``Discovery.scores``), or a
            table with a row per parameter and a column per condition.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    table = pd.DataFrame(scores) if not isinstance(scores, pd.DataFrame) else scores
    table = table.loc[table.max(axis=1).sort_values(ascending=False).index]
    rows, cols = table.shape
    fig = Figure(figsize=(4.2 + 1.25 * cols, 1.9 + 0.36 * rows), layout="constrained")
    ax = fig.subplots()
    values = table.to_numpy(dtype=float)
    top = max(float(np.nanmax(values)), 1e-9)
    image = ax.imshow(values, cmap="cividis", vmin=0, vmax=top, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        shade = image.cmap(image.norm(v))
        bright = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
        colour = "black" if bright > 0.5 else "white"
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(cols), [_short(str(c)) for c in table.columns], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(rows), table.index, fontsize=8)
    ax.tick_params(length=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="feature score")
    fig.suptitle(
        title or "Which conditions matter: extra-trees feature scores\n(each column sums to 1)",
        fontsize=11,
        x=0.02,
        ha="left",
    )
    _footer(fig, footer)
    return fig
