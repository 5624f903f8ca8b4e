"""Figures of a calibration: marginal posteriors, pairwise densities, predictive checks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .style import PALETTE, _footer

__all__ = ["plot_marginals", "plot_pairs", "plot_predictive"]

_POSTERIOR, _PRIOR, _HISTORY = PALETTE[0], "0.55", PALETTE[1]


def _grid(n: int, width: float = 2.6, height: float = 1.9) -> tuple[Figure, list]:
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _plain_ticks(axis, log: bool) -> None:
    """A few ticks written as plain numbers (on a log axis too)."""
    if log:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(4))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _bins(prior: pd.Series, particles: int) -> np.ndarray:
    """Bin edges over the prior's range: about two per square root of the particles, 8 to 20."""
    n = int(np.clip(2 * math.sqrt(particles), 8, 20)) + 1
    if prior["scale"] == "log":
        return np.geomspace(prior["low"], prior["high"], n)
    return np.linspace(prior["low"], prior["high"], n)


def plot_marginals(
    particles: pd.DataFrame,
    weights: np.ndarray,
    priors: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    footer: str | None = None,
) -> Figure:
    """Each parameter's weighted posterior histogram over its prior's range.

    Args:
        particles: The last generation's particles (one column per parameter).
        weights: Their weights.
        priors: The priors (``name``, ``low``, ``high``, ``scale``).
        summary: ``Posterior.summary()``: its ``low``, ``high`` (credible interval),
            ``median`` and ``contraction`` are drawn and written.
        footer: A line of provenance under the figure.

    Returns:
        The figure: the prior's density grey, the posterior blue, the credible interval shaded.
    """
    fig, axes = _grid(len(priors))
    for ax, (_, prior) in zip(axes, priors.iterrows(), strict=True):
        name = prior["name"]
        bins = _bins(prior, len(particles))
        x = particles[name].to_numpy(dtype=float)
        ax.hist(x, bins=bins, weights=weights, density=True, color=_POSTERIOR, alpha=0.75)
        widths = np.diff(bins)
        if prior["scale"] == "log":
            ax.set_xscale("log")
            centres = np.sqrt(bins[:-1] * bins[1:])
            density = 1 / (centres * math.log(prior["high"] / prior["low"]))
        else:
            density = np.full(len(widths), 1 / (prior["high"] - prior["low"]))
        ax.stairs(density, bins, color=_PRIOR, lw=1.2, ls="--")
        s = summary.loc[name]
        ax.axvspan(s["low"], s["high"], color=_POSTERIOR, alpha=0.12, lw=0)
        ax.axvline(s["median"], color=_POSTERIOR, lw=1)
        episode, _, key = name.rpartition("/")
        ax.set_title(
            f"{episode + chr(10) if episode else ''}{key} · contraction {s['contraction']:.2f}",
            fontsize=7,
        )
        ax.set_xlim(prior["low"], prior["high"])
        _plain_ticks(ax.xaxis, prior["scale"] == "log")
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.legend(
        handles=[
            Patch(color=_POSTERIOR, alpha=0.75, label="posterior"),
            Line2D([], [], color=_PRIOR, ls="--", label="prior"),
            Patch(color=_POSTERIOR, alpha=0.12, label="90% credible interval"),
        ],
        loc="outside lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    _footer(fig, footer)
    return fig


def plot_pairs(
    particles: pd.DataFrame,
    weights: np.ndarray,
    priors: pd.DataFrame,
    names: Sequence[str],
    *,
    footer: str | None = None,
) -> Figure:
    """Pairwise weighted densities of some parameters (a corner plot).

    Args:
        particles: The particles.
        weights: Their weights.
        priors: The priors (for the axes' ranges and scales).
        names: The parameters to pair (two or more).
        footer: A line of provenance under the figure.

    Returns:
        The figure: histograms on the diagonal; below it each particle as a dot whose area is
        its weight (under 200 particles), or 2-D weighted histograms.
    """
    n = len(names)
    fig = Figure(figsize=(2.2 * n + 0.5, 2.2 * n + 0.5), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    by_name = priors.set_index("name")
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            px = by_name.loc[xj]
            bx = _bins(px, len(particles))
            if i == j:
                ax.hist(particles[xj], bins=bx, weights=weights, color=_POSTERIOR, alpha=0.75)
                ax.set_yticks([])
            else:
                py = by_name.loc[yi]
                if len(particles) < 200:  # few particles: each a dot, its area its weight
                    size = 4 + 60 * np.asarray(weights) / np.max(weights)
                    ax.scatter(
                        particles[xj], particles[yi], s=size, color=_POSTERIOR, alpha=0.6, lw=0
                    )
                else:
                    by = _bins(py, len(particles))
                    ax.hist2d(
                        particles[xj], particles[yi], bins=[bx, by], weights=weights, cmap="Blues"
                    )
                if py["scale"] == "log":
                    ax.set_yscale("log")
                ax.set_ylim(py["low"], py["high"])
            if px["scale"] == "log":
                ax.set_xscale("log")
            ax.set_xlim(px["low"], px["high"])
            _plain_ticks(ax.xaxis, px["scale"] == "log")
            if i != j:
                _plain_ticks(ax.yaxis, by_name.loc[yi]["scale"] == "log")
            ax.tick_params(labelsize=6)
            if i == n - 1:
                ax.set_xlabel(xj, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(yi, fontsize=7)
    _footer(fig, footer)
    return fig


def plot_predictive(table: pd.DataFrame, *, footer: str | None = None) -> Figure:
    """Each episode's posterior predictive outcome share and timings against history.

    Args:
        table: One row per episode (the report's predictive table): ``episode``, ``share``,
            ``share_low``, ``share_high``, ``held_out``, and for each timing ``TIMING_median``,
            ``TIMING_low``, ``TIMING_high`` and ``TIMING_history`` (NaN when history gives none).
        footer: A line of provenance under the figure.

    Returns:
        The figure: left, the share of runs ending as history did (95% interval); right, the
        timings' medians and 90% ranges in days, history's as a diamond.
    """
    timings = [
        t
        for t in ("dual_power", "majority", "end")
        if f"{t}_history" in table and table[f"{t}_history"].notna().any()
    ]
    n = len(table)
    fig = Figure(figsize=(10, 0.45 * n + 1.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1.4])
    y = np.arange(n)[::-1]
    colours = [PALETTE[3] if h else _POSTERIOR for h in table["held_out"]]
    share, low, high = (
        table[c].to_numpy(dtype=float) for c in ("share", "share_low", "share_high")
    )
    left.errorbar(share, y, xerr=np.vstack([share - low, high - share]), fmt="none", ecolor="0.4")
    left.scatter(share, y, c=colours, zorder=3)
    left.axvline(1.0, color=_HISTORY, lw=1, ls=":")
    left.set_xlim(-0.02, 1.02)
    labels = [
        f"{e}{' (held out)' if h else ''}"
        for e, h in zip(table["episode"], table["held_out"], strict=True)
    ]
    left.set_yticks(y, labels, fontsize=8)
    left.set_xlabel("share of runs ending as history did (95% interval)", fontsize=8)
    offsets = np.linspace(-0.25, 0.25, max(len(timings), 1))
    markers = {"dual_power": "o", "majority": "s", "end": "^"}
    for k, timing in enumerate(timings):
        yy = y + offsets[k]
        med, lo, hi, hist = (
            table[f"{timing}_{c}"].to_numpy(dtype=float)
            for c in ("median", "low", "high", "history")
        )
        has = ~np.isnan(hist)
        right.errorbar(
            med[has],
            yy[has],
            xerr=np.vstack([(med - lo)[has], (hi - med)[has]]),
            fmt="none",
            ecolor="0.5",
        )
        right.scatter(med[has], yy[has], marker=markers[timing], color=_POSTERIOR, zorder=3)
        right.scatter(
            hist[has],
            yy[has],
            marker="D",
            facecolors="none",
            edgecolors=_HISTORY,
            zorder=4,
        )
    right.set_xscale("log")
    # Days as plain numbers at 1, 2 and 5 times the powers of ten, none of them minor.
    right.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.xaxis.set_minor_formatter(NullFormatter())
    left.set_ylim(-0.6, n - 0.4)
    right.set_xlabel("days: simulated median and 90% range; history's as a diamond", fontsize=8)
    fig.legend(
        handles=[
            *(
                Line2D(
                    [], [], ls="", marker=markers[t], color=_POSTERIOR, label=t.replace("_", " ")
                )
                for t in timings
            ),
            Line2D([], [], ls="", marker="D", mfc="none", color=_HISTORY, label="history"),
        ],
        fontsize=7,
        frameon=False,
        loc="outside upper right",
        ncol=len(timings) + 1,
    )
    for ax in (left, right):
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", color="0.9", lw=0.6)
    _footer(fig, footer)
    return fig
