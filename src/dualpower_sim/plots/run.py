"""Figures of one run, from its tables: the two powers, mobilization, the councils, the state.

Functions take tables (the indicators, the event log) and plain values, and return a
``matplotlib.figure.Figure`` without touching pyplot's global state; events are told apart by
marker shape as well as colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from .style import PALETTE, _days, _footer, _legend_below, _shade_days

__all__ = [
    "EVENT_MARKS",
    "MOBILIZATION_PANELS",
    "plot_councils",
    "plot_mobilization",
    "plot_powers",
    "plot_state",
    "run_figures",
]


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
    "forces_ready": ("the state's reinforcements in", PALETTE[1], "P"),
    "insurrection": ("insurrection", PALETTE[3], "*"),
    "lever_event": ("scheduled change", PALETTE[7], "d"),
}


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
    handles: list[Artist] = []
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
    lines: list[Artist] = [
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
    # The outcome in words after a label, so "council_power" is not read as the plotted line.
    heading = title or "Council power against state power" + (
        f" (outcome: {outcome.replace('_', ' ')})" if outcome else ""
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
