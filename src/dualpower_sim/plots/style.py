"""The figures' shared style: the palette, the outcomes' colours, footers and legends.

The palette is Okabe and Ito's colour-blind-safe set; an outcome has the same colour in every
figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

__all__ = ["OUTCOME_COLOURS", "PALETTE"]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


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


def _legend_right(fig: Figure, handles) -> None:
    """A legend in its own column at the right of a wide figure (maps keep their aspect)."""
    fig.legend(handles=handles, loc="outside right center", fontsize=9, frameon=False)


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


def _text_colour(colour: str) -> str:
    """Black or white, whichever reads better on ``colour``."""
    r, g, b = to_rgb(colour)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
