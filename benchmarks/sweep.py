"""Sweep benchmark: throughput, memory over many runs, resume overhead, mesa.batch_run.

Run on demand; it prints figures beside the targets and never asserts::

    python benchmarks/sweep.py            # about four minutes on two cores
    python benchmarks/sweep.py --quick    # fewer runs (about a minute)
    python benchmarks/sweep.py --against [REF] [--quick] [--repeats N]

Targets (issue 5): on 2 cores at least 1.8x the throughput of 1 core; at least 5 runs per
second per core for 10^4 workers over 365 steps; memory flat over 1,000 runs; resume overhead
under 2 s for 10,000 recorded runs.

With ``--against REF`` (a commit, branch or tag; without a value :data:`against.BASELINE`, the
last commit before the compiled kernels of issue 12) the script does none of the above: it times
REF side by side with the working tree (see ``against.py``), each in fresh processes,
interleaved, and prints both sides' figures and the speed-ups: the throughput's runs per second
in one process and per core in a pool of two, on the runs of the throughput sweep built with the
public API (``DualPowerModel``) rather than through ``run_sweep``, so that an older reference can
run them too and the figures are those of the simulation alone.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

import against
from dualpower_sim import DualPowerModel, HardshipShock
from dualpower_sim.sweeps import (
    SweepStore,
    load_sweep,
    local_results,
    manifest_for,
    run_sweep,
    tasks_for,
)

MB = 1e6

#: The shock of the benchmark's sweeps: a city under hardship from day 5 to the end of the run.
SWEEP_SHOCK = {"start": 5, "duration": 1000, "magnitude": 0.3}

#: The long sweep of the throughput (not with ``--quick``): points x replicates, 400 runs.
LONG_POINTS, LONG_REPLICATES = 8, 50

#: The pool of the throughput's per-core figure.
POOL = 2


def sweep_file(folder: Path, points: int, replicates: int, n_workers: int, horizon: int) -> Path:
    """A sweep of ``points`` legitimacy values on a mixed city hit by a long shock."""
    values = ", ".join(f"{v:.3f}" for v in np.linspace(0.3, 0.8, points))
    config = folder / "city.toml"
    shock = "".join(f"{key} = {value}\n" for key, value in SWEEP_SHOCK.items())
    config.write_text(f"description = 'benchmark city'\n[[shocks]]\n{shock}")
    path = folder / "bench.toml"
    path.write_text(
        f"config = 'city.toml'\nreplicates = {replicates}\nseed = 1\n"
        f"n_workers = {n_workers}\nhorizon = {horizon}\n"
        f"[parameters]\nlegitimacy = [{values}]\n"
    )
    return path


def throughput(quick: bool) -> None:
    """Runs per second in this process, and in a pool of one and of two processes."""
    points, reps = (4, 2) if quick else (8, 4)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sweep = load_sweep(sweep_file(folder, points, reps, 10_000, 365))
        rows = []
        t0 = time.perf_counter()
        run_sweep(sweep, folder / "serial", jobs=1)
        took = time.perf_counter() - t0
        rows.append(("1, in this process", sweep.n_runs, took, sweep.n_runs / took))
        tasks = tasks_for(sweep, sweep.runs(), None)
        for jobs in (1, 2):
            t0 = time.perf_counter()
            n = sum(1 for _ in local_results(tasks, jobs))
            took = time.perf_counter() - t0
            rows.append((f"{jobs}, process pool", n, took, n / took))
        if not quick:
            # A sweep as long as a modeller's (400 runs): the pool's start (its processes import
            # the package and load the kernels) weighs less in it than in the 32 runs above.
            long = load_sweep(sweep_file(folder, LONG_POINTS, LONG_REPLICATES, 10_000, 365))
            long_tasks = tasks_for(long, long.runs(), None)
            t0 = time.perf_counter()
            n = sum(1 for _ in local_results(long_tasks, 2))
            took = time.perf_counter() - t0
            rows.append(("2, pool, long sweep", n, took, n / took))
        parts = sorted((folder / "serial" / "runs").glob("*.parquet"))
        steps = pd.concat([pd.read_parquet(part) for part in parts])["steps"]
    print(
        "1. Throughput: 10^4 workers, up to 365 days a run (median run "
        f"{statistics.median(steps):.0f} days); a pool pays about 2 s to start its processes"
    )
    print(f"   {'cores':>18} {'runs':>5} {'seconds':>8} {'runs/s':>8}")
    for label, n, took, rate in rows:
        print(f"   {label:>18} {n:>5} {took:>8.1f} {rate:>8.2f}")
    speedup = rows[2][3] / rows[1][3]
    print(
        f"   pool of 2 against pool of 1: {speedup:.2f}x (target >= 1.8x): "
        f"{'PASS' if speedup >= 1.8 else 'MISS'}"
    )
    for _label, n, _, rate in rows[2:]:
        per_core = rate / 2
        print(
            f"   runs per second per core, pool of 2, {n} runs: {per_core:.2f} (target >= 5): "
            f"{'PASS' if per_core >= 5 else 'MISS'}"
        )
    print()


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MB
    return float("nan")


def _many_runs(n: int) -> list[tuple[int, float]]:
    """In a fresh process: ``n`` small runs one after the other, RSS now and then."""
    marks = []
    for i in range(n):
        model = DualPowerModel(
            n_workers=2_000, seed=i, horizon=30, shocks=[HardshipShock(start=2, duration=20)]
        )
        model.run()
        del model
        if i + 1 in (1, 10, 100, 250, 500, 750, 1000) or i + 1 == n:
            marks.append((i + 1, _rss_mb()))
    return marks


def memory(quick: bool) -> None:
    """Resident memory of one process over many runs (the pool replaces processes anyway)."""
    n = 200 if quick else 1000
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        marks = pool.submit(_many_runs, n).result()
    print(
        f"2. Memory: {n} runs of 2,000 workers for 30 days, one after the other in one "
        "process (RSS, MB)"
    )
    print("   " + ", ".join(f"after {i}: {mb:.0f}" for i, mb in marks))
    growth = marks[-1][1] - marks[min(1, len(marks) - 1)][1]
    print(
        f"   growth after the first ten runs: {growth:+.0f} MB (target: flat): "
        f"{'PASS' if growth < 20 else 'MISS'}\n"
    )


def resume_overhead() -> None:
    """Time to open a sweep folder holding 10,000 recorded runs and find what is left."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sweep = load_sweep(sweep_file(folder, 100, 120, 10_000, 365))  # 12,000 runs
        store = SweepStore(folder / "out")
        design = sweep.runs()
        store.create(manifest_for(sweep), sweep.text, "", design)
        rng = np.random.default_rng(0)
        for start in range(0, 10_000, 50):  # 200 parts of 50 runs, as a sweep writes them
            rows = [
                {
                    "run": r,
                    "point": r % 100,
                    "replicate": r // 100,
                    "seed": 1,
                    "status": "done",
                    "outcome": "unresolved",
                    "steps": 365,
                    "peak_council_power": rng.random(),
                    "seconds": 1.0,
                    "error": "",
                }
                for r in range(start, start + 50)
            ]
            store.append(rows)
        t0 = time.perf_counter()
        again = SweepStore(folder / "out")
        again.open(sweep.sweep_hash)
        recorded = again.recorded()
        todo = design[~design["run"].isin(recorded)]
        took = time.perf_counter() - t0
    print(
        "3. Resume overhead: a folder with 10,000 recorded runs in 200 parts, 12,000 in the design"
    )
    print(
        f"   open, read what is recorded, find the {len(todo):,} runs left: {took:.2f} s "
        f"(target < 2 s): {'PASS' if took < 2 else 'MISS'}\n"
    )


def against_batch_run(quick: bool) -> None:
    """The same small sweep through mesa.batch_run and through dualpower's pool."""
    legitimacy = list(np.linspace(0.3, 0.8, 4 if quick else 8))
    reps, steps, n = 2, 100, 10_000
    t0 = time.perf_counter()
    mesa.batch_run(
        DualPowerModel,
        parameters={
            "legitimacy": legitimacy,
            "n_workers": n,
            "horizon": steps,
            "shocks": [[HardshipShock(start=5, duration=1000, magnitude=0.3)]],
        },
        iterations=reps,
        max_steps=steps,
        number_processes=2,
        display_progress=False,
    )
    mesa_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        sweep = load_sweep(sweep_file(Path(tmp), len(legitimacy), reps, n, steps))
        t0 = time.perf_counter()
        run_sweep(sweep, Path(tmp) / "out", jobs=2)
        ours = time.perf_counter() - t0
    runs = len(legitimacy) * reps
    print(f"4. The same sweep ({runs} runs, 10^4 workers, {steps} days) on two processes")
    print(
        f"   mesa.batch_run {mesa_s:.1f} s, dualpower sweep {ours:.1f} s: "
        f"ratio {mesa_s / ours:.2f} (dualpower also writes a crash-safe store and spawns "
        "fresh processes; batch_run keeps every row in memory)\n"
    )


def against_jobs(quick: bool) -> list[against.Job]:
    """The side-by-side jobs: the throughput's runs in one process, then in a pool of two.

    The runs are those of :func:`throughput`'s sweep (10^4 workers, up to 365 days, the long
    :data:`SWEEP_SHOCK`, legitimacy from 0.3 to 0.8 in four points), seeds 1 to 8 (1 to 4 with
    ``--quick``).
    """
    legitimacy = [round(float(v), 3) for v in np.linspace(0.3, 0.8, 4)]
    runs = tuple(
        {
            "scenario": {
                "model": {
                    "n_workers": 10_000,
                    "horizon": 365,
                    "legitimacy": legitimacy[i % len(legitimacy)],
                    "shocks": [SWEEP_SHOCK],
                }
            },
            "seed": i + 1,
        }
        for i in range(4 if quick else 8)
    )
    days = against.Figure("days per run", "days", against.mean_days, compared=False)
    return [
        against.Job(
            "one process",
            runs,
            processes=0,
            figures=(
                against.Figure(
                    "10^4 x 365: runs per second, one process",
                    "runs/s",
                    against.runs_per_second,
                    rate=True,
                ),
                days,
            ),
        ),
        against.Job(
            f"pool of {POOL}",
            runs,
            processes=POOL,
            figures=(
                against.Figure(
                    f"the same, pool of {POOL}: runs per second per core",
                    "runs/s/core",
                    lambda report: against.runs_per_second(report) / POOL,
                    rate=True,
                ),
                against.Figure(
                    f"pool of {POOL}: start, until all have imported",
                    "s",
                    against.pool_start_seconds,
                ),
            ),
        ),
    ]


def against_description(quick: bool) -> list[str]:
    """What ``--against`` measures, printed above its figures."""
    return [
        "Runs of the throughput sweep (10^4 workers, up to 365 days, legitimacy 0.3 to 0.8,",
        f"shock {SWEEP_SHOCK}), seeds 1 to {4 if quick else 8}, built and run with",
        "DualPowerModel(...).run(), not run_sweep (no store is written): one process runs them",
        "one after the other, the first included; a pool of two fresh processes ('spawn') runs",
        "them once both have imported the package (the pool's start is its own figure).",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    against.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.against is None and args.repeats is not None:
        parser.error("argument --repeats: only with --against")
    commit = None if args.against is None else against.resolve_or_exit(parser, args.against)
    print(f"dualpower_sim sweep benchmark on {os.cpu_count()} CPUs\n")
    if commit is not None:
        return against.run(
            parser,
            args.against,
            commit,
            against.repeats(args),
            against_jobs(args.quick),
            against_description(args.quick),
        )
    t0 = time.perf_counter()
    throughput(args.quick)
    memory(args.quick)
    resume_overhead()
    against_batch_run(args.quick)
    print(f"Total wall time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
