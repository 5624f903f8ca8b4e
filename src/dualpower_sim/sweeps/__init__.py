"""Sweeps: many runs of one experiment over a design of parameter points, with replicates.

The package's rooms, one concept each:

- :mod:`~dualpower_sim.sweeps.spec`: the sweep file, checked, and the :class:`Sweep` it gives;
- :mod:`~dualpower_sim.sweeps.designs`: the designs (grid, list, Latin hypercube, Sobol, Halton,
  SALib's Saltelli and Morris samples), a registry of samplers by name;
- :mod:`~dualpower_sim.sweeps.runs`: one run, as a worker process runs it;
- :mod:`~dualpower_sim.sweeps.executors`: where runs run (this process, a local pool, Dask),
  behind one small protocol, with retries;
- :mod:`~dualpower_sim.sweeps.store`: the results folder, written atomically and resumable;
- :mod:`~dualpower_sim.sweeps.running`: running a sweep (or a shard of it) into its store;
- :mod:`~dualpower_sim.sweeps.refine`: more runs where an outcome is still unsure.

Example:
    >>> from dualpower_sim.sweeps import load_sweep, run_sweep  # doctest: +SKIP
    >>> sweep = load_sweep("experiments/sweeps/territory_vs_offensive.toml")  # doctest: +SKIP
    >>> run_sweep(sweep, Path("sweeps/territory_vs_offensive"), jobs=2)  # doctest: +SKIP
"""

from __future__ import annotations

from .designs import DESIGNS, MAX_POINTS, Design, DesignRequest, register_design, salib_problem
from .executors import (
    EXECUTORS,
    MAX_RETRIES,
    DaskExecutor,
    Executor,
    LocalExecutor,
    SerialExecutor,
    dask_results,
    local_results,
    make_executor,
    serial_results,
)
from .refine import REFINABLE, REFINE_OUTCOMES, check_refine_options, refine_sweep
from .running import check_run_options, manifest_for, parse_shard, run_sweep
from .runs import (
    RUN_COLUMNS,
    RunTimeLimitError,
    estimate_seconds_per_run,
    execute_run,
    tasks_for,
)
from .spec import (
    CHECK_EVERY_POINT,
    MAX_RUNS,
    RESERVED_KEYS,
    SWEEP_KEYS,
    Sweep,
    SweepFile,
    load_sweep,
    run_seed,
)
from .store import (
    SWEEP_FILES,
    SWEEP_FORMAT,
    SweepResults,
    SweepStore,
    load_results,
    read_manifest,
    release,
)

__all__ = [
    "CHECK_EVERY_POINT",
    "DESIGNS",
    "EXECUTORS",
    "MAX_POINTS",
    "MAX_RETRIES",
    "MAX_RUNS",
    "REFINABLE",
    "REFINE_OUTCOMES",
    "RESERVED_KEYS",
    "RUN_COLUMNS",
    "SWEEP_FILES",
    "SWEEP_FORMAT",
    "SWEEP_KEYS",
    "DaskExecutor",
    "Design",
    "DesignRequest",
    "Executor",
    "LocalExecutor",
    "RunTimeLimitError",
    "SerialExecutor",
    "Sweep",
    "SweepFile",
    "SweepResults",
    "SweepStore",
    "check_refine_options",
    "check_run_options",
    "dask_results",
    "estimate_seconds_per_run",
    "execute_run",
    "load_results",
    "load_sweep",
    "local_results",
    "make_executor",
    "manifest_for",
    "parse_shard",
    "read_manifest",
    "refine_sweep",
    "register_design",
    "release",
    "run_seed",
    "run_sweep",
    "salib_problem",
    "serial_results",
    "tasks_for",
]
