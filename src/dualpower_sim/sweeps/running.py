"""Running a sweep (or the rest of it, or one shard of it) into its store.

:func:`run_sweep` claims the results folder, finds the runs not recorded yet, sends their tasks
to an executor (:mod:`~dualpower_sim.sweeps.executors`) and writes the rows as they come back,
in batches, to the store (:mod:`~dualpower_sim.sweeps.store`). Its options are checked first by
:func:`check_run_options`, the same check the command line makes, so that the Python API is as
safe as ``dualpower sweep``.
"""

from __future__ import annotations

import math
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import ConfigError
from ..outcomes import OUTCOMES
from ..params import ParameterError
from ..provenance import now, provenance
from .executors import EXECUTORS, Executor, make_executor
from .runs import execute_run, tasks_for
from .spec import Sweep
from .store import SWEEP_FORMAT, SweepStore, release

__all__ = ["check_run_options", "manifest_for", "parse_shard", "run_sweep"]

#: What a Dask scheduler's address looks like: ``tcp://host:8786`` or ``host:8786``.
_SCHEDULER = re.compile(r"^[a-z]+://\S+$|^[\w.-]+:\d+$")


def check_run_options(
    *,
    jobs: int = 1,
    time_limit: float | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    batch: int = 100,
) -> None:
    """Check how a sweep is to be run, before anything runs.

    Args:
        jobs: Processes: a whole number >= 1.
        time_limit: Seconds a run may take: a number > 0, or None for no limit.
        executor: One of :data:`~dualpower_sim.sweeps.executors.EXECUTORS`, or an executor.
        scheduler: A Dask scheduler's address (``tcp://host:8786``), or None.
        batch: Runs per pool process before it is replaced: a whole number >= 1.

    Raises:
        ParameterError: Naming the option (``jobs``, ``time_limit``, ``executor``,
            ``scheduler``, ``batch``), the value and what is allowed.
    """
    for name, value in (("jobs", jobs), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(name, value, "allowed: a whole number >= 1")
    if time_limit is not None and (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not time_limit > 0
        or math.isinf(time_limit)
    ):
        raise ParameterError("time_limit", time_limit, "allowed: a number of seconds > 0")
    if isinstance(executor, str) and executor not in EXECUTORS:
        raise ParameterError("executor", executor, "allowed: " + ", ".join(map(repr, EXECUTORS)))
    if scheduler is not None and (
        not isinstance(scheduler, str) or not _SCHEDULER.match(scheduler)
    ):
        raise ParameterError(
            "scheduler", scheduler, "allowed: a Dask scheduler's address, e.g. tcp://host:8786"
        )


def parse_shard(text: str, runs: int | None = None) -> tuple[int, int]:
    """``"i/N"`` as (i, N), with 0 <= i < N (and N at most ``runs``, the sweep's runs).

    Raises:
        ParameterError: Naming ``shard``, if the text is not of that form.
    """
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        i, n = -1, 0
    if not 0 <= i < n:
        raise ParameterError("shard", text, "allowed: i/N with 0 <= i < N, e.g. 0/4")
    if runs is not None and n > max(runs, 1):
        raise ParameterError(
            "shard",
            text,
            f"allowed: i/N with N at most the sweep's {runs} runs (more shards than runs leaves "
            "shards with nothing to do)",
        )
    return i, n


def manifest_for(sweep: Sweep) -> dict[str, Any]:
    """What ``sweep.json`` records: the sweep's identity and provenance."""
    return {
        "format": SWEEP_FORMAT,
        "name": sweep.name,
        "description": sweep.description,
        "source": sweep.source,
        "sweep_hash": sweep.sweep_hash,
        "config_hash": sweep.experiment.config_hash,
        "config": sweep.experiment.name,
        "parameters": list(sweep.parameters),
        "design": sweep.design,
        "points": len(sweep.points),
        "replicates": sweep.replicates,
        "runs": sweep.n_runs,
        "seed": sweep.seed,
        "indicators": list(sweep.indicators),
        "at": list(sweep.at),
        "design_spec": sweep.spec.get("design", {}),
        "parameter_spec": sweep.spec.get("parameters", {}),
        "outcomes": list(OUTCOMES),
        "created": now(),
        **provenance(),
    }


def jobs_from(jobs: int, workers: int | None, where: str) -> int:
    """``jobs``, or the number of processes given by its old name ``workers`` (with a warning)."""
    if workers is None:
        return jobs
    warnings.warn(
        f"{where}(workers=...) is now {where}(jobs=...): workers is the city's size elsewhere",
        FutureWarning,
        stacklevel=3,
    )
    return workers


def run_sweep(
    sweep: Sweep,
    folder: Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    shard: tuple[int, int] | None = None,
    time_limit: float | None = None,
    flush_every: int = 20,
    flush_seconds: float = 10.0,
    progress: bool = False,
    batch: int = 100,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    retry_failed: bool = False,
    workers: int | None = None,
) -> dict[str, int]:
    """Run a sweep (or the rest of it, or one shard of it) into its results folder.

    The folder is claimed first (see :meth:`~dualpower_sim.sweeps.store.SweepStore.claim`): a
    second process resuming the same sweep, or running the same shard, is refused with one line
    naming the first. A folder this call created is removed again if the sweep cannot start (a
    Dask scheduler that cannot be reached) before any run is recorded, so the next try needs no
    ``resume``.

    Args:
        sweep: The sweep.
        folder: Its results folder: created, or (``resume``, ``shard``) reopened.
        jobs: Processes; 1 runs in this process.
        resume: Finish a sweep recorded in ``folder``; no recorded run is run again.
        shard: ``(i, N)``: run only runs ``i, i + N, i + 2N...`` (a job array needs no
            scheduler); the folder is created by whichever shard comes first.
        time_limit: Seconds a run may take before it is stopped and recorded as failed.
        flush_every: Runs per part written.
        flush_seconds: Longest wait before finished runs are written.
        progress: Draw a progress bar (runs done, failed, time left) on a terminal.
        batch: Runs per worker process before it is replaced by a fresh one.
        executor: ``"local"`` (a process pool; one process runs in this one), ``"dask"`` (a
            cluster: ``scheduler``'s, or a local one of ``jobs`` processes), or an
            :class:`~dualpower_sim.sweeps.executors.Executor`.
        scheduler: Address of a Dask scheduler (implies ``executor="dask"``).
        retry_failed: Run again the runs recorded as failed (a resumed sweep skips them
            otherwise); a run that now succeeds replaces its failed record in the results.
        workers: The old name of ``jobs`` (a FutureWarning says so).

    Returns:
        Counts: ``total`` runs in the design (or shard), ``skipped`` (recorded already),
        ``done`` and ``failed`` now.

    Raises:
        ParameterError: For an option that is not allowed (see :func:`check_run_options`).
        ResultsError: If the folder cannot be used.
    """
    from ..results import ResultsError

    jobs = jobs_from(jobs, workers, "run_sweep")
    check_run_options(
        jobs=jobs, time_limit=time_limit, executor=executor, scheduler=scheduler, batch=batch
    )
    store = SweepStore(folder)
    created = False
    if resume or (shard is not None and (folder / "sweep.json").is_file()):
        store.open(sweep.sweep_hash)
    else:
        try:
            store.create(manifest_for(sweep), sweep.text, sweep.experiment.to_toml(), sweep.runs())
            created = True
        except ResultsError:
            if shard is None or not (folder / "sweep.json").is_file():
                raise
            store.open(sweep.sweep_hash)  # another shard created it first: join it
    claims = store.claim(shard)
    try:
        design = store.design()  # with any runs refinement added, even if it was cut short
        mine = design if shard is None else design[design["run"] % shard[1] == shard[0]]
        recorded = store.recorded(failed=not retry_failed)
        todo = mine[~mine["run"].isin(recorded)]
        counts = {"total": len(mine), "skipped": len(mine) - len(todo), "done": 0, "failed": 0}
        store.log("start", runs=len(todo), jobs=jobs, shard=shard, resume=resume)
        chosen = _executor(sweep, executor, jobs, batch, scheduler)
        try:
            counts.update(
                execute(
                    sweep,
                    store,
                    todo,
                    chosen,
                    time_limit=time_limit,
                    flush_every=flush_every,
                    flush_seconds=flush_seconds,
                    progress=progress,
                )
            )
        except ConfigError:  # the executor could not start (a scheduler out of reach)
            if created and not store.recorded():
                release(claims)
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return counts
    finally:
        release(claims)


def _executor(
    sweep: Sweep, executor: str | Executor, jobs: int, batch: int, scheduler: str | None
) -> Executor:
    if not isinstance(executor, str):
        return executor
    prefix = f"dualpower-{sweep.sweep_hash[:12]}"
    return make_executor(executor, jobs=jobs, batch=batch, scheduler=scheduler, prefix=prefix)


def execute(
    sweep: Sweep,
    store: SweepStore,
    runs: pd.DataFrame,
    executor: Executor,
    *,
    time_limit: float | None = None,
    flush_every: int = 20,
    flush_seconds: float = 10.0,
    progress: bool = False,
) -> dict[str, int]:
    """Run some runs of a sweep on an executor and record them in the store in batches.

    Whatever finished is written even when the sweep stops early (Ctrl-C, a failing store).

    Args:
        sweep: The sweep.
        store: Its store, claimed.
        runs: Rows of its design to run.
        executor: Where they run.
        time_limit: Seconds a run may take.
        flush_every: Runs per part written.
        flush_seconds: Longest wait before finished runs are written.
        progress: Draw a progress bar on a terminal.

    Returns:
        ``done`` and ``failed`` counts.
    """
    tasks = tasks_for(sweep, runs, time_limit)
    rows = executor.map(execute_run, tasks)
    counts = {"done": 0, "failed": 0}
    buffer: list[dict] = []
    last = time.monotonic()
    from tqdm import tqdm

    with tqdm(
        total=len(tasks),
        desc=sweep.name,
        unit="run",
        disable=None if progress else True,
        leave=False,
    ) as bar:
        try:
            for row in rows:
                buffer.append(row)
                counts["failed" if row["status"] == "failed" else "done"] += 1
                bar.update(1)
                bar.set_postfix(failed=counts["failed"], refresh=False)
                if len(buffer) >= flush_every or time.monotonic() - last > flush_seconds:
                    # Taken out of the buffer first: if writing fails half-way (the part
                    # renamed, the log not written), the batch is not written a second time.
                    batch_rows, buffer, last = buffer, [], time.monotonic()
                    store.append(batch_rows)
        finally:
            batch_rows, buffer = buffer, []
            store.append(batch_rows)  # whatever finished, even on Ctrl-C
            store.log("stop", done=counts["done"], failed=counts["failed"])
    return counts
