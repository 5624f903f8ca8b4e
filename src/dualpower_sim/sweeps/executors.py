"""Executors: where a sweep's runs run, all behind one small protocol.

An :class:`Executor` has one method, ``map(function, tasks)``, that runs a function (by default
:func:`~dualpower_sim.sweeps.runs.execute_run`) on every task and yields each row as it finishes,
never raising for a run that fails: :class:`SerialExecutor` runs them in this process,
:class:`LocalExecutor` in a pool of fresh local processes, :class:`DaskExecutor` on a Dask
cluster (the EMA Workbench's evaluators are built the same way). A run whose process dies is
retried (:data:`MAX_RETRIES` times) and then recorded as failed. Results never depend on the
executor: every run's seed is in its task.

:func:`make_executor` picks one by name; a new backend is one class registered in
:data:`EXECUTORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ..config import ConfigError
from ..params import ParameterError
from .runs import execute_run, failed_row

__all__ = [
    "EXECUTORS",
    "MAX_RETRIES",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SerialExecutor",
    "dask_results",
    "local_results",
    "make_executor",
    "serial_results",
]

#: Times a run is retried when the process running it dies (killed, out of memory).
MAX_RETRIES = 2

#: What an executor runs on each task: a task in, its row out.
RunFunction = Callable[[Mapping[str, Any]], dict[str, Any]]


class Executor(Protocol):
    """Runs tasks and yields their rows as they finish."""

    def map(
        self, function: RunFunction, tasks: Sequence[Mapping[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Run ``function`` on every task; yield each row as it finishes, in any order."""
        ...


class SerialExecutor:
    """One run after the other in this process (one process, tests, notebooks)."""

    def map(
        self, function: RunFunction, tasks: Sequence[Mapping[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Run the tasks in order; see :class:`Executor`."""
        return serial_results(tasks, function)


class LocalExecutor:
    """A pool of fresh local processes (see :func:`local_results`).

    Args:
        jobs: Number of processes.
        batch: Runs per process before it is replaced.
    """

    def __init__(self, jobs: int, batch: int = 100) -> None:
        self.jobs, self.batch = jobs, batch

    def map(
        self, function: RunFunction, tasks: Sequence[Mapping[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Run the tasks on the pool; see :class:`Executor`."""
        return local_results(tasks, self.jobs, self.batch, function)


class DaskExecutor:
    """A Dask cluster: a running scheduler's, or a local one (see :func:`dask_results`).

    Args:
        scheduler: A running scheduler's address; None starts a local cluster.
        jobs: Processes of the local cluster.
        prefix: Prefix of the tasks' keys on the cluster.
    """

    def __init__(self, scheduler: str | None = None, jobs: int = 2, prefix: str = "run") -> None:
        self.scheduler, self.jobs, self.prefix = scheduler, jobs, prefix

    def map(
        self, function: RunFunction, tasks: Sequence[Mapping[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Run the tasks on the cluster; see :class:`Executor`."""
        return dask_results(tasks, self.scheduler, self.jobs, prefix=self.prefix, function=function)


def _local(jobs: int, batch: int, scheduler: str | None, prefix: str) -> Executor:
    return SerialExecutor() if jobs <= 1 else LocalExecutor(jobs, batch)


def _dask(jobs: int, batch: int, scheduler: str | None, prefix: str) -> Executor:
    return DaskExecutor(scheduler, jobs, prefix)


#: Executors by the name a sweep is run with: a factory of ``(jobs, batch, scheduler, prefix)``
#: (``local`` runs in this process for one job).
EXECUTORS: dict[str, Callable[[int, int, str | None, str], Executor]] = {
    "local": _local,
    "dask": _dask,
}


def make_executor(
    kind: str = "local",
    *,
    jobs: int = 1,
    batch: int = 100,
    scheduler: str | None = None,
    prefix: str = "run",
) -> Executor:
    """The executor of a name: ``local`` (a pool, or this process for one job) or ``dask``.

    Args:
        kind: One of :data:`EXECUTORS`; a scheduler's address implies ``dask``.
        jobs: Processes (of the pool, or of a local Dask cluster).
        batch: Runs per pool process before it is replaced.
        scheduler: A running Dask scheduler's address.
        prefix: Prefix of the tasks' keys on a Dask cluster.

    Returns:
        The executor.

    Raises:
        ParameterError: For an unknown name.
    """
    if kind not in EXECUTORS:
        raise ParameterError("executor", kind, "allowed: " + ", ".join(map(repr, EXECUTORS)))
    if scheduler is not None:
        kind = "dask"
    return EXECUTORS[kind](jobs, batch, scheduler, prefix)


def serial_results(
    tasks: Sequence[Mapping[str, Any]], function: RunFunction = execute_run
) -> Iterator[dict[str, Any]]:
    """Run tasks one after the other in this process.

    Yields:
        One row per task.
    """
    for task in tasks:
        yield function(task)


def local_results(
    tasks: Sequence[Mapping[str, Any]],
    jobs: int,
    batch: int = 100,
    function: RunFunction = execute_run,
) -> Iterator[dict[str, Any]]:
    """Run tasks in pools of fresh processes and yield each run's row as it finishes.

    Processes are spawned (not forked), and a new pool is started for every round of
    ``jobs x batch`` runs, so memory stays flat. Python 3.11's own ``max_tasks_per_child``
    would do this within one pool, but it deadlocks once a worker retires (CPython gh-115634,
    fixed only in later releases), so rounds it is. At most ``jobs`` runs are in flight at
    once, so when a process dies only the runs that were running can be to blame: they are
    retried alone, one at a time (so a second death is the run's own), up to
    :data:`MAX_RETRIES` times, then recorded as failed; the runs still waiting are resubmitted.

    Args:
        tasks: Tasks from :func:`~dualpower_sim.sweeps.runs.tasks_for`.
        jobs: Number of processes.
        batch: Runs per process before it is replaced.
        function: What runs each task (a module-level function, so that it can be pickled).

    Yields:
        One row per task (see :func:`~dualpower_sim.sweeps.runs.execute_run`), in the order
        they finish.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    pending = list(tasks)
    tries: dict[int, int] = {}
    round_size = max(1, jobs * batch)
    started = False
    while pending:
        current, pending = pending[:round_size], pending[round_size:]
        waiting = list(reversed(current))  # pop() from the end keeps the runs' order
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        in_flight: dict = {}
        try:
            if not started:  # inside the try: the pool is shut down whatever happens
                _check_start(pool)
                started = True
            while waiting or in_flight:
                while waiting and len(in_flight) < jobs:
                    # A run that was in flight when a process died runs alone, so that a
                    # second death can only be its own.
                    if in_flight and (
                        _suspect(waiting[-1], tries)
                        or any(_suspect(t, tries) for t in in_flight.values())
                    ):
                        break
                    task = waiting.pop()
                    in_flight[pool.submit(function, task)] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    task = in_flight.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        in_flight[future] = task  # settled below with the others running
                    except Exception as exc:  # pickling trouble and the like: record, go on
                        yield failed_row(task, f"{type(exc).__name__}: {exc}")
                if broken:
                    raise BrokenProcessPool("a worker process died")
        except BrokenProcessPool:
            for future, task in in_flight.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    yield future.result()  # finished before the pool broke
                    continue
                tries[task["run"]] = tries.get(task["run"], 0) + 1
                if tries[task["run"]] > MAX_RETRIES:
                    yield failed_row(task, "the worker process died (retried twice)")
                else:
                    waiting.append(task)
            pending = list(reversed(waiting)) + pending
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


#: Why a pool's first process could not start, as the user is told.
NO_START = (
    "the sweep's worker processes could not start. The usual cause: each one is a fresh Python "
    "that imports the script which started the sweep, so a script must start it under "
    "`if __name__ == \"__main__\":` (see 'Safe importing of main module' in the documentation "
    "of Python's multiprocessing); otherwise run it with jobs=1, in this process"
)


def _ready() -> bool:
    """A task that does nothing: its answer shows that a pool's process started."""
    return True


def _check_start(pool: Any) -> None:
    """Raise one clear error if ``pool`` cannot start a process, before any run is sent to it.

    Without this check, a script that runs a sweep without the ``__main__`` guard (each spawned
    process imports it and tries to start a pool of its own, which Python forbids) broke every
    pool: each run was retried in a new pool, twice, then recorded as failed with "the worker
    process died", after a traceback per process: 11 s for a sweep of two runs, and a sweep of
    400 was still starting pools after an hour. With it, the sweep stops within seconds.
    """
    from concurrent.futures.process import BrokenProcessPool

    try:
        pool.submit(_ready).result()
    except BrokenProcessPool:
        raise RuntimeError(NO_START) from None


def _suspect(task: Mapping[str, Any], tries: Mapping[int, int]) -> bool:
    return tries.get(task["run"], 0) > 0


def dask_results(
    tasks: Sequence[Mapping[str, Any]],
    scheduler: str | None = None,
    jobs: int = 2,
    prefix: str = "run",
    function: RunFunction = execute_run,
) -> Iterator[dict[str, Any]]:
    """Run tasks on a Dask cluster and yield each run's row as it finishes.

    Args:
        tasks: Tasks from :func:`~dualpower_sim.sweeps.runs.tasks_for`.
        scheduler: Address of a running scheduler (``tcp://host:8786``); None starts a local
            cluster of ``jobs`` single-threaded processes for the sweep.
        jobs: Processes of the local cluster.
        prefix: Prefix of the tasks' keys on the cluster (the sweep's hash keeps two sweeps on
            one cluster apart).
        function: What runs each task.

    Yields:
        One row per task. A run whose worker dies is retried by Dask up to
        :data:`MAX_RETRIES` times, then recorded as failed.

    Raises:
        ConfigError: If Dask is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "the dask executor: Dask is not installed; install the extra with "
            "pip install 'dualpower_sim[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler is None:
            # The scheduler serves HTTP even without a dashboard, on port 8787 unless told
            # otherwise; a free port lets two local sweeps (or a notebook's cluster) coexist.
            cluster = LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=30)
    except (OSError, ValueError, TypeError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(f"Dask scheduler {scheduler}: cannot be reached ({exc})") from None
    try:
        keys = [f"{prefix}-{task['run']}" for task in tasks]
        futures = client.map(function, tasks, key=keys, pure=False, retries=MAX_RETRIES)
        by_key = {f.key: task for f, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                yield future.result()
            except Exception as exc:  # KilledWorker after the retries, and the like
                yield failed_row(task, f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
