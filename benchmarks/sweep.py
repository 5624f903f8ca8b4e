"""Sweep benchmark: throughput, memory over many runs, resume overhead, mesa.batch_run.

Run on demand; it prints figures beside the targets and never asserts::

    python benchmarks/sweep.py            # about three minutes on two cores
    python benchmarks/sweep.py --quick    # fewer runs (about a minute)

Targets (issue 5): on 2 cores at least 1.8x the throughput of 1 core; at least 5 runs per
second per core for 10^4 workers over 365 steps; memory flat over 1,000 runs; resume overhead
under 2 s for 10,000 recorded runs.
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


def sweep_file(folder: Path, points: int, replicates: int, n_workers: int, horizon: int) -> Path:
    """A sweep of ``points`` legitimacy values on a mixed city hit by a long shock."""
    values = ", ".join(f"{v:.3f}" for v in np.linspace(0.3, 0.8, points))
    config = folder / "city.toml"
    config.write_text(
        "description = 'benchmark city'\n[[shocks]]\nstart = 5\nduration = 1000\nmagnitude = 0.3\n"
    )
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
        steps = pd.read_parquet(next((folder / "serial" / "runs").glob("*.parquet")))["steps"]
    print(
        "1. Throughput: 10^4 workers, up to 365 days a run (median run "
        f"{statistics.median(steps):.0f} days); a pool pays about 2 s to start its processes"
    )
    print(f"   {'cores':>18} {'runs':>5} {'seconds':>8} {'runs/s':>8}")
    for label, n, took, rate in rows:
        print(f"   {label:>18} {n:>5} {took:>8.1f} {rate:>8.2f}")
    speedup = rows[2][3] / rows[1][3]
    per_core = rows[2][3] / 2
    print(
        f"   pool of 2 against pool of 1: {speedup:.2f}x (target >= 1.8x): "
        f"{'PASS' if speedup >= 1.8 else 'MISS'}"
    )
    print(
        f"   runs per second per core: {per_core:.2f} (target >= 5): "
        f"{'PASS' if per_core >= 5 else 'MISS'}\n"
    )


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args(argv)
    print(f"dualpower_sim sweep benchmark on {os.cpu_count()} CPUs\n")
    t0 = time.perf_counter()
    throughput(args.quick)
    memory(args.quick)
    resume_overhead()
    against_batch_run(args.quick)
    print(f"Total wall time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
