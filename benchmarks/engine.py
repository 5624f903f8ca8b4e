"""Engine benchmark: how fast and how big the vectorised model is, against the targets.

Run on demand; it prints figures and never asserts (exit status 0 whatever the figures)::

    python benchmarks/engine.py                        # 10^4, 10^5 and 10^6 workers (~1-2 min)
    python benchmarks/engine.py --quick                # 10^4 and 10^5, fewer steps (< 1 min)
    python benchmarks/engine.py --sizes 10000 1e6 --steps 30
    python benchmarks/engine.py --against [REF] [--quick] [--repeats N]

What it measures, each part in a fresh process (``multiprocessing``, "spawn") so that the peak
resident memory of one part is not inflated by another:

1. Scaling. For each size, the default mixed city at a legitimacy of 0.5,
   ``DualPowerModel(n_workers=N, seed=1, legitimacy=0.5, shocks=[HardshipShock(start=1,
   duration=10**6, magnitude=0.3)])``: the constructor's wall time, the median of
   ``model.step()`` over a number of steps, worker-steps and steps per second, peak memory
   (``ru_maxrss``), the network's stored entries and its mean degree per layer. The long shock
   and the low legitimacy keep workers mobilizing (and being arrested, and councils sitting) so
   that every step does real work (at the default legitimacy, 0.75, the habituated city is
   quiet within days). The ``threshold`` rule is timed at 10^4 as well. The figures are printed
   beside issue 12's targets: at 10^6 build <= 3 s, full model step <= 0.04 s, mobilization
   model step <= 0.02 s, peak memory <= 1.0 GB; at 10^4 at least 1,000 steps per second.
2. Per-agent Mesa comparison. The ``threshold`` rule written the ordinary Mesa way (one
   ``FixedAgent`` per worker on a ``mesa.discrete_space.Network``, synchronous update), run on
   the same Erdos-Renyi network (10^4 workers, mean degree 20) with the same thresholds and
   initiators as the vectorised model; both must mobilize the same workers, and the speed ratio
   is printed (target: at least 1,000x).
3. Memory over repeated runs. Mesa 3.3.1 keeps every model that ever created an agent alive
   through the class-level ``mesa.Agent._ids`` (upstream issue 3179). A thousand vectorised
   models (5,000 workers, 30 busy days each; 200 with ``--quick``) are built, run and dropped in
   one process (resident memory and live instances are printed), then ten small per-agent Mesa
   models for contrast.

Memory figures are in MB of 10^6 bytes (the 1.0 GB target is 1,000 MB). Only the models' own
seeded generators are used.

With ``--against REF`` (a commit, branch or tag; without a value :data:`against.BASELINE`, the
last commit before the compiled kernels of issue 12) the script does none of the above: it times
REF side by side with the working tree (see ``against.py``), each in fresh processes,
interleaved, and prints both sides' figures and the speed-ups. The figures are issue 12's wall
time per simulated day, build included, of the default city of 10^4 workers with the long
shock and of ``petrograd_1917`` at 20,000 workers, each run to its outcome or day 365: the
first run in a process apart from the later ones, and the import of the package apart.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import platform
import resource
import statistics
import sys
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

import mesa
import numpy as np
import scipy
from mesa.discrete_space import Cell, FixedAgent, Network

import against
from dualpower_sim import (
    CityParams,
    DualPowerModel,
    HardshipShock,
    Normal,
    Policing,
    Resolution,
    ThresholdRule,
)
from dualpower_sim.rules.mobilization import SHARE_TOLERANCE

T = TypeVar("T")

#: A shock that lasts the whole run, so that workers keep mobilizing at every step.
LONG_SHOCK = HardshipShock(start=1, duration=10**6, magnitude=0.3)

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)

#: The scaling part's legitimacy. At the default 0.75 the habituated workers of the default city
#: stop mobilizing within days (0.000 mobilized after 20), so its steps timed idle days; at 0.5
#: about half the city is out after 30 days, a quarter is in jail and a hundred councils sit
#: (10^4 workers, seed 1), so every timed day does the full model's work.
BUSY_LEGITIMACY = 0.5

#: Targets (issue 12): at 10^6 workers the city builds in 3 s, the full model steps in 0.04 s
#: and the mobilization model in 0.02 s, the whole peaks at 1.0 GB; at 10^4, 1,000 steps a
#: second; the vectorised threshold rule at least 1,000 times the per-agent Mesa one.
TARGET_BUILD_S = 3.0
TARGET_FULL_STEP_S = 0.04
TARGET_STEP_S = 0.02
TARGET_PEAK_MB = 1_000.0
TARGET_STEPS_PER_S = 1_000.0
TARGET_MESA_RATIO = 1_000.0

MB = 1e6


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def in_fresh_process(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a new interpreter ("spawn") and return its result.

    Args:
        fn: A module-level function (picklable by name).
        *args: Its arguments.

    Returns:
        What ``fn`` returned in the child.
    """
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def vmrss_mb() -> float:
    """Resident memory of this process now (``VmRSS`` of ``/proc/self/status``), in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MB
    return float("nan")  # not Linux


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (``ru_maxrss``, KiB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


#: Days run before timing the full model.
WARM_UP_DAYS = 30


def timed_steps(step: Callable[[], None], n: int) -> list[float]:
    """Call ``step`` ``n`` times and return the wall time of each call in seconds."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def default_steps(n_workers: int, quick: bool) -> int:
    """Timed steps for a size: 200 at 10^4, 50 at 10^5, 20 at 10^6 (fewer with ``--quick``)."""
    if n_workers <= 10_000:
        return 50 if quick else 200
    if n_workers <= 100_000:
        return 20 if quick else 50
    return 10 if quick else 20


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


# --------------------------------------------------------------------------------------------
# 1. Scaling of the vectorised model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeResult:
    """Figures for one model size (measured in a child process)."""

    n_workers: int
    rule: str
    dual_power: bool
    steps: int
    baseline_mb: float
    build_s: float
    median_step_s: float
    max_step_s: float
    mobilization_step_s: float
    peak_mb: float
    nnz: int
    mean_degree: dict[str, float]
    mobilized_share: float
    jailed_share: float

    @property
    def steps_per_s(self) -> float:
        """Steps per second at the median step time."""
        return 1.0 / self.median_step_s

    @property
    def worker_steps_per_s(self) -> float:
        """Worker-steps per second at the median step time."""
        return self.n_workers / self.median_step_s


def measure_size(n_workers: int, steps: int, rule: str, dual_power: bool) -> SizeResult:
    """Build the default city with a long hardship shock and time its steps (run in a child).

    Args:
        n_workers: Number of workers.
        steps: Number of timed steps.
        rule: Mobilization rule name.
        dual_power: Run the full model (councils, state...) or the mobilization model alone.

    Returns:
        The figures.
    """
    baseline = vmrss_mb()
    t0 = time.perf_counter()
    model = DualPowerModel(
        n_workers=n_workers,
        seed=1,
        legitimacy=BUSY_LEGITIMACY,
        shocks=[LONG_SHOCK],
        mobilization=rule,
        policing=Policing(),  # arrests under every rule, the threshold rule's too
        dual_power=dual_power,
        horizon=10**6,
        # Never resolve, so that every timed day of the full model does all its work.
        resolution=Resolution(settle_days=10**6, insurrection_ratio=100.0),
    )
    build = time.perf_counter() - t0
    if dual_power:
        # Let the councils form first (the first days create thousands of Council agents at
        # 10^6): the full model is timed in its steady state, like the mobilization model.
        model.run(WARM_UP_DAYS)
    times = timed_steps(model.step, steps)
    # The foundation's step on the same city and state of play: hardship shocks, mobilization
    # and policing, then the indicators, without councils, debate, soldiers, state or outcome.
    foundation = [
        r
        for r in model.pipeline
        if r.name in ("hardship_shocks", "combined", "threshold", "policing")
    ]

    def mobilization_step() -> None:
        model.steps += 1
        model.world.step = model.steps
        for rule in foundation:
            rule.step(model.world, model.rng)
        model._collect()

    mobilization_times = timed_steps(mobilization_step, max(3, steps // 2))
    peak = peak_rss_mb()
    degrees = model.city.network.degree_table()["mean"]
    counts = model.world.population.counts()
    return SizeResult(
        n_workers=n_workers,
        rule=rule,
        dual_power=dual_power,
        steps=steps,
        baseline_mb=baseline,
        build_s=build,
        median_step_s=statistics.median(times),
        max_step_s=max(times),
        mobilization_step_s=statistics.median(mobilization_times),
        peak_mb=peak,
        nnz=int(model.city.network.nnz),
        mean_degree={str(k): float(v) for k, v in degrees.items()},
        mobilized_share=counts["mobilized"] / n_workers,
        jailed_share=counts["jailed"] / n_workers,
    )


def run_scaling(sizes: Sequence[int], steps: int | None, quick: bool) -> list[SizeResult]:
    """Measure every size, then the threshold rule at 10^4, each in a fresh process."""
    print(f"1. Scaling: default mixed city, legitimacy {BUSY_LEGITIMACY}, rule 'combined',")
    print(f"   policing on, seed 1, with {LONG_SHOCK!r}")
    print("   (a shock for the whole run at a legitimacy low enough that workers keep")
    print("   mobilizing, councils sit and the police arrest: every step does real work).")
    print("   Each size in a fresh process; memory is the child's peak RSS (ru_maxrss), which")
    print("   includes the interpreter and imports (the 'base' column, RSS before the build).")
    print("   Model 'mob' is the mobilization model alone (dual_power=False: shocks, mobilization,")
    print("   policing, indicators); 'full' adds councils, debate, soldiers, state and outcome,")
    print("   and its 'mob. s' column times the mobilization rules and indicators alone on that")
    print(
        f"   same model afterwards; the full model is timed after {WARM_UP_DAYS} days of warm-up.\n"
    )
    jobs = [(n, "combined", False) for n in sizes] + [(10_000, "threshold", False)]
    jobs += [(n, "combined", True) for n in sizes if n in (10_000, 1_000_000)]
    results = []
    for n, rule, full in jobs:
        k = steps if steps is not None else default_steps(n, quick)
        label = "full" if full else "mob"
        print(f"   ... {n:>9,} workers, {rule}, {label}, {k} steps", flush=True)
        try:
            results.append(in_fresh_process(measure_size, n, k, rule, full))
        except BrokenProcessPool as exc:  # e.g. the child was killed for lack of memory
            print(f"   !!! {n:,} workers ({rule}, {label}) failed: {exc!r}")
    print()
    head = (
        f"   {'workers':>9} {'rule':<9} {'model':<5} {'steps':>5} {'build s':>8} {'step s':>9} "
        f"{'max s':>7} "
        f"{'mob. s':>8} {'steps/s':>8} "
        f"{'wkr-steps/s':>11} {'base MB':>7} {'peak MB':>7} {'nnz':>11}  mobilized jailed"
    )
    print(head)
    for r in results:
        print(
            f"   {r.n_workers:>9,} {r.rule:<9} {'full' if r.dual_power else 'mob':<5} "
            f"{r.steps:>5} {r.build_s:>8.3f} "
            f"{r.median_step_s:>9.5f} {r.max_step_s:>7.3f} {r.mobilization_step_s:>8.5f} "
            f"{r.steps_per_s:>8.1f} {r.worker_steps_per_s:>11.3g} {r.baseline_mb:>7.0f} "
            f"{r.peak_mb:>7.0f} {r.nnz:>11,}  {r.mobilized_share:>9.3f} {r.jailed_share:>6.3f}"
        )
    print(
        "\n   Mean degree per layer (mobilized / jailed above: shares after the last timed step):"
    )
    layers = sorted(
        {name for r in results for name in r.mean_degree}, key=lambda s: (s == "all", s)
    )
    print("   " + f"{'workers':>9} {'rule':<9} " + " ".join(f"{name:>11}" for name in layers))
    for r in results:
        cells = " ".join(f"{r.mean_degree.get(name, float('nan')):>11.2f}" for name in layers)
        print(f"   {r.n_workers:>9,} {r.rule:<9} {cells}")
    print()
    return results


def print_targets(results: Sequence[SizeResult]) -> None:
    """Print each target beside its figure, with PASS or MISS."""
    by_key = {(r.n_workers, r.rule, r.dual_power): r for r in results}
    big, small, small_thr, big_full = (
        by_key.get((1_000_000, "combined", False)),
        by_key.get((10_000, "combined", False)),
        by_key.get((10_000, "threshold", False)),
        by_key.get((1_000_000, "combined", True)),
    )
    rows: list[tuple[str, str, str]] = []

    def add(
        label: str,
        r: SizeResult | None,
        value: Callable[[SizeResult], float],
        fmt: str,
        ok: Callable[[float], bool],
    ) -> None:
        if r is None:
            rows.append((label, "not run", "-"))
        else:
            v = value(r)
            rows.append((label, format(v, fmt), verdict(ok(v))))

    add("10^6 build <= 3 s", big, lambda r: r.build_s, ".2f", lambda v: v <= TARGET_BUILD_S)
    add(
        "10^6 full model median step <= 0.04 s",
        big_full,
        lambda r: r.median_step_s,
        ".4f",
        lambda v: v <= TARGET_FULL_STEP_S,
    )
    add(
        "10^6 mob. model median step <= 0.02 s",
        big,
        lambda r: r.median_step_s,
        ".4f",
        lambda v: v <= TARGET_STEP_S,
    )
    add(
        "10^6 full step <= 2x mob. rules, same model",
        big_full,
        lambda r: r.median_step_s / r.mobilization_step_s,
        ".2f",
        lambda v: v <= 2.0,
    )
    add(
        "10^6 full step <= 2x mob. model's step",
        big_full if big is not None else None,
        lambda r: r.median_step_s / big.median_step_s,
        ".2f",
        lambda v: v <= 2.0,
    )
    add(
        "10^6 peak memory <= 1.0 GB (MB)",
        big,
        lambda r: r.peak_mb,
        ".0f",
        lambda v: v <= TARGET_PEAK_MB,
    )
    add(
        "10^4 >= 1,000 steps/s (combined)",
        small,
        lambda r: r.steps_per_s,
        ".0f",
        lambda v: v >= TARGET_STEPS_PER_S,
    )
    add(
        "10^4 >= 1,000 steps/s (threshold)",
        small_thr,
        lambda r: r.steps_per_s,
        ".0f",
        lambda v: v >= TARGET_STEPS_PER_S,
    )
    print("   Targets")
    print(f"   {'target':<44} {'figure':>9}  verdict")
    for label, figure, word in rows:
        print(f"   {label:<44} {figure:>9}  {word}")
    print()


# --------------------------------------------------------------------------------------------
# 2. The threshold rule the per-agent Mesa way
# --------------------------------------------------------------------------------------------


class MesaWorker(FixedAgent):
    """A worker as a Mesa agent, fixed to its node of the network.

    Args:
        model: The model.
        cell: The worker's node.
        theta: Threshold: the share of mobilized neighbours that mobilizes the worker.
        initiator: Mobilized whatever the neighbours do.
    """

    def __init__(self, model: mesa.Model, cell: Cell, theta: float, initiator: bool) -> None:
        super().__init__(model)
        self.cell = cell
        self.theta = theta
        self.initiator = initiator
        self.mobilized = initiator
        self.next_mobilized = initiator

    def decide(self) -> None:
        """Compute tomorrow's state from today's neighbours (first half of a synchronous step)."""
        neighbours = list(self.cell.neighborhood.agents)
        share = sum(a.mobilized for a in neighbours) / len(neighbours) if neighbours else 0.0
        self.next_mobilized = self.initiator or share >= self.theta - SHARE_TOLERANCE

    def advance(self) -> None:
        """Apply tomorrow's state (second half of a synchronous step)."""
        self.mobilized = self.next_mobilized


class MesaThresholdModel(mesa.Model):
    """Granovetter's threshold rule with one Mesa agent per worker, updated synchronously.

    Args:
        graph: A ``networkx.Graph`` whose nodes are worker ids ``0..n-1``.
        theta: Threshold of each worker (index = worker id).
        initiator: Whether each worker is an initiator.
        seed: Seed of the model's generators (the rule itself draws nothing).
    """

    def __init__(self, graph: Any, theta: np.ndarray, initiator: np.ndarray, seed: int) -> None:
        super().__init__(seed=seed)
        self.network = Network(graph, random=self.random)
        for cell in self.network.all_cells:
            i = cell.coordinate
            MesaWorker(self, cell, float(theta[i]), bool(initiator[i]))

    def step(self) -> None:
        """All agents decide from yesterday's states, then all apply."""
        self.agents.do("decide")
        self.agents.do("advance")

    def mobilized(self) -> np.ndarray:
        """Mobilized mask by worker id."""
        out = np.zeros(len(self.agents), dtype=bool)
        for a in self.agents:
            out[a.cell.coordinate] = a.mobilized
        return out


def er_threshold_model(n_workers: int, seed: int = 1) -> DualPowerModel:
    """The vectorised side of the comparison: threshold rule on G(n, p), mean degree 20."""
    return DualPowerModel(
        n_workers=n_workers,
        seed=seed,
        city=CityParams(topology="erdos_renyi", mean_degree=20),
        mobilization=ThresholdRule(thresholds=Normal(0.25, 0.12), seed_share=0.02),
        policing=Policing(arrest_rate=0.0),
        dual_power=False,
    )


def mesa_twin(model: DualPowerModel) -> MesaThresholdModel:
    """A per-agent Mesa model with the same network, thresholds and initiators as ``model``."""
    return MesaThresholdModel(
        model.city.network.to_networkx(),
        model.world.memory["threshold.theta"],
        model.world.memory["threshold.initiator"],
        seed=model.seed,
    )


def compare_with_mesa(
    n_workers: int, check_steps: int, vec_steps: int, mesa_steps: int
) -> dict[str, Any]:
    """Run both sides in lockstep, compare them, then time more steps (run in a child).

    Args:
        n_workers: Number of workers.
        check_steps: Steps over which the two sides are compared (also timed).
        vec_steps: Total timed steps of the vectorised side.
        mesa_steps: Total timed steps of the Mesa side.

    Returns:
        Build times, per-step agreement, median step times.
    """
    t0 = time.perf_counter()
    vec = er_threshold_model(n_workers)
    vec_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = vec.city.network.to_networkx()
    export = time.perf_counter() - t0
    t0 = time.perf_counter()
    agents = MesaThresholdModel(
        graph, vec.world.memory["threshold.theta"], vec.world.memory["threshold.initiator"], seed=1
    )
    mesa_build = time.perf_counter() - t0

    rows = []
    vec_times: list[float] = []
    mesa_times: list[float] = []
    for step in range(check_steps + 1):
        if step:
            vec_times += timed_steps(vec.step, 1)
            mesa_times += timed_steps(agents.step, 1)
        a = vec.world.population.mobilized()
        b = agents.mobilized()
        rows.append((step, int(a.sum()), int(b.sum()), int((a != b).sum())))
    mesa_times += timed_steps(agents.step, max(mesa_steps - check_steps, 0))

    # Time the vectorised side only while the cascade runs (days 1 to 8, when workers change
    # state every day): afterwards nothing changes and its shares are served from cache, which
    # would flatter it. Fresh models of the same seed, as many as it takes.
    rules_times: list[float] = []
    vec_times = []
    while len(vec_times) < vec_steps:
        fresh = er_threshold_model(n_workers)
        for _ in range(8):
            t0 = time.perf_counter()
            for rule in fresh.pipeline:  # the rules alone, without indicators and collector
                rule.step(fresh.world, fresh.rng)
            t1 = time.perf_counter()
            fresh.steps += 1
            fresh.world.step = fresh.steps
            fresh._collect()
            t2 = time.perf_counter()
            rules_times.append(t1 - t0)
            vec_times.append(t2 - t0)
    return {
        "n": n_workers,
        "edges": graph.number_of_edges(),
        "vec_build": vec_build,
        "export": export,
        "mesa_build": mesa_build,
        "rows": rows,
        "vec_median": statistics.median(vec_times),
        "mesa_median": statistics.median(mesa_times),
        "rules_median": statistics.median(rules_times),
        "vec_steps": len(vec_times),
        "mesa_steps": len(mesa_times),
    }


def run_mesa_comparison(quick: bool) -> None:
    """Print the per-agent comparison."""
    n, check = 10_000, 10
    print("2. Per-agent Mesa comparison: threshold rule, G(n, p) with n = 10,000, mean degree 20,")
    print(
        "   Normal(0.25, 0.12) thresholds, 2% initiators, no arrests. Same network (exported with"
    )
    print(
        "   to_networkx()), thresholds and initiators on both sides; Mesa side: one FixedAgent per"
    )
    print("   worker on mesa.discrete_space.Network, all decide then all advance. Vectorised side")
    print("   timed with its full model.step() (rules + indicators + record).\n", flush=True)
    r = in_fresh_process(compare_with_mesa, n, check, 50 if quick else 200, check if quick else 30)
    print(f"   network: {r['n']:,} nodes, {r['edges']:,} edges")
    print(
        f"   build: vectorised {r['vec_build']:.3f} s; to_networkx {r['export']:.2f} s; "
        f"Mesa agents and space {r['mesa_build']:.2f} s"
    )
    print(f"   {'step':>4} {'vectorised':>10} {'Mesa':>6} {'differ':>6}")
    for step, a, b, diff in r["rows"]:
        print(f"   {step:>4} {a:>10,} {b:>6,} {diff:>6}")
    same = all(a == b and diff == 0 for _, a, b, diff in r["rows"])
    print(f"   same mobilized workers at every step 0..{check}: {'yes' if same else 'NO'}")
    ratio = r["mesa_median"] / r["rules_median"]
    print(
        f"   median step: vectorised rule {r['rules_median'] * 1e3:.3f} ms, full model.step() "
        f"{r['vec_median'] * 1e3:.3f} ms ({r['vec_steps']} steps); "
        f"Mesa {r['mesa_median'] * 1e3:.1f} ms ({r['mesa_steps']} steps)"
    )
    # Like for like: the Mesa side runs the rule and records nothing, so the verdict compares it
    # with the vectorised rule alone; the full step also computes ~20 indicators and collects.
    print(
        f"   speed ratio, rule vs rule: {ratio:,.0f}x (target >= {TARGET_MESA_RATIO:.0f}x): "
        f"{verdict(ratio >= TARGET_MESA_RATIO)}"
    )
    print(
        f"   for information, with the vectorised side's indicators and record: "
        f"{r['mesa_median'] / r['vec_median']:,.0f}x"
    )
    print()


# --------------------------------------------------------------------------------------------
# 3. Memory over repeated builds in one process
# --------------------------------------------------------------------------------------------


def repeated_builds(
    make: Callable[[int], mesa.Model], builds: int, steps: int, checkpoints: Sequence[int]
) -> dict[str, Any]:
    """Build, run and drop ``builds`` models in a row; track memory and survivors (in a child).

    Args:
        make: Builds the i-th model (i from 1).
        builds: Number of models.
        steps: Steps run on each.
        checkpoints: After which builds to read the resident memory.

    Returns:
        RSS at the start and at each checkpoint, live instances before and after
        ``gc.collect()``, instances found by a ``gc`` scan, and ``len(mesa.Agent._ids)``.
    """
    start = vmrss_mb()
    refs: list[weakref.ref[mesa.Model]] = []
    rss = {}
    kind: type = type(None)
    for i in range(1, builds + 1):
        model = make(i)
        for _ in range(steps):
            model.step()
        kind = type(model)
        refs.append(weakref.ref(model))
        del model
        if i in checkpoints:
            rss[i] = vmrss_mb()
    live_before = sum(r() is not None for r in refs)
    gc.collect()
    live_after = sum(r() is not None for r in refs)
    scanned = sum(isinstance(o, kind) for o in gc.get_objects())
    return {
        "kind": kind.__name__,
        "start": start,
        "rss": rss,
        "end": vmrss_mb(),
        "live_before_gc": live_before,
        "live_after_gc": live_after,
        "gc_scan": scanned,
        "agent_ids": len(mesa.Agent._ids),
    }


def make_dualpower(i: int) -> DualPowerModel:
    """The i-th model of the repeated-run check: 5,000 busy workers (councils sit), seed i."""
    return DualPowerModel(
        n_workers=5_000, seed=i, legitimacy=BUSY_LEGITIMACY, shocks=[LONG_SHOCK], horizon=10**6
    )


def make_mesa(i: int) -> MesaThresholdModel:
    """The i-th per-agent Mesa model of the repeated-build check (2,000 agents, seed i)."""
    return mesa_twin(er_threshold_model(2_000, seed=i))


def print_builds(r: dict[str, Any], builds: int) -> None:
    """Print one repeated-build result."""
    marks = ", ".join(f"after {i}: {mb:.0f}" for i, mb in r["rss"].items())
    first, last = r["rss"][1], r["rss"][builds]
    print(f"   RSS MB: start {r['start']:.0f}, {marks}; after gc.collect() {r['end']:.0f}")
    print(f"   growth from model 1 to model {builds}: {last - first:+.0f} MB")
    print(
        f"   live {r['kind']} instances: {r['live_before_gc']} before gc.collect(), "
        f"{r['live_after_gc']} after (gc scan finds {r['gc_scan']})"
    )
    print(f"   len(mesa.Agent._ids) = {r['agent_ids']}")


def run_memory_check(quick: bool) -> None:
    """Print the repeated-build check for the vectorised and the per-agent model."""
    builds = 200 if quick else 1_000
    checkpoints = sorted({c for c in (1, 10, 100, 200, 500, 1_000) if c <= builds} | {builds})
    print(
        f"3. Memory over repeated runs: {builds} x DualPowerModel(n_workers=5_000, seed=i,\n"
        f"   legitimacy={BUSY_LEGITIMACY}, shocks=[{LONG_SHOCK!r}]), 30 steps"
    )
    print("   each, reference dropped, all in one fresh process (RSS from /proc/self/status).")
    print(
        "   Mesa 3.3.1 keeps every model that created an agent alive via mesa.Agent._ids (#3179).",
        flush=True,
    )
    r = in_fresh_process(repeated_builds, make_dualpower, builds, 30, checkpoints)
    print_builds(r, builds)
    if r["live_before_gc"]:
        print(
            "   (dropped models wait for the cyclic collector: mesa.Model.__init__ stores bound\n"
            "   methods on the instance, self.step = self._wrapped_step, a reference cycle; the\n"
            "   numpy arrays that make a model big do not count towards gc's thresholds)"
        )
    ok = r["live_after_gc"] <= 1
    print(
        f"   live vectorised models after gc: {r['live_after_gc']} (want 0 or 1): {verdict(ok)}\n"
    )

    print(
        "   Contrast: 10 x per-agent Mesa threshold model, 2,000 agents, 5 steps each, dropped.",
        flush=True,
    )
    r = in_fresh_process(repeated_builds, make_mesa, 10, 5, [1, 10])
    print_builds(r, 10)
    print(
        "   -> mesa.Agent._ids still holds references: "
        f"{'yes, every per-agent model is kept alive' if r['agent_ids'] else 'no'}"
    )
    print()


# --------------------------------------------------------------------------------------------
# --against: the working tree side by side with a git reference
# --------------------------------------------------------------------------------------------

#: Issue 12's two cities, each run to its outcome or day 365 (``against_child.py`` builds them
#: with the public API only, so that an older reference can run them too).
AGAINST_CITY = {
    "model": {
        "n_workers": 10_000,
        "horizon": 365,
        "shocks": [
            {
                "start": LONG_SHOCK.start,
                "duration": LONG_SHOCK.duration,
                "magnitude": LONG_SHOCK.magnitude,
            }
        ],
    }
}
#: ``horizon`` None keeps the preset's own, 365 days.
AGAINST_PETROGRAD = {"experiment": "petrograd_1917", "n_workers": 20_000, "horizon": None}


def against_jobs(quick: bool) -> list[against.Job]:
    """The side-by-side jobs: each city, run with seeds 1, 2, 3 (1, 2 with ``--quick``)."""
    seeds = range(1, (2 if quick else 3) + 1)

    def figures(name: str) -> tuple[against.Figure, ...]:
        return (
            against.Figure(f"{name}: first run", "ms/day", against.first_run_ms_per_day),
            against.Figure(f"{name}: later runs", "ms/day", against.later_runs_ms_per_day),
            against.Figure(f"{name}: days per run", "days", against.mean_days, compared=False),
        )

    imports = against.Figure("import dualpower_sim and its model", "s", against.import_seconds)
    return [
        against.Job(
            "default city 10^4",
            tuple({"scenario": AGAINST_CITY, "seed": s} for s in seeds),
            processes=0,
            figures=(imports, *figures("default city 10^4, long shock")),
            headline=2,
        ),
        against.Job(
            "petrograd_1917 2e4",
            tuple({"scenario": AGAINST_PETROGRAD, "seed": s} for s in seeds),
            processes=0,
            figures=figures("petrograd_1917, 20,000 workers"),
            headline=1,
        ),
    ]


def against_description(quick: bool) -> list[str]:
    """What ``--against`` measures, printed above its figures."""
    runs = 2 if quick else 3
    return [
        "Wall time per simulated day, build included (the constructor and model.run() to the",
        "run's outcome or day 365), over the runs of one child process: the default city of",
        f"10^4 workers with {LONG_SHOCK!r}",
        "and petrograd_1917 at 20,000 workers (load_experiment(...).build_model()), seeds 1 to",
        f"{runs}, one child per city, side and round. 'first run' is seed 1, run after the child",
        "has imported the package; 'later runs' are the others. The import (the package, the",
        "model and load_experiment: the package loads its modules on first use) is timed in",
        "the default city's child.",
    ]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """A size such as ``10000`` or ``1e6``."""
    value = float(text)
    if value < 2 or value != int(value):
        raise argparse.ArgumentTypeError(f"size {text!r}: allowed: a whole number >= 2")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        0: the benchmark reports, it does not judge (with ``--against``, 1 if a measurement
        failed and 130 if interrupted; a bad option exits with status 2).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=parse_size,
        nargs="+",
        default=None,
        help="numbers of workers (default: 10000 100000 1000000)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed steps per size (default: 200 at 10^4, 50 at 10^5, 20 at 10^6)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10^4 and 10^5 only, fewer steps and builds (under a minute)",
    )
    against.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.against is None and args.repeats is not None:
        parser.error("argument --repeats: only with --against")
    if args.against is not None and (args.sizes is not None or args.steps is not None):
        parser.error("argument --against: times fixed cities; --sizes and --steps do not apply")
    commit = None if args.against is None else against.resolve_or_exit(parser, args.against)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)

    print(
        f"dualpower_sim engine benchmark: Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, mesa {mesa.__version__}; "
        f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs"
        f"{', --quick' if args.quick else ''}\n"
    )
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
    results = run_scaling(sizes, args.steps, args.quick)
    print_targets(results)
    run_mesa_comparison(args.quick)
    run_memory_check(args.quick)
    print(f"Total wall time {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
