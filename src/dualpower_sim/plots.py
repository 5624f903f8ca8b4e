"""Figures of a run, from its tables (with discovery_plots.py, the only matplotlib importers).

Functions take tables (the indicators, the event log) and plain values, and return a
``matplotlib.figure.Figure`` without touching pyplot's global state, so they work the same in
scripts, notebooks and tests; save with ``fig.savefig(path)``. They never import the simulator,
so a finished run's folder can be redrawn without it. The palette is Okabe and Ito's
colour-blind-safe set; events are told apart by marker shape as well as colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

__all__ = [
    "EVENT_MARKS",
    "MAP_FIRMS",
    "MOBILIZATION_PANELS",
    "OUTCOME_COLOURS",
    "PALETTE",
    "plot_city_map",
    "plot_councils",
    "plot_federation",
    "plot_mobilization",
    "plot_outcome_curves",
    "plot_outcome_shares",
    "plot_phase_diagram",
    "plot_power_trajectories",
    "plot_powers",
    "plot_state",
    "run_figures",
]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _panel(ax, df: pd.DataFrame, columns: dict[str, str], title: str) -> None:
    for i, (col, label) in enumerate(columns.items()):
        if col in df and df[col].notna().any():
            ax.plot(df.index, df[col], color=PALETTE[i % len(PALETTE)], label=label, linewidth=1.6)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylim(-0.02, 1.02)
    days = _days(df)
    if len(days):  # a run of one day still gets a day-wide axis, not one around a point
        ax.set_xlim(days[0], max(days[-1], days[0] + 1))
    ax.set_xlabel("day")
    ax.grid(alpha=0.3)
    # Legends below the panel, where they never hide a line.
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)


#: The panels :func:`plot_mobilization` can draw, in the order it draws them.
MOBILIZATION_PANELS = ("overall", "layers", "firm_sizes", "sectors")


def plot_mobilization(
    indicators: pd.DataFrame,
    title: str | None = None,
    footer: str | None = None,
    panels: Sequence[str] = MOBILIZATION_PANELS,
) -> Figure:
    """Mobilization: overall, by layer, by firm size, by sector (one panel each).

    Args:
        indicators: Per-step indicators (``DualPowerModel.indicators()``), indexed by step.
        title: Figure title; default describes the run length.
        footer: A line of small print at the bottom (which run this is).
        panels: Which panels to draw, from :data:`MOBILIZATION_PANELS`: ``"overall"``
            (mobilized, jailed, hardship, legitimacy), ``"layers"`` (striking, blockading,
            occupying), ``"firm_sizes"``, ``"sectors"``. One or two panels sit side by side.

    Returns:
        The figure.

    Raises:
        ValueError: On an unknown or repeated panel name.
    """
    unknown = [p for p in panels if p not in MOBILIZATION_PANELS]
    if unknown or not panels or len(set(panels)) != len(panels):
        raise ValueError(
            f"panels = {list(panels)!r} is not allowed; allowed: distinct names from "
            f"{', '.join(MOBILIZATION_PANELS)}"
        )
    df = indicators
    n = len(panels)
    rows, cols = (1, n) if n <= 2 else (2, 2)
    fig = Figure(figsize=(5.5 * cols, 4.5 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    bands = {
        c: c.removeprefix("mobilized_firms_").replace("_", "-").replace("-plus", "+") + " workers"
        for c in df.columns
        if c.startswith("mobilized_firms_")
    }
    sectors = {
        c: c.removeprefix("mobilized_sector_").replace("_", " ")
        for c in df.columns
        if c.startswith("mobilized_sector_")
    }
    content = {
        "overall": (
            {
                "mobilized": "mobilized",
                "jailed": "jailed",
                "hardship": "mean hardship",
                "legitimacy": "state legitimacy",
            },
            "Workers mobilized and jailed, mean hardship, legitimacy (0 to 1)",
        ),
        "layers": (
            {
                "striking": "striking (workforce)",
                "blockading": "blockading (residents)",
                "occupying": "occupying (students)",
            },
            "By layer: share in firms, neighbourhoods, campuses past the quorum",
        ),
        "firm_sizes": (bands, "Mobilized share by firm size"),
        "sectors": (sectors, "Mobilized share by sector"),
    }
    for i, (ax, name) in enumerate(zip(axes, panels, strict=False)):
        columns, heading = content[name]
        _panel(ax, df, columns, heading)
        if i % cols == 0:
            ax.set_ylabel("share")
    fig.suptitle(title or f"Mobilization over {len(df) - 1} days", fontsize=12)
    _footer(fig, footer)
    return fig


#: How each event of the log is marked on the powers' plot: label, colour, marker. Other events
#: (councils formed or dissolved one by one, defections) are too many to mark; the councils'
#: and soldiers' plots show them as counts.
EVENT_MARKS: dict[str, tuple[str, str, str]] = {
    "federation_founded": ("federation founded", PALETTE[2], "o"),
    "repression_wave": ("repression wave", PALETTE[7], "x"),
    "concession": ("concessions", PALETTE[5], "s"),
    "offensive": ("state offensive", PALETTE[1], "v"),
    "offensive_repelled": ("offensive repelled", PALETTE[1], "^"),
    "regime_change": ("the government gave way", PALETTE[4], "D"),
    "insurrection": ("insurrection", PALETTE[3], "*"),
}


def _footer(fig: Figure, footer: str | None) -> None:
    if footer:  # as the figure's x label, so that constrained layout makes room for it
        fig.supxlabel(footer, x=0.995, ha="right", fontsize=7, color="0.4")


def _days(df: pd.DataFrame) -> np.ndarray:
    return np.asarray(df.index, dtype=float)


def _shade_days(ax, df: pd.DataFrame, column: str, colour: str, alpha: float) -> bool:
    """Shade the days when a 0/1 indicator held; True if it ever did."""
    if column not in df:
        return False
    held = df[column].to_numpy() > 0.5
    if not held.any():
        return False
    days = _days(df)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], held.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        # A day's state holds from that day to the next: shade [first day, last day + 1).
        ax.axvspan(days[start], days[stop - 1] + 1, color=colour, alpha=alpha, lw=0)
    return True


def _line_panel(ax, df: pd.DataFrame, lines, title: str, ylabel: str, share: bool = True) -> None:
    """Draw ``(column, label, colour, style)`` lines on a titled, gridded panel."""
    days = _days(df)
    for col, label, colour, style in lines:
        ax.plot(days, df[col], color=colour, lw=1.8, ls=style, label=label)
    if share:
        ax.set_ylim(-0.02, 1.02)
    else:
        ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(alpha=0.3)


def _mark_events(ax, events: pd.DataFrame | None, y: float, dy: float = 0.03) -> list:
    """Markers above a panel for the key events, one row per kind; returns legend handles."""
    handles = []
    if events is None or events.empty:
        return handles
    row = 0
    for name, (label, colour, marker) in EVENT_MARKS.items():
        rows = events[events["event"] == name]
        if rows.empty:
            continue
        y_here = y + dy * row  # each kind on its own row, so events on one day do not overlap
        row += 1
        if name == "insurrection":
            for ok, sub in rows.groupby(rows["detail"] == "succeeded"):
                text = "insurrection " + ("succeeded" if ok else "failed")
                handles.append(
                    ax.scatter(
                        sub["step"],
                        np.full(len(sub), y_here),
                        marker=marker,
                        s=90,
                        color=colour,
                        edgecolor="black" if ok else colour,
                        zorder=5,
                        label=text,
                        clip_on=False,
                    )
                )
            continue
        handles.append(
            ax.scatter(
                rows["step"],
                np.full(len(rows), y_here),
                marker=marker,
                s=40,
                color=colour,
                zorder=5,
                label=label,
                clip_on=False,
            )
        )
        for step in rows["step"]:
            ax.axvline(step, color=colour, lw=0.6, alpha=0.5, ls=":")
    return handles


def _legend_below(ax, handles=None, ncol: int = 3) -> None:
    kwargs = {"handles": handles} if handles is not None else {}
    ax.legend(
        **kwargs,
        fontsize=8,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=ncol,
    )


def plot_powers(
    indicators: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    thresholds: tuple[float, float] | None = None,
    outcome: str | None = None,
    title: str | None = None,
    footer: str | None = None,
    figsize: tuple[float, float] = (10.0, 5.2),
) -> Figure:
    """The two powers over time, with the dual-power interval shaded and key events marked.

    Args:
        indicators: Per-step indicators, indexed by step.
        events: The event log (``step``, ``event``, ``magnitude``, ``detail``), or None.
        thresholds: The council and state power thresholds of dual power, drawn dashed.
        outcome: The run's outcome, for the title.
        title: Figure title; by default it names the outcome.
        footer: A line of small print at the bottom.
        figsize: Figure size in inches.

    Returns:
        The figure.
    """
    df = indicators
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    days = _days(df)
    lines = [
        ax.plot(days, df["council_power"], color=PALETTE[0], lw=2, label="council power")[0],
        ax.plot(days, df["state_power"], color=PALETTE[1], lw=2, label="state power")[0],
    ]
    if thresholds is not None:
        for value, colour, who in zip(thresholds, PALETTE[:2], ("council", "state"), strict=True):
            lines.append(ax.axhline(value, color=colour, lw=1, ls="--", label=f"{who} threshold"))
    if _shade_days(ax, df, "dual_power", PALETTE[4], 0.18):
        lines.append(ax.fill_between([], [], color=PALETTE[4], alpha=0.3, lw=0, label="dual power"))
    marks = _mark_events(ax, events, 1.04)
    lines += marks
    ax.set_ylim(0, 1.06 + 0.03 * len({h.get_label().split()[0] for h in marks}))
    last = max(days[-1], days[0] + 1)
    # A little room on the right, so a marker on the last day (the insurrection that ended
    # the run) is drawn whole rather than cut by the figure's edge.
    ax.set_xlim(days[0], last + 0.02 * (last - days[0]))
    ax.set_xlabel("day")
    ax.set_ylabel("power (0 to 1)")
    ax.grid(alpha=0.3)
    _legend_below(ax, lines, ncol=4)
    heading = title or "Council power against state power" + (
        f": {outcome.replace('_', ' ')}" if outcome else ""
    )
    ax.set_title(heading, fontsize=12, loc="left")
    _footer(fig, footer)
    return fig


def plot_councils(
    indicators: pd.DataFrame,
    *,
    majority: float | None = None,
    title: str | None = None,
    footer: str | None = None,
) -> Figure:
    """Councils and their federation: how many sit, their cohesion, their revolutionary share.

    Args:
        indicators: Per-step indicators, indexed by step.
        majority: The revolutionary share the federation needs to move to take power, drawn
            dashed.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(11, 8), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    councils = (
        ("workplace_councils", "workplace councils (soviets)", PALETTE[0], "-"),
        ("assemblies", "neighbourhood assemblies", PALETTE[2], "-"),
        ("federation_councils", "in the city-wide federation", PALETTE[3], "-"),
    )
    _line_panel(
        top, indicators, councils, "Councils and their federation", "councils sitting", False
    )
    _legend_below(top)
    inside = (
        ("cohesion", "federation cohesion (cuts across trade, union, allegiance)", PALETTE[3], "-"),
        ("revolutionary_share", "revolutionary share in the federation", PALETTE[1], "-"),
        ("federation_members", "federation members (share of workers)", PALETTE[5], "-"),
        ("council_members", "council members (share of workers)", PALETTE[0], ":"),
    )
    _line_panel(bottom, indicators, inside, "Inside the federation", "share (0 to 1)")
    if majority is not None:
        bottom.axhline(
            majority,
            color=PALETTE[1],
            lw=1,
            ls="--",
            label="revolutionary majority needed to take power",
        )
    bottom.set_xlabel("day")
    _legend_below(bottom, ncol=2)
    fig.suptitle(title or "The councils", fontsize=12)
    _footer(fig, footer)
    return fig


def plot_state(
    indicators: pd.DataFrame, *, title: str | None = None, footer: str | None = None
) -> Figure:
    """The state: legitimacy, soldiers' loyalty and defections, and its levers.

    Args:
        indicators: Per-step indicators, indexed by step.
        title: Figure title.
        footer: A line of small print at the bottom.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(11, 8), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    army = (
        ("legitimacy", "legitimacy", PALETTE[0], "-"),
        ("soldiers_loyalty", "soldiers' mean loyalty (those still loyal)", PALETTE[2], "-"),
        ("defected", "soldiers gone over (share)", PALETTE[1], "-"),
    )
    _line_panel(top, indicators, army, "Legitimacy and the army", "share (0 to 1)")
    _legend_below(top)
    levers = (
        ("repression", "repression", PALETTE[7], "-"),
        ("concession", "concessions", PALETTE[5], "-"),
    )
    _line_panel(bottom, indicators, levers, "The state's strategy", "level (0 to 1)")
    if _shade_days(bottom, indicators, "offensive", PALETTE[1], 0.2):
        bottom.fill_between([], [], color=PALETTE[1], alpha=0.3, lw=0, label="on the offensive")
    bottom.set_xlabel("day")
    _legend_below(bottom)
    fig.suptitle(title or "The state", fontsize=12)
    _footer(fig, footer)
    return fig


def run_figures(
    indicators: pd.DataFrame,
    events: pd.DataFrame | None = None,
    summary: Mapping[str, Any] | None = None,
) -> dict[str, Figure]:
    """Every figure of a run, by file name (without extension).

    Args:
        indicators: Per-step indicators, indexed by step.
        events: The event log.
        summary: The run's summary (``summary.json``): its name, outcome, seed, config hash and
            thresholds go into titles and footers.

    Returns:
        ``powers``, ``mobilization``, and, when the run had councils (``dual_power``), also
        ``councils`` and ``state``.
    """
    s = dict(summary or {})
    name = s.get("name", "run")
    footer_bits = [
        name,
        f"seed {s['seed']}" if "seed" in s else None,
        f"config {str(s['config_hash'])[:12]}" if "config_hash" in s else None,
        f"dualpower_sim {s['version']}" if "version" in s else None,
    ]
    footer = " · ".join(b for b in footer_bits if b)
    thresholds = s.get("thresholds")
    figures = {
        "powers": plot_powers(
            indicators,
            events,
            thresholds=tuple(thresholds) if thresholds else None,
            outcome=s.get("outcome"),
            title=None,
            footer=footer,
        ),
        "mobilization": plot_mobilization(
            indicators, title=f"{name}: mobilization over {len(indicators) - 1} days", footer=footer
        ),
    }
    if s.get("dual_power", True):
        figures["councils"] = plot_councils(
            indicators, majority=s.get("majority"), title=f"{name}: the councils", footer=footer
        )
        figures["state"] = plot_state(indicators, title=f"{name}: the state", footer=footer)
    return figures


# --------------------------------------------------------------------------------------------
# The city as a map, and the federation as a network (the app's live views)
# --------------------------------------------------------------------------------------------

#: How many firms a map draws at most (the largest); a city of informal work has thousands.
MAP_FIRMS = 1500
#: Workforce of the firm drawn with a 300 pt^2 marker on the map.
MAP_BIG_FIRM = 5000


def _legend_right(fig: Figure, handles) -> None:
    """A legend in its own column at the right of a wide figure (maps keep their aspect)."""
    fig.legend(handles=handles, loc="outside right center", fontsize=9, frameon=False)


def plot_city_map(
    neighbourhoods: pd.DataFrame,
    firms: pd.DataFrame,
    councils: pd.DataFrame,
    *,
    title: str | None = None,
    footer: str | None = None,
    figsize: tuple[float, float] = (10.0, 5.2),
) -> Figure:
    """The city on its neighbourhood grid: mobilization, blockades, firms, councils.

    Args:
        neighbourhoods: One row per neighbourhood: ``x``, ``y`` (grid cell), ``mobilized``
            (mobilized share of its residents, in [0, 1]) and ``blockading`` (bool: at or
            above the action quorum).
        firms: One row per firm: ``x``, ``y`` (position on the grid), ``size`` (workers) and
            ``striking`` (bool). At most :data:`MAP_FIRMS` of the largest are drawn.
        councils: One row per sitting council: ``x``, ``y``, ``kind`` (``"workplace"`` or
            ``"territorial"``) and ``federated`` (bool).
        title: Figure title.
        footer: A line of small print at the bottom.
        figsize: Figure size in inches.

    Returns:
        The figure.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    xs = neighbourhoods["x"].to_numpy(int)
    ys = neighbourhoods["y"].to_numpy(int)
    width, height = int(xs.max()) + 1, int(ys.max()) + 1
    grid = np.full((height, width), np.nan)
    grid[ys, xs] = neighbourhoods["mobilized"].to_numpy(float)
    image = ax.imshow(
        grid,
        origin="lower",
        cmap="Blues",
        vmin=0.0,
        vmax=1.0,
        extent=(-0.5, width - 0.5, -0.5, height - 0.5),
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, shrink=0.85, label="mobilized share of residents")
    # Grid cells with no neighbourhood show the background: grey, not the white of "nobody out".
    ax.set_facecolor("0.82")
    handles = []
    if np.isnan(grid).any():
        handles.append(Rectangle((0, 0), 1, 1, fc="0.82", ec="none", label="no neighbourhood"))
    blocked = neighbourhoods[neighbourhoods["blockading"].to_numpy(bool)]
    if len(blocked):
        boxes = [
            Rectangle((x - 0.5, y - 0.5), 1, 1)
            for x, y in zip(blocked["x"], blocked["y"], strict=True)
        ]
        ax.add_collection(
            PatchCollection(boxes, facecolor="none", edgecolor=PALETTE[7], linewidth=2, zorder=3)
        )
        handles.append(Rectangle((0, 0), 1, 1, fc="none", ec=PALETTE[7], lw=2, label="blockade"))
    shown = firms.nlargest(MAP_FIRMS, "size") if len(firms) > MAP_FIRMS else firms
    if len(shown):
        # Marker area grows with the square root of the workforce, on one scale for every city
        # (a firm of MAP_BIG_FIRM workers gets 300 pt^2), so workshops stay small dots beside a
        # giant plant and a city of workshops does not look like one of plants.
        area = 300.0 * np.sqrt(shown["size"].to_numpy(float) / MAP_BIG_FIRM)
        striking = shown["striking"].to_numpy(bool)
        for mask, face, label in (
            (~striking, "white", "firm (area: workers)"),
            (striking, PALETTE[1], "firm on strike"),
        ):
            if mask.any():
                handles.append(
                    ax.scatter(
                        shown["x"][mask],
                        shown["y"][mask],
                        s=np.maximum(area[mask], 3.0),
                        facecolor=face,
                        edgecolor="0.25",
                        linewidth=0.5,
                        alpha=0.85,
                        zorder=4,
                        label=label,
                    )
                )
    for kind, marker, name in (
        ("workplace", "^", "workplace council"),
        ("territorial", "D", "assembly"),
    ):
        rows = councils[councils["kind"] == kind]
        for federated, face, suffix in ((True, PALETTE[3], " (federated)"), (False, "white", "")):
            sub = rows[rows["federated"].to_numpy(bool) == federated]
            if len(sub):
                handles.append(
                    ax.scatter(
                        sub["x"],
                        sub["y"],
                        marker=marker,
                        s=46,
                        facecolor=face,
                        edgecolor=PALETTE[3],
                        linewidth=1.2,
                        zorder=5,
                        label=name + suffix,
                    )
                )
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(-0.5, height - 0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if handles:
        _legend_right(fig, handles)
    drawn = (
        "" if len(shown) == len(firms) else f"; the {len(shown):,} largest of {len(firms):,} firms"
    )
    ax.set_title(
        title or f"The city: {len(neighbourhoods):,} neighbourhoods{drawn}", fontsize=11, loc="left"
    )
    _footer(fig, footer)
    return fig


def plot_federation(
    councils: pd.DataFrame,
    ties: pd.DataFrame,
    *,
    title: str | None = None,
    footer: str | None = None,
    figsize: tuple[float, float] = (10.0, 5.2),
) -> Figure:
    """The sitting councils as a network, placed where they sit in the city.

    Args:
        councils: One row per sitting council, indexed by unit: ``x``, ``y`` (position),
            ``kind`` (``"workplace"`` or ``"territorial"``), ``federated`` (bool), ``members``
            and ``revolutionary`` (revolutionary share of its members, in [0, 1]).
        ties: One row per pair of councils whose members know each other: ``a``, ``b`` (units,
            as in the index of ``councils``) and ``weight`` (ties between their members). Only
            the strongest, three per council, are drawn, so the picture stays readable.
        title: Figure title.
        footer: A line of small print at the bottom.
        figsize: Figure size in inches.

    Returns:
        The figure.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    n_fed = int(councils["federated"].sum()) if len(councils) else 0
    if len(ties) > 3 * len(councils):
        ties = ties.nlargest(3 * len(councils), "weight")
    if len(ties):
        a = councils.loc[ties["a"], ["x", "y"]].to_numpy(float)
        b = councils.loc[ties["b"], ["x", "y"]].to_numpy(float)
        weight = ties["weight"].to_numpy(float)
        ax.add_collection(
            LineCollection(
                np.stack([a, b], axis=1),
                colors="0.45",
                linewidths=0.4 + 2.0 * weight / weight.max(),
                alpha=0.5,
                zorder=1,
            )
        )
    image = None
    for kind, marker in (("workplace", "^"), ("territorial", "D")):
        rows = councils[councils["kind"] == kind]
        if not len(rows):
            continue
        members = rows["members"].to_numpy(float)
        # Many councils get smaller markers, so that a city of 500 assemblies stays legible.
        crowding = min(1.0, math.sqrt(40.0 / len(councils)))
        image = ax.scatter(
            rows["x"],
            rows["y"],
            marker=marker,
            s=crowding * (30 + 400 * np.sqrt(members / max(float(councils["members"].max()), 1.0))),
            c=rows["revolutionary"].to_numpy(float),
            cmap="RdBu_r",
            vmin=0.0,
            vmax=1.0,
            edgecolors=np.where(rows["federated"].to_numpy(bool), "black", "0.6"),
            linewidths=np.where(rows["federated"].to_numpy(bool), 1.6, 0.6),
            zorder=3,
        )
    if image is not None:
        fig.colorbar(image, ax=ax, shrink=0.85, label="revolutionary share of members")
        legend = [
            Line2D(
                [], [], marker="^", ls="", mfc="0.85", mec="0.3", ms=9, label="workplace council"
            ),
            Line2D([], [], marker="D", ls="", mfc="0.85", mec="0.3", ms=8, label="assembly"),
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                mfc="0.85",
                mec="black",
                mew=1.6,
                ms=9,
                label="federated (black rim)",
            ),
            Line2D([], [], color="0.45", lw=1.5, label="members know each other (strongest)"),
        ]
        _legend_right(fig, legend)
        ax.margins(0.08)
    else:
        ax.text(
            0.5,
            0.5,
            "no council sits yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        title or f"Councils: {len(councils)} sitting, {n_fed} in the federation (size: members)",
        fontsize=11,
        loc="left",
    )
    _footer(fig, footer)
    return fig


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------

#: A colour per outcome, the same in every sweep figure.
OUTCOME_COLOURS = {
    "council_power": PALETTE[0],
    "state_restored": PALETTE[1],
    "co_opted": PALETTE[2],
    "unresolved": PALETTE[4],
    "no_dual_power": "0.55",
}


def _outcome_colour(outcome: str) -> str:
    return OUTCOME_COLOURS.get(outcome, PALETTE[3])


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
    texts = 0
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
        if verdict == "crossing":
            ax.axvline(tp.estimate, color=colour, lw=1.2, ls=":")
            ax.axvspan(max(tp.low, xs[0]), min(tp.high, xs[-1]), color=colour, alpha=0.1, lw=0)
            text = (
                f"P({tp.outcome}) = {tp.level} at {tp.estimate:.3g} "
                f"(95% interval {tp.low:.3g} to {tp.high:.3g})"
            )
        elif verdict == "separation":
            ax.axvspan(tp.low, tp.high, color=colour, alpha=0.15, lw=0)
            text = f"{tp.outcome}: runs separated, crossing between {tp.low:.3g} and {tp.high:.3g}"
        else:
            continue
        ax.text(
            0.01,
            0.98 - 0.07 * texts,
            text,
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color=colour,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )
        texts += 1
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


# --------------------------------------------------------------------------------------------
# Comparing experiments (scenarios, cities): outcomes and trajectories side by side
# --------------------------------------------------------------------------------------------


def _text_colour(colour: str) -> str:
    """Black or white, whichever reads better on ``colour``."""
    r, g, b = to_rgb(colour)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


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
