"""The city as a map, and the federation as a network (the app's live views)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .style import PALETTE, _footer, _legend_right

__all__ = ["MAP_FIRMS", "plot_city_map", "plot_federation"]

#: How many firms a map draws at most (the largest); a city of informal work has thousands.
MAP_FIRMS = 1500
#: Workforce of the firm drawn with a 300 pt^2 marker on the map.
MAP_BIG_FIRM = 5000


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
    handles: list[Artist] = []
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
                np.stack([a, b], axis=1),  # type: ignore[arg-type]  # (N, 2, 2): N segments
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
            # One colour and one width a marker: arrays, which matplotlib's stubs leave out.
            edgecolors=np.where(rows["federated"].to_numpy(bool), "black", "0.6"),  # type: ignore[arg-type]
            linewidths=np.where(rows["federated"].to_numpy(bool), 1.6, 0.6),  # type: ignore[arg-type]
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
