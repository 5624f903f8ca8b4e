"""One run of a sweep, as a worker process runs it: a task in, the run's row out.

A task is a plain dictionary (picklable, so any executor can send it): the run's ids and seed,
the resolved config and the point's changes to it, what to keep, and a time limit. Its row holds
:data:`RUN_COLUMNS`, from the run's record (:func:`~dualpower_sim.outcomes.run_record`, the same
account ``summary.json`` gives), and the kept indicators.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..config import ConfigError, experiment_from_config
from ..outcomes import run_record

__all__ = [
    "RUN_COLUMNS",
    "RunTimeLimitError",
    "estimate_seconds_per_run",
    "execute_run",
    "failed_row",
    "plain_number",
    "tasks_for",
]

#: The facts of a run's record that a sweep's row keeps, in this order.
RECORDED = (
    "outcome",
    "steps",
    "resolved_step",
    "dual_power_began",
    "dual_power_ended",
    "peak_council_power",
    "peak_state_power",
    "peak_mobilized",
    "offensives",
    "regime_changed",
    "defected",
)

#: Columns every run's row holds (besides the parameters and the kept indicators).
RUN_COLUMNS = (
    "run",
    "point",
    "replicate",
    "seed",
    "status",
    *RECORDED,
    "seconds",
    "error",
)

#: A task's ids, copied into its row.
TASK_IDS = ("run", "point", "replicate", "seed")


class RunTimeLimitError(Exception):
    """A run went past its time limit."""


def plain_number(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (anything else as it is)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def execute_run(task: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point of a sweep and return its row; never raises for a failing run.

    Args:
        task: ``run``, ``point``, ``replicate``, ``seed``, ``config`` (the resolved config),
            ``overrides`` (the point's changes), ``indicators`` and ``at`` (what to keep),
            ``time_limit`` (seconds, or None).

    Returns:
        The run's row: the columns of :data:`RUN_COLUMNS` and ``<indicator>@<day>`` values;
        a failed run has ``status = "failed"`` and its traceback in ``error``.
    """
    row: dict[str, Any] = {k: task[k] for k in TASK_IDS}
    t0 = time.perf_counter()
    try:
        experiment = experiment_from_config(
            task["config"], task["overrides"], f"sweep point {task['point']}", seed=task["seed"]
        )
        model = experiment.build_model()
        limit = task.get("time_limit")
        while model.running:
            model.step()
            if limit is not None and time.perf_counter() - t0 > limit:
                raise RunTimeLimitError(f"time limit of {limit} s reached on day {model.steps}")
        df = model.indicators()
        record = run_record(model.summary(), df)
        row.update(status="done", **{key: record[key] for key in RECORDED}, error="")
        for name in task.get("indicators", ()):
            for day in task.get("at", ()):
                # A run that resolved before ``day`` keeps its last value (outcomes absorb).
                row[f"{name}@{day}"] = float(df[name].iloc[min(day, len(df) - 1)])
    except Exception as exc:  # a failing run is recorded and the sweep goes on
        row.update(status="failed", outcome=None, error=_error_text(exc))
    row["seconds"] = time.perf_counter() - t0
    return row


def failed_row(task: Mapping[str, Any], why: str) -> dict[str, Any]:
    """The row of a run that could not be run at all (its process died, it could not be sent).

    Args:
        task: The run's task.
        why: What went wrong, for the row's ``error``.

    Returns:
        The row, ``status = "failed"``.
    """
    row = {k: task[k] for k in TASK_IDS}
    row.update(status="failed", outcome=None, error=why, seconds=float("nan"))
    return row


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, RunTimeLimitError | ConfigError):
        return f"{type(exc).__name__}: {exc}"
    return "".join(traceback.format_exception(exc)).strip()


def tasks_for(sweep: Any, runs: pd.DataFrame, time_limit: float | None) -> list[dict[str, Any]]:
    """The tasks of some runs of a sweep, ready to send to worker processes.

    Each run's parameter values are read from its row, so runs added by refinement (new
    points between the design's) run the same way as the design's own.

    Args:
        sweep: The :class:`~dualpower_sim.sweeps.spec.Sweep`.
        runs: Rows of its design (``run``, ``point``, ``replicate``, ``seed``, parameters).
        time_limit: Seconds a run may take, or None.

    Returns:
        One task per run, in the rows' order.
    """
    config = sweep.experiment.config
    out = []
    columns = ["run", "point", "replicate", "seed", *sweep.parameters]
    for row in runs[columns].itertuples(index=False):  # runs, not workers: thousands at most
        run, point, replicate, seed, *values = row
        out.append(
            {
                "run": int(run),
                "point": int(point),
                "replicate": int(replicate),
                "seed": int(seed),
                "config": config,
                "overrides": {
                    k: plain_number(v) for k, v in zip(sweep.parameters, values, strict=True)
                },
                "indicators": sweep.indicators,
                "at": sweep.at,
                "time_limit": time_limit,
            }
        )
    return out


def estimate_seconds_per_run(sweep: Any, runs: int = 3, cap: float = 20.0) -> float:
    """Time a few whole runs, spread over the design, to estimate a run's length (a dry run).

    A run's length depends on where in the design it lies and on how it ends (a run that
    resolves early stops early; the first days, before a shock, are quicker than the rest), so
    the estimate times whole runs, build included, at the first, middle and last points with
    their first replicate's seed, rather than extrapolating from a run's first days (which
    guessed a third of a sweep's time).

    Args:
        sweep: The :class:`~dualpower_sim.sweeps.spec.Sweep`.
        runs: How many points to time (at most the design's).
        cap: Seconds a timed run may take; a longer run is stopped and its pace so far
            extrapolated over its horizon.

    Returns:
        Mean seconds per run over the timed runs.
    """
    design = sweep.runs()
    n_points = len(sweep.points)
    chosen = sorted({round(i * (n_points - 1) / max(runs - 1, 1)) for i in range(runs)})
    first = design[design["replicate"] == 0].set_index("point")
    times = []
    for point in chosen[: max(runs, 1)]:
        experiment = experiment_from_config(
            sweep.experiment.config,
            sweep.overrides(point),
            "estimate",
            seed=int(first.loc[point, "seed"]),
        )
        t0 = time.perf_counter()
        model = experiment.build_model()
        while model.running and time.perf_counter() - t0 < cap:
            model.step()
        seconds = time.perf_counter() - t0
        if model.running:  # stopped at the cap: the rest at the pace so far
            seconds *= experiment.kwargs["horizon"] / max(model.steps, 1)
        times.append(seconds)
    return sum(times) / len(times)
