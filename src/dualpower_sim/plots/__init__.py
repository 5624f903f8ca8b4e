"""Figures of runs, of sweeps and of the city (with discovery_plots, the only matplotlib users).

Functions take tables (the indicators, the event log, a sweep's outcome table) and plain values,
and return a ``matplotlib.figure.Figure`` without touching pyplot's global state, so they work
the same in scripts, notebooks and tests; save with ``fig.savefig(path)``. They never import the
simulator, so a finished run's or sweep's folder can be redrawn without it. The figures are
grouped by what they draw: :mod:`~dualpower_sim.plots.run` (one run),
:mod:`~dualpower_sim.plots.sweep` (sweeps and comparisons), :mod:`~dualpower_sim.plots.city`
(the city's map and the federation), with the shared palette in
:mod:`~dualpower_sim.plots.style`.
"""

from __future__ import annotations

from .city import MAP_FIRMS, plot_city_map, plot_federation
from .run import (
    EVENT_MARKS,
    MOBILIZATION_PANELS,
    plot_councils,
    plot_mobilization,
    plot_powers,
    plot_state,
    run_figures,
)
from .style import OUTCOME_COLOURS, PALETTE
from .sweep import (
    plot_outcome_curves,
    plot_outcome_shares,
    plot_phase_diagram,
    plot_power_trajectories,
)

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
