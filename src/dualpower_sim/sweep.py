"""The sweeps' former home, kept so that ``from dualpower_sim.sweep import ...`` still works.

Sweeps are the package :mod:`dualpower_sim.sweeps` now; every name this module held is
re-exported from there, and new code should import from it. The sweep file is described in
:mod:`dualpower_sim.sweeps.spec`, and the designs in :mod:`dualpower_sim.sweeps.designs`:
``grid`` (every combination), ``list`` (the points given), ``lhs`` (Latin hypercube), ``sobol``
and ``halton`` (scrambled, seeded from the sweep's root seed), and SALib's ``saltelli`` and
``morris`` samples for sensitivity analysis.
"""

from __future__ import annotations

from .provenance import provenance
from .sweeps import (
    CHECK_EVERY_POINT,
    DESIGNS,
    MAX_POINTS,
    MAX_RETRIES,
    MAX_RUNS,
    REFINE_OUTCOMES,
    RESERVED_KEYS,
    RUN_COLUMNS,
    SWEEP_KEYS,
    RunTimeLimitError,
    Sweep,
    dask_results,
    estimate_seconds_per_run,
    execute_run,
    load_sweep,
    local_results,
    manifest_for,
    parse_shard,
    refine_sweep,
    run_seed,
    run_sweep,
    salib_problem,
    serial_results,
    tasks_for,
)

__all__ = [
    "CHECK_EVERY_POINT",
    "DESIGNS",
    "MAX_POINTS",
    "MAX_RETRIES",
    "MAX_RUNS",
    "REFINE_OUTCOMES",
    "RESERVED_KEYS",
    "RUN_COLUMNS",
    "SWEEP_KEYS",
    "RunTimeLimitError",
    "Sweep",
    "dask_results",
    "estimate_seconds_per_run",
    "execute_run",
    "load_sweep",
    "local_results",
    "manifest_for",
    "parse_shard",
    "provenance",
    "refine_sweep",
    "run_seed",
    "run_sweep",
    "salib_problem",
    "serial_results",
    "tasks_for",
]
