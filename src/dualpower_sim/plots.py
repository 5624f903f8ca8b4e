"""Figures of a run, from its indicator table (the only module that imports matplotlib).

Functions take tables and return a ``matplotlib.figure.Figure`` without touching pyplot's global
state, so they work the same in scripts, notebooks and tests; save with ``fig.savefig(path)``.
The palette is Okabe and Ito's colour-blind-safe set.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["PALETTE", "plot_mobilization"]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _panel(ax, df: pd.DataFrame, columns: dict[str, str], title: str) -> None:
    for i, (col, label) in enumerate(columns.items()):
        if col in df and df[col].notna().any():
            ax.plot(df.index, df[col], color=PALETTE[i % len(PALETTE)], label=label, linewidth=1.6)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("day (step)")
    ax.grid(alpha=0.3)
    # Legends below the panel, where they never hide a line.
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)


def plot_mobilization(indicators: pd.DataFrame, title: str | None = None) -> Figure:
    """Four panels: overall mobilization, by layer, by firm size, by sector.

    Args:
        indicators: Per-step indicators (``DualPowerModel.indicators()``), indexed by step.
        title: Figure title; default describes the run length.

    Returns:
        The figure.
    """
    df = indicators
    fig = Figure(figsize=(11, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    _panel(
        axes[0, 0],
        df,
        {
            "mobilized": "mobilized",
            "jailed": "jailed",
            "hardship": "mean hardship",
            "legitimacy": "state legitimacy",
        },
        "Workers mobilized and jailed (share of all workers)",
    )
    _panel(
        axes[0, 1],
        df,
        {
            "striking": "striking (workforce)",
            "blockading": "blockading (residents)",
            "occupying": "occupying (students)",
        },
        "By layer: share in firms, neighbourhoods, campuses past the quorum",
    )
    bands = {
        c: c.removeprefix("mobilized_firms_").replace("_", "-").replace("-plus", "+") + " workers"
        for c in df.columns
        if c.startswith("mobilized_firms_")
    }
    _panel(axes[1, 0], df, bands, "Mobilized share by firm size")
    sectors = {
        c: c.removeprefix("mobilized_sector_").replace("_", " ")
        for c in df.columns
        if c.startswith("mobilized_sector_")
    }
    _panel(axes[1, 1], df, sectors, "Mobilized share by sector")
    for ax in axes[:, 0]:
        ax.set_ylabel("share")
    fig.suptitle(title or f"Mobilization over {len(df) - 1} days", fontsize=12)
    return fig
