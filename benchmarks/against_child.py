"""One side of ``--against``: time runs of whichever ``dualpower_sim`` comes first on the path.

``against.py`` runs this script in a fresh interpreter with ``<side>/src`` first on
``PYTHONPATH``: once with a git reference extracted to a temporary folder, once with the
working tree. The same script serves both sides, so it uses only the standard library and the
public API that an older version of the package has too (``DualPowerModel``,
``HardshipShock``, ``dualpower_sim.config.load_experiment``), and it imports the package
inside its functions, so that the import itself is timed.

Usage: ``python -P against_child.py JOB``, where JOB is a JSON object with:

- ``runs``: a list of ``{"scenario": ..., "seed": int}``. A scenario is either
  ``{"model": {...}}``, keyword arguments of ``DualPowerModel`` (each shock a mapping of
  ``HardshipShock``'s fields), or ``{"experiment": name, "n_workers": int, "horizon": int or
  null}``, a preset read with ``load_experiment``. Each run is built and run to its outcome or
  its horizon (``model.run()``); its time includes the build.
- ``processes``: 0 (default) runs them one after the other in this process; ``k`` >= 1 starts
  a pool of ``k`` fresh processes ("spawn"), waits until every one of them has imported the
  package, then runs them all in the pool.

It prints one line of JSON: ``files`` (the ``dualpower_sim/__init__.py`` imported here and in
the pool's processes), ``import_s`` (importing the package and the names the runs use, here:
the package loads its modules on first use of a name, so ``import dualpower_sim`` alone would
leave most of the import to the first run), ``runs`` (``[seconds,
days]`` of each run, in the order given), ``wall_s`` (all runs, from the first start to the
last end) and ``start_s`` (the pool's start, until all its processes have imported the
package; null without a pool).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.synchronize import Barrier
from typing import Any

#: How long a pool's processes wait for each other to be ready, in seconds.
POOL_READY_TIMEOUT_S = 300.0


def package_file() -> str:
    """Import ``dualpower_sim`` and the names a run uses; return the file it was imported from."""
    import dualpower_sim
    from dualpower_sim import DualPowerModel, HardshipShock  # noqa: F401
    from dualpower_sim.config import load_experiment  # noqa: F401

    return str(dualpower_sim.__file__)


def build(scenario: Mapping[str, Any], seed: int) -> Any:
    """Build the model a scenario describes (see the module's docstring).

    Args:
        scenario: ``{"model": {...}}`` or ``{"experiment": ..., "n_workers": ..., "horizon": ...}``.
        seed: The run's root seed.

    Returns:
        The model, ready to run.
    """
    if "experiment" in scenario:
        from dualpower_sim.config import load_experiment

        kwargs: dict[str, Any] = {"seed": seed, "n_workers": scenario["n_workers"]}
        if scenario.get("horizon") is not None:
            kwargs["horizon"] = scenario["horizon"]
        return load_experiment(scenario["experiment"], **kwargs).build_model()
    from dualpower_sim import DualPowerModel, HardshipShock

    kwargs = dict(scenario["model"])
    kwargs["shocks"] = [HardshipShock(**shock) for shock in kwargs.get("shocks", ())]
    return DualPowerModel(seed=seed, **kwargs)


def timed_run(scenario: Mapping[str, Any], seed: int) -> tuple[float, int]:
    """Build and run one model to its outcome or horizon.

    Args:
        scenario: What to build (see :func:`build`).
        seed: The run's root seed.

    Returns:
        Wall time in seconds, build included, and the days run.
    """
    t0 = time.perf_counter()
    model = build(scenario, seed)
    model.run()
    return time.perf_counter() - t0, int(model.steps)


def _pool_worker_ready(barrier: Barrier) -> None:
    """Pool initializer: import the package, then wait until every process has done so."""
    package_file()
    barrier.wait(timeout=POOL_READY_TIMEOUT_S)


def _pool_worker_file() -> str:
    """The package file a pool process imported."""
    return package_file()


def in_pool(runs: Sequence[Mapping[str, Any]], processes: int) -> dict[str, Any]:
    """Start a pool, let all its processes import the package, then time the runs in it.

    Args:
        runs: ``{"scenario": ..., "seed": ...}`` of each run.
        processes: Size of the pool.

    Returns:
        ``files``, ``runs``, ``wall_s`` and ``start_s`` (see the module's docstring).
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=ctx,
        initializer=_pool_worker_ready,
        initargs=(barrier,),
    ) as pool:
        # With "spawn" a pool starts one process per task submitted while none is idle, so
        # these tasks start all of them; the barrier holds each until all have imported.
        ready = [pool.submit(_pool_worker_file) for _ in range(processes)]
        files = sorted({f.result() for f in ready})
        t1 = time.perf_counter()
        results = list(
            pool.map(timed_run, [r["scenario"] for r in runs], [int(r["seed"]) for r in runs])
        )
        t2 = time.perf_counter()
    return {"files": files, "runs": results, "wall_s": t2 - t1, "start_s": t1 - t0}


def main(argv: Sequence[str]) -> int:
    """Run the job given as JSON in ``argv[0]`` and print the report as one line of JSON.

    Args:
        argv: The command-line arguments after the script's name.

    Returns:
        0.
    """
    job = json.loads(argv[0])
    t0 = time.perf_counter()
    files = [package_file()]
    import_s = time.perf_counter() - t0
    runs = job["runs"]
    processes = int(job.get("processes", 0))
    start_s = None
    if processes:
        pooled = in_pool(runs, processes)
        files += [f for f in pooled["files"] if f not in files]
        results, wall_s, start_s = pooled["runs"], pooled["wall_s"], pooled["start_s"]
    else:
        t1 = time.perf_counter()
        results = [timed_run(r["scenario"], int(r["seed"])) for r in runs]
        wall_s = time.perf_counter() - t1
    report = {
        "files": files,
        "import_s": import_s,
        "runs": [[seconds, days] for seconds, days in results],
        "wall_s": wall_s,
        "start_s": start_s,
    }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
