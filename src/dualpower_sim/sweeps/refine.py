"""Adaptive refinement: more runs where an outcome's probability is still unsure.

A finished sweep is refined round by round (:func:`refine_sweep`): the points whose Wilson
interval of P(outcome) straddles one half get more replicates, and in a one-parameter sweep new
points are added between the design values around the tipping point until its interval is
narrow enough. New runs are recorded in the same store with seeds spawned like the design's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..outcomes import OUTCOMES
from ..params import ParameterError
from .executors import Executor
from .running import _executor, check_run_options, execute, jobs_from
from .spec import Sweep, run_seed
from .store import SweepStore, load_results, release

__all__ = ["REFINABLE", "REFINE_OUTCOMES", "check_refine_options", "refine_sweep"]

#: Outcomes whose 0.5 crossing refinement looks for, in this order, unless one is named.
REFINE_OUTCOMES = ("council_power", "state_restored")


#: Outcomes a sweep can be refined on (the ones a run can end in).
REFINABLE = OUTCOMES


def check_refine_options(
    *, outcome: str | None = None, target_width: float = 0.1, budget: int | None = None
) -> None:
    """Check how a sweep is to be refined, before anything runs.

    Args:
        outcome: One of :data:`REFINABLE`, or None to choose one.
        target_width: A number > 0 (parameter units).
        budget: A whole number >= 1 of new runs, or None for as many as the sweep has.

    Raises:
        ParameterError: Naming the option (``outcome``, ``target_width``, ``budget``), the value
            and what is allowed.
    """
    if outcome is not None and outcome not in REFINABLE:
        raise ParameterError("outcome", outcome, "allowed: " + ", ".join(map(repr, REFINABLE)))
    if (
        isinstance(target_width, bool)
        or not isinstance(target_width, int | float)
        or not target_width > 0
    ):
        raise ParameterError("target_width", target_width, "allowed: a number > 0")
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or budget < 1
    ):
        raise ParameterError("budget", budget, "allowed: a whole number >= 1")


def refine_sweep(
    sweep: Sweep,
    folder: Path,
    *,
    outcome: str | None = None,
    target_width: float = 0.1,
    budget: int | None = None,
    jobs: int = 1,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    progress: bool = False,
    time_limit: float | None = None,
    log: Callable[[str], Any] = print,
    workers: int | None = None,
) -> dict[str, Any]:
    """Add runs where an outcome's probability is still unsure around one half.

    Round after round: the points whose Wilson interval of P(outcome) straddles 0.5 get as many
    new replicates as the sweep has; in a one-parameter sweep, the tipping point is fitted, a
    new point is added halfway between the two design values around it (while they are more
    than ``target_width`` apart), and refinement stops once the tipping point's interval is
    narrower than ``target_width``. It also stops when no point straddles 0.5 or the budget of
    new runs is spent. New runs get seeds spawned by (point, replicate) like the others and are
    recorded in the same folder, so a refined sweep stays reproducible.

    Args:
        sweep: The sweep (already run into ``folder``).
        folder: Its results folder.
        outcome: The outcome to refine on (default: the first of council_power and
            state_restored whose probability comes near one half).
        target_width: Width of the tipping point's interval to reach, in parameter units.
        budget: Most new runs (default: as many as the sweep has).
        jobs: Processes.
        executor: ``"local"``, ``"dask"`` or an
            :class:`~dualpower_sim.sweeps.executors.Executor`.
        scheduler: A Dask scheduler's address.
        progress: Progress bars.
        time_limit: Seconds a run may take before it is recorded as failed.
        log: Where to say what each round does.
        workers: The old name of ``jobs`` (a FutureWarning says so).

    Returns:
        ``runs_added``, ``rounds``, ``outcome``, ``stopped`` (why), and the last ``tipping``
        point (one-parameter sweeps).

    Raises:
        ParameterError: For an option that is not allowed (see :func:`check_refine_options`
            and :func:`~dualpower_sim.sweeps.running.check_run_options`).
        ResultsError: If the folder does not hold this sweep or cannot be written.
    """
    from ..analysis import outcome_table, tipping_point

    jobs = jobs_from(jobs, workers, "refine_sweep")
    check_refine_options(outcome=outcome, target_width=target_width, budget=budget)
    check_run_options(jobs=jobs, time_limit=time_limit, executor=executor, scheduler=scheduler)
    store = SweepStore(folder)
    store.open(sweep.sweep_hash)
    claims = store.claim()
    try:
        budget = sweep.n_runs if budget is None else budget
        added, rounds, tipping, chosen = 0, 0, None, None
        params = list(sweep.parameters)
        one_numeric = len(params) == 1 and pd.api.types.is_numeric_dtype(sweep.points[params[0]])
        while True:
            results = load_results(folder)
            done = results.runs[results.runs["status"] == "done"]
            if done.empty:
                stopped = "no finished run to learn from"
                break
            chosen = outcome or _outcome_near_half(done, params)
            if chosen is None:
                stopped = "no outcome's probability comes near one half"
                break
            table = outcome_table(done, params, [chosen])
            straddling = table[(table["low"] < 0.5) & (table["high"] > 0.5)]
            new_points: list[float] = []
            if one_numeric:
                tipping = tipping_point(done, params[0], chosen, n_boot=200, seed=rounds)
                if tipping.found and tipping.high - tipping.low <= target_width:
                    stopped = f"tipping point known to within {target_width}"
                    break
                if tipping.found:
                    new_points = _midpoint(
                        results.design[params[0]].unique(), tipping, target_width
                    )
            if straddling.empty and not new_points:
                stopped = "no point's interval straddles one half"
                break
            if added >= budget:
                stopped = f"budget of {budget} new runs spent"
                break
            new = _new_runs(sweep, results.design, straddling, new_points, budget - added)
            if new.empty:
                stopped = f"budget of {budget} new runs spent"
                break
            store.replace_design(pd.concat([results.design, new], ignore_index=True))
            store.log("refine", round=rounds + 1, outcome=chosen, runs=len(new))
            log(
                f"refine round {rounds + 1}: {len(new)} runs at {new['point'].nunique()} points "
                f"where P({chosen}) is unsure"
            )
            execute(
                sweep,
                store,
                new,
                _executor(sweep, executor, jobs, 100, scheduler),
                time_limit=time_limit,
                progress=progress,
            )
            added += len(new)
            rounds += 1
        store.log("refined", rounds=rounds, runs=added, stopped=stopped)
        return {
            "runs_added": added,
            "rounds": rounds,
            "outcome": outcome or chosen,
            "stopped": stopped,
            "tipping": tipping,
        }
    finally:
        release(claims)


def _outcome_near_half(runs: pd.DataFrame, params: list[str]) -> str | None:
    from ..analysis import outcome_table

    for outcome in REFINE_OUTCOMES:
        table = outcome_table(runs, params, [outcome])
        if ((table["low"] < 0.5) & (table["high"] > 0.5)).any() or (
            table["p"].min() < 0.5 < table["p"].max()
        ):
            return outcome
    return None


def _midpoint(values, tipping, target_width: float) -> list[float]:
    values = np.asarray(values)
    integer = values.dtype.kind in "iu"
    xs = np.sort(values.astype(float))
    right = np.searchsorted(xs, tipping.estimate)
    if right == 0 or right >= xs.size:
        return []
    lo, hi = xs[right - 1], xs[right]
    if hi - lo <= target_width:
        return []
    if integer:  # a whole-number parameter gets a whole-number point, if there is room
        mid = int(np.floor((lo + hi) / 2))
        return [mid] if lo < mid < hi else []
    return [round(float((lo + hi) / 2), 12)]


def _new_runs(
    sweep: Sweep, design: pd.DataFrame, straddling: pd.DataFrame, new_points: list, room: int
) -> pd.DataFrame:
    params = list(sweep.parameters)
    per_point = design.groupby("point")["replicate"].max() + 1
    rows: list[dict[str, Any]] = []
    next_run = int(design["run"].max()) + 1
    next_point = int(design["point"].max()) + 1
    targets: list[tuple[int, dict]] = []
    for _, row in straddling.iterrows():
        match = design
        for p in params:
            match = match[match[p] == row[p]]
        point = int(match["point"].iloc[0])
        targets.append((point, {p: row[p] for p in params}))
    for value in new_points:
        targets.append((next_point, {params[0]: value}))
        per_point.loc[next_point] = 0
        next_point += 1
    for r in range(sweep.replicates):  # replicate by replicate: a stopped round stays balanced
        for point, values in targets:
            if len(rows) >= room:
                break
            replicate = int(per_point.loc[point]) + r
            rows.append(
                {
                    "run": next_run,
                    "point": point,
                    "replicate": replicate,
                    "seed": run_seed(sweep.seed, point, replicate),
                    **values,
                }
            )
            next_run += 1
    new = pd.DataFrame(rows, columns=list(design.columns))
    # Keep the design's column types (an integer parameter stays integer).
    return new.astype(design.dtypes.to_dict()) if not new.empty else new
