"""Sweeps: many runs of one experiment over a design of parameter points, with replicates.

A sweep is a TOML file::

    description = "Organising by territory against the state's readiness to strike"
    config = "petrograd_1917"      # the experiment swept: a preset, or a path beside this file
    replicates = 10
    seed = 2024                    # the sweep's root seed
    horizon = 365                  # optional: replaces the experiment's
    n_workers = 20000              # optional: replaces the experiment's
    set = { "councils.min_members" = 10 }   # optional: fixed changes for every run

    [design]
    kind = "grid"                  # grid, list, lhs, sobol, halton
    samples = 32                   # lhs, sobol, halton: number of points

    [parameters]                   # dotted config keys
    "city.territorial_share" = { low = 0.0, high = 1.0, steps = 6 }   # grid: evenly spaced
    "state.offensive_readiness" = [0.1, 0.3, 0.5]                     # grid: these values

    [metrics]
    indicators = ["council_power", "mobilized"]   # indicator values kept per run ...
    at = [30, 90, 180]                            # ... on these days

Designs: ``grid`` (every combination), ``list`` (``points = [{...}, ...]`` in ``[design]``),
``lhs`` (Latin hypercube), ``sobol`` and ``halton`` (``scipy.stats.qmc``, scrambled and seeded
from the sweep's root seed), and SALib's samples for sensitivity analysis: ``saltelli``
(``samples`` = N, a power of two, gives N (d + 2) points for first and total order Sobol
indices) and ``morris`` (``samples`` trajectories of d + 1 points, ``levels`` = 4). These take
``{ low, high }`` ranges; the qmc designs also ``integer = true`` for whole-number parameters
(SALib's designs are continuous).

A design is at most :data:`MAX_POINTS` (10^6) points and :data:`MAX_RUNS` (10^7) runs in all,
refused at once when larger (its size is known before it is built); the keys the sweep owns
(:data:`RESERVED_KEYS`: ``seed``, ``point``, ``replicate``, ``run``) cannot be swept.

Every run's seed is spawned from the root seed by (point, replicate) and stored, so results do
not depend on the executor, the number of processes or the order runs finish in. Runs are
ordered replicate by replicate (every point once, then every point again), so a sweep stopped
half-way is still a balanced sample.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import shutil
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .config import (
    ConfigError,
    Experiment,
    check_name,
    experiment_from_config,
    file_label,
    load_experiment,
    locate_config,
    read_toml,
)
from .indicators import indicator_names
from .outcomes import OUTCOMES, run_record
from .params import did_you_mean
from .provenance import now, provenance

__all__ = [
    "DESIGNS",
    "RUN_COLUMNS",
    "Sweep",
    "execute_run",
    "load_sweep",
    "run_seed",
]

#: Designs a sweep can use; ``saltelli`` and ``morris`` are SALib's samples for Sobol and Morris
#: sensitivity analysis (the ``sensitivity`` extra).
DESIGNS = ("grid", "list", "lhs", "sobol", "halton", "saltelli", "morris")

#: Keys of a sweep file.
SWEEP_KEYS = (
    "name",
    "description",
    "config",
    "replicates",
    "seed",
    "horizon",
    "n_workers",
    "set",
    "design",
    "parameters",
    "metrics",
)

#: The facts of a run's record (:func:`~dualpower_sim.outcomes.run_record`, the account
#: ``summary.json`` gives) that a sweep's row keeps, in this order.
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
RUN_COLUMNS = ("run", "point", "replicate", "seed", "status", *RECORDED, "seconds", "error")


def run_seed(root_seed: int, point: int, replicate: int) -> int:
    """The seed of one run, spawned from the sweep's root seed by (point, replicate).

    Args:
        root_seed: The sweep's root seed.
        point: The design point's index.
        replicate: The replicate's index.

    Returns:
        A seed in ``[0, 2^63)``, the same whoever computes it and whenever.
    """
    sequence = np.random.SeedSequence(root_seed, spawn_key=(point, replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A checked sweep: the experiment, its design points, the runs and what to keep.

    Attributes:
        name: The sweep's name (its ``name`` key or file name).
        source: The file it was read from.
        description: One line on what it asks.
        experiment: The experiment swept (with the sweep's fixed changes).
        parameters: The swept dotted keys, in order.
        design: The design's kind.
        points: One row per design point (column ``point``, then one per parameter).
        replicates: Runs per point.
        seed: The root seed.
        indicators: Indicators kept per run ...
        at: ... on these days.
        spec: The sweep file's contents.
        text: The sweep file as written (copied into the results folder).
    """

    name: str
    source: str
    description: str
    experiment: Experiment
    parameters: tuple[str, ...]
    design: str
    points: pd.DataFrame
    replicates: int
    seed: int
    indicators: tuple[str, ...]
    at: tuple[int, ...]
    spec: dict[str, Any]
    text: str = ""

    @property
    def n_runs(self) -> int:
        """Number of runs (points times replicates)."""
        return len(self.points) * self.replicates

    @property
    def sweep_hash(self) -> str:
        """SHA-256 of what determines the sweep's runs: the experiment, design, seeds, metrics."""
        core = {
            "config": self.experiment.config_hash,
            "points": self.points.to_dict(orient="list"),
            "replicates": self.replicates,
            "seed": self.seed,
            "indicators": list(self.indicators),
            "at": list(self.at),
        }
        text = json.dumps(core, sort_keys=True, default=float)
        return hashlib.sha256(text.encode()).hexdigest()

    def runs(self) -> pd.DataFrame:
        """Every run: ``run``, ``point``, ``replicate``, ``seed`` and the point's parameters.

        Runs are numbered replicate by replicate: every point's first replicate, then every
        point's second, and so on.
        """
        n_points = len(self.points)
        rows = [
            (r * n_points + p, p, r, run_seed(self.seed, p, r))
            for r in range(self.replicates)
            for p in range(n_points)
        ]
        runs = pd.DataFrame(rows, columns=["run", "point", "replicate", "seed"])
        runs["seed"] = runs["seed"].astype("uint64")
        return runs.merge(self.points, on="point", how="left").sort_values("run", ignore_index=True)

    def overrides(self, point: int) -> dict[str, Any]:
        """The config changes of one design point."""
        # Column by column (a row would upcast integers among floats to floats).
        return {key: _plain_number(self.points[key].iloc[point]) for key in self.parameters}


def _plain_number(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class _Spec:
    """Reads a sweep file's values with messages naming the file and key."""

    def __init__(self, data: dict[str, Any], label: str) -> None:
        self.data, self.label = data, label

    def fail(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{self.label}: {key} = {value!r} is not allowed; allowed: {allowed}")

    def integer(
        self, table: Mapping, key: str, where: str, default: Any, low: int, high: int | None = None
    ) -> Any:
        value = table.get(key, default)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            upto = f" and <= {high:,}" if high is not None else ""
            raise self.fail(where, value, f"a whole number >= {low}{upto}")
        return value


#: The most design points a sweep may have, and the most runs (points x replicates): a sweep
#: past these is a typo (a million points is days of computing even at a second a run).
MAX_POINTS = 1_000_000
MAX_RUNS = 10_000_000
#: Keys a sweep owns: its runs' columns. Sweeping them is refused (seeds come from the root
#: seed; use replicates for more runs per point).
RESERVED_KEYS = ("seed", "point", "replicate", "run")
#: A design of at most this many points has every point's config checked; a larger one has
#: each distinct value of each parameter checked once.
CHECK_EVERY_POINT = 2_000


def load_sweep(source: str | Path) -> Sweep:
    """Read and check a sweep file; every point's config is checked before anything runs.

    Args:
        source: The sweep's TOML file.

    Returns:
        The sweep.

    Raises:
        ConfigError: On any problem, naming the file, the key and what is allowed.
    """
    path = Path(source)
    label = file_label(path)
    data = read_toml(path, label)
    spec = _Spec(data, label)
    for key in data:
        if key not in SWEEP_KEYS:
            raise ConfigError(
                f"{label}: unknown key {key!r}{did_you_mean(key, SWEEP_KEYS)}; "
                f"allowed: {', '.join(SWEEP_KEYS)}"
            )
    if "config" not in data or not isinstance(data["config"], str):
        raise spec.fail("config", data.get("config"), "a preset's name or a path to a .toml file")
    replicates = spec.integer(data, "replicates", "replicates", 1, 1, MAX_RUNS)
    seed = spec.integer(data, "seed", "seed", 0, 0, 2**63 - 1)
    if isinstance(data.get("name"), str) and data["name"]:
        check_name(data["name"], label)
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise spec.fail(
            "set", fixed, 'a table of dotted keys, e.g. { "councils.min_members" = 10 }'
        )
    config_path = locate_config(data["config"], path)
    try:
        base = load_experiment(
            config_path,
            {**fixed},
            n_workers=spec.integer(data, "n_workers", "n_workers", None, 2),
            horizon=spec.integer(data, "horizon", "horizon", None, 1),
        )
    except ConfigError as exc:
        raise ConfigError(f"{exc} (the config of sweep {label})") from None
    design = data.get("design", {})
    if not isinstance(design, dict):
        raise spec.fail("design", design, "a table with kind = " + ", ".join(map(repr, DESIGNS)))
    kind = design.get("kind", "grid")
    if kind not in DESIGNS:
        raise spec.fail("design.kind", kind, ", ".join(map(repr, DESIGNS)))
    parameters = data.get("parameters", {})
    if not isinstance(parameters, dict):
        raise spec.fail("parameters", parameters, "a table of dotted config keys")
    listed = design.get("points") if isinstance(design.get("points"), list) else []
    for key in [*parameters, *(k for p in listed if isinstance(p, dict) for k in p)]:
        if key in RESERVED_KEYS:
            raise ConfigError(
                f"{label}: {key!r} cannot be swept: the sweep owns it (every run's seed is "
                "spawned from the root seed by point and replicate; for more runs per point "
                f"raise replicates); reserved: {', '.join(RESERVED_KEYS)}"
            )
    points = _design_points(spec, kind, design, parameters, seed)
    if len(points) * replicates > MAX_RUNS:
        raise spec.fail(
            "replicates",
            replicates,
            f"at most {MAX_RUNS:,} runs in all ({len(points):,} points x {replicates:,} "
            "replicates is more); split the sweep",
        )
    names = tuple(c for c in points.columns if c != "point")
    metrics = data.get("metrics", {})
    if not isinstance(metrics, dict):
        raise spec.fail("metrics", metrics, "a table with indicators and at")
    indicators = metrics.get("indicators", [])
    at = metrics.get("at", [])
    if not isinstance(indicators, list) or not all(isinstance(i, str) for i in indicators):
        raise spec.fail("metrics.indicators", indicators, "a list of indicator names")
    if not isinstance(at, list) or not all(isinstance(d, int) and d >= 0 for d in at):
        raise spec.fail("metrics.at", at, "a list of days (whole numbers >= 0)")
    unknown_metrics = set(metrics) - {"indicators", "at"}
    if unknown_metrics:
        raise spec.fail("metrics", sorted(unknown_metrics)[0], "keys indicators and at")
    if bool(indicators) != bool(at):
        raise spec.fail("metrics", metrics, "both indicators and at (the days to keep them on)")
    for key in ("name", "description"):
        if not isinstance(data.get(key, ""), str):
            raise spec.fail(key, data[key], "text")
    sweep = Sweep(
        name=data.get("name") or path.stem,
        source=label,
        description=str(data.get("description", "")),
        experiment=base,
        parameters=names,
        design=kind,
        points=points,
        replicates=replicates,
        seed=seed,
        indicators=tuple(indicators),
        at=tuple(sorted(set(at))),
        spec=data,
        text=path.read_text(encoding="utf-8"),
    )
    _check_points(sweep, label)
    return sweep


def _check_points(sweep: Sweep, label: str) -> None:
    """Load the points' configs (cheap: no model is built) so a bad point fails now.

    Each distinct value of each parameter is checked first, as written (so a bad value is named
    as written, not as pandas stored it beside others; of more than 64 numbers, the smallest and
    the largest, as the parameters' checks are ranges); then, in a design of at most
    :data:`CHECK_EVERY_POINT` points, every point (values that are fine alone may clash).
    """
    spec_values = sweep.spec.get("parameters", {}) if sweep.design == "grid" else {}
    for key in sweep.parameters:
        raw = spec_values.get(key)
        values = raw if isinstance(raw, list) else sweep.points[key].drop_duplicates().tolist()
        if len(values) > 64 and all(isinstance(v, int | float) for v in values):
            values = [min(values), max(values)]  # a range: its ends stand for the values inside
        seen: set = set()
        for value in values:
            mark = (type(value).__name__, repr(value))
            if mark in seen:
                continue
            seen.add(mark)
            try:
                experiment_from_config(
                    sweep.experiment.config, {key: _plain_number(value)}, "sweep point"
                )
            except ConfigError as exc:
                at = sweep.points.index[sweep.points[key] == value]
                where = f"design point {at[0]}" if len(at) else f"parameters.{key!r}"
                raise ConfigError(f"{label}: {where}: {exc}") from None
    if len(sweep.points) <= CHECK_EVERY_POINT:
        for point in range(len(sweep.points)):
            try:
                experiment_from_config(
                    sweep.experiment.config, sweep.overrides(point), "sweep point"
                )
            except ConfigError as exc:
                raise ConfigError(f"{label}: design point {point}: {exc}") from None
    known = indicator_names(
        [sector.name for sector in sweep.experiment.kwargs["city"].workplaces.sectors]
    )
    for name in sweep.indicators:
        if name not in known:
            raise ConfigError(
                f"{label}: metrics.indicators: unknown indicator {name!r}"
                f"{did_you_mean(name, known)}"
            )


def _values(spec: _Spec, key: str, value: Any) -> list[Any]:
    """A grid parameter's values: a list, or ``{ low, high, steps }`` evenly spaced."""
    where = f"parameters.{key!r}"
    if isinstance(value, list) and value:
        return value
    if isinstance(value, dict) and set(value) <= {"low", "high", "steps", "integer"}:
        low, high, steps = value.get("low"), value.get("high"), value.get("steps", 2)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise spec.fail(where, value, "{ low = number, high = number, steps = n }")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_POINTS:
            raise spec.fail(where, value, f"steps = a whole number from 1 to {MAX_POINTS:,}")
        grid = np.linspace(low, high, steps) if steps > 1 else np.array([low])
        # Rounded to 12 digits, so that 0.1 to 0.5 in 3 steps gives 0.3, not 0.30000000000000004.
        values = [int(np.rint(v)) if value.get("integer") else round(float(v), 12) for v in grid]
        return list(dict.fromkeys(values))  # whole numbers may repeat on a fine grid
    raise spec.fail(where, value, "a non-empty list of values, or { low, high, steps }")


def _ranges(spec: _Spec, parameters: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, list]:
    lows, highs, integer = [], [], []
    for key, value in parameters.items():
        where = f"parameters.{key!r}"
        if not isinstance(value, dict) or not {"low", "high"} <= set(value):
            raise spec.fail(where, value, "{ low = number, high = number } for this design")
        low, high = value["low"], value["high"]
        if set(value) - {"low", "high", "integer"} or not isinstance(
            value.get("integer", False), bool
        ):
            raise spec.fail(where, value, "{ low = number, high = number, integer = true/false }")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise spec.fail(where, value, "numbers for low and high")
        if high <= low:
            raise spec.fail(where, value, "high > low")
        lows.append(float(low))
        highs.append(float(high))
        integer.append(bool(value.get("integer", False)))
    return np.array(lows), np.array(highs), integer


def salib_problem(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """SALib's problem description of a sweep's ``[parameters]`` ranges."""
    names = list(parameters)
    bounds = [[float(v["low"]), float(v["high"])] for v in parameters.values()]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _salib_sample(spec, kind, design, names, lows, highs, rng) -> np.ndarray:
    try:
        from SALib.sample import morris, sobol
    except ImportError:
        raise ConfigError(
            f"{spec.label}: design.kind = {kind!r} needs SALib; install the extra with "
            "pip install 'dualpower_sim[sensitivity]'"
        ) from None
    samples = design.get("samples")
    problem = {"num_vars": len(names), "names": names, "bounds": np.c_[lows, highs].tolist()}
    seed = int(rng.integers(2**31))
    if kind == "saltelli":
        if samples & (samples - 1):
            raise spec.fail("design.samples", samples, "a power of two for Saltelli's sample")
        # First and total order indices only (N (d + 2) points); SALib draws with our seed.
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    levels = design.get("levels", 4)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise spec.fail("design.levels", levels, "an even whole number >= 2")
    return morris.sample(problem, samples, num_levels=levels, seed=seed)


def _design_points(
    spec: _Spec, kind: str, design: Mapping, parameters: Mapping[str, Any], seed: int
) -> pd.DataFrame:
    allowed = {
        "grid": {"kind"},
        "list": {"kind", "points"},
        "morris": {"kind", "samples", "levels"},
    }.get(kind, {"kind", "samples"})
    for key in design:
        if key not in allowed:
            raise spec.fail(f"design.{key}", design[key], f"keys {', '.join(sorted(allowed))}")
    if kind == "list":
        points = design.get("points")
        if parameters:
            raise spec.fail("parameters", parameters, "none with a list design (give points)")
        if (
            not isinstance(points, list)
            or not points
            or not all(isinstance(p, dict) and p for p in points)
        ):
            raise spec.fail("design.points", points, "a non-empty list of tables of dotted keys")
        keys = list(dict.fromkeys(k for p in points for k in p))
        for i, p in enumerate(points):
            if set(p) != set(keys):
                raise spec.fail(f"design.points.{i}", p, f"the same keys in every point: {keys}")
        frame = pd.DataFrame([[p[k] for k in keys] for p in points], columns=keys)
    elif not parameters:
        frame = pd.DataFrame(index=range(1))  # one point: the experiment as it is
    elif kind == "grid":
        keys = list(parameters)
        values = [_values(spec, k, v) for k, v in parameters.items()]
        size = math.prod(len(v) for v in values)
        if size > MAX_POINTS:
            raise spec.fail(
                "parameters",
                " x ".join(str(len(v)) for v in values),
                f"a grid of at most {MAX_POINTS:,} points (this one has {size:,})",
            )
        frame = pd.DataFrame(list(itertools.product(*values)), columns=keys)
    else:
        samples = design.get("samples")
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise spec.fail("design.samples", samples, "a whole number >= 1")
        per_sample = {"saltelli": len(parameters) + 2, "morris": len(parameters) + 1}.get(kind, 1)
        if samples * per_sample > MAX_POINTS:
            raise spec.fail(
                "design.samples",
                samples,
                f"at most {MAX_POINTS // per_sample:,} for this design "
                f"({MAX_POINTS:,} points at most)",
            )
        lows, highs, integer = _ranges(spec, parameters)
        d = len(lows)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
        if kind in ("saltelli", "morris"):
            scaled = _salib_sample(spec, kind, design, list(parameters), lows, highs, rng)
            frame = pd.DataFrame(scaled, columns=list(parameters))
            frame.insert(0, "point", np.arange(len(frame)))
            return frame
        if kind == "lhs":
            unit = qmc.LatinHypercube(d=d, rng=rng).random(samples)
        elif kind == "sobol":
            if samples & (samples - 1):
                raise spec.fail("design.samples", samples, "a power of two for a Sobol design")
            unit = qmc.Sobol(d=d, scramble=True, rng=rng).random(samples)
        else:
            unit = qmc.Halton(d=d, scramble=True, rng=rng).random(samples)
        scaled = qmc.scale(unit, lows, highs)
        frame = pd.DataFrame(scaled, columns=list(parameters))
        for i, (key, whole) in enumerate(zip(parameters, integer, strict=True)):
            if whole:  # low..high inclusive, each whole number an equal share of the cube
                lo, hi = math.ceil(lows[i]), math.floor(highs[i])
                frame[key] = np.minimum(np.floor(lo + unit[:, i] * (hi - lo + 1)), hi).astype(int)
    frame.insert(0, "point", np.arange(len(frame)))
    return frame


# --------------------------------------------------------------------------------------------
# One run (in a worker process)
# --------------------------------------------------------------------------------------------


class RunTimeLimitError(Exception):
    """A run went past its time limit."""


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
    row: dict[str, Any] = {k: task[k] for k in ("run", "point", "replicate", "seed")}
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


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, RunTimeLimitError | ConfigError):
        return f"{type(exc).__name__}: {exc}"
    return "".join(traceback.format_exception(exc)).strip()


def tasks_for(sweep: Sweep, runs: pd.DataFrame, time_limit: float | None) -> list[dict]:
    """The tasks of some runs of a sweep, ready to send to worker processes.

    Each run's parameter values are read from its row, so runs added by refinement (new
    points between the design's) run the same way as the design's own.
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
                    k: _plain_number(v) for k, v in zip(sweep.parameters, values, strict=True)
                },
                "indicators": sweep.indicators,
                "at": sweep.at,
                "time_limit": time_limit,
            }
        )
    return out


def estimate_seconds_per_run(sweep: Sweep, steps: int = 20) -> float:
    """Time a few days of the first point to estimate a run's length (for ``--dry-run``)."""
    experiment = experiment_from_config(sweep.experiment.config, sweep.overrides(0), "estimate")
    t0 = time.perf_counter()
    model = experiment.build_model()
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in range(steps):
        if not model.running:
            break
        model.step()
    per_step = (time.perf_counter() - t1) / max(model.steps, 1)
    return build + per_step * experiment.kwargs["horizon"]


# --------------------------------------------------------------------------------------------
# Running a sweep: local process pool (the default), or a shard of it
# --------------------------------------------------------------------------------------------

#: Times a run is retried when the process running it dies (killed, out of memory).
MAX_RETRIES = 2


def _failed(task: Mapping[str, Any], why: str) -> dict[str, Any]:
    row = {k: task[k] for k in ("run", "point", "replicate", "seed")}
    row.update(status="failed", outcome=None, error=why, seconds=float("nan"))
    return row


def local_results(tasks: list[dict], workers: int, batch: int = 100):
    """Run tasks in pools of fresh processes and yield each run's row as it finishes.

    Processes are spawned (not forked), and a new pool is started for every round of
    ``workers x batch`` runs, so memory stays flat. Python 3.11's own ``max_tasks_per_child``
    would do this within one pool, but it deadlocks once a worker retires (CPython gh-115634,
    fixed only in later releases), so rounds it is. At most ``workers`` runs are in flight at
    once, so when a process dies only the runs that were running can be to blame: they are
    retried alone, one at a time (so a second death is the run's own), up to
    :data:`MAX_RETRIES` times, then recorded as failed; the runs still waiting are resubmitted.

    Args:
        tasks: Tasks from :func:`tasks_for`.
        workers: Number of processes.
        batch: Runs per process before it is replaced.

    Yields:
        One row per task (see :func:`execute_run`), in the order they finish.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    pending = list(tasks)
    tries: dict[int, int] = {}
    round_size = max(1, workers * batch)
    while pending:
        current, pending = pending[:round_size], pending[round_size:]
        waiting = list(reversed(current))  # pop() from the end keeps the runs' order
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        in_flight: dict = {}
        try:
            while waiting or in_flight:
                while waiting and len(in_flight) < workers:
                    # A run that was in flight when a process died runs alone, so that a
                    # second death can only be its own.
                    if in_flight and (
                        _suspect(waiting[-1], tries)
                        or any(_suspect(t, tries) for t in in_flight.values())
                    ):
                        break
                    task = waiting.pop()
                    in_flight[pool.submit(execute_run, task)] = task
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
                        yield _failed(task, f"{type(exc).__name__}: {exc}")
                if broken:
                    raise BrokenProcessPool("a worker process died")
        except BrokenProcessPool:
            for future, task in in_flight.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    yield future.result()  # finished before the pool broke
                    continue
                tries[task["run"]] = tries.get(task["run"], 0) + 1
                if tries[task["run"]] > MAX_RETRIES:
                    yield _failed(task, "the worker process died (retried twice)")
                else:
                    waiting.append(task)
            pending = list(reversed(waiting)) + pending
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _suspect(task: Mapping[str, Any], tries: Mapping[int, int]) -> bool:
    return tries.get(task["run"], 0) > 0


def dask_results(
    tasks: list[dict], scheduler: str | None = None, workers: int = 2, prefix: str = "run"
):
    """Run tasks on a Dask cluster and yield each run's row as it finishes.

    Args:
        tasks: Tasks from :func:`tasks_for`.
        scheduler: Address of a running scheduler (``tcp://host:8786``); None starts a local
            cluster of ``workers`` single-threaded processes for the sweep.
        workers: Processes of the local cluster.
        prefix: Prefix of the tasks' keys on the cluster (the sweep's hash keeps two sweeps on
            one cluster apart).

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
            "--executor dask: Dask is not installed; install the extra with "
            "pip install 'dualpower_sim[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler is None:
            # The scheduler serves HTTP even without a dashboard, on port 8787 unless told
            # otherwise; a free port lets two local sweeps (or a notebook's cluster) coexist.
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=30)
    except (OSError, ValueError, TypeError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(f"--scheduler {scheduler}: cannot be reached ({exc})") from None
    try:
        keys = [f"{prefix}-{task['run']}" for task in tasks]
        futures = client.map(execute_run, tasks, key=keys, pure=False, retries=MAX_RETRIES)
        by_key = {f.key: task for f, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                yield future.result()
            except Exception as exc:  # KilledWorker after the retries, and the like
                yield _failed(task, f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def serial_results(tasks: list[dict]):
    """Run tasks one after the other in this process (``--workers 1``, tests, notebooks).

    Yields:
        One row per task.
    """
    for task in tasks:
        yield execute_run(task)


def parse_shard(text: str, runs: int | None = None) -> tuple[int, int]:
    """``"i/N"`` as (i, N), with 0 <= i < N (and N at most ``runs``, the sweep's runs).

    Raises:
        ConfigError: If the text is not of that form.
    """
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        i, n = -1, 0
    if not 0 <= i < n:
        raise ConfigError(f"--shard {text!r}: allowed: i/N with 0 <= i < N, e.g. 0/4")
    if runs is not None and n > max(runs, 1):
        raise ConfigError(
            f"--shard {text!r}: allowed: i/N with N at most the sweep's {runs} runs "
            "(more shards than runs leaves shards with nothing to do)"
        )
    return i, n


def manifest_for(sweep: Sweep) -> dict[str, Any]:
    """What ``sweep.json`` records: the sweep's identity and provenance."""
    from .results import SWEEP_FORMAT

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


def run_sweep(
    sweep: Sweep,
    folder: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    shard: tuple[int, int] | None = None,
    time_limit: float | None = None,
    flush_every: int = 20,
    flush_seconds: float = 10.0,
    progress: bool = False,
    batch: int = 100,
    executor: str = "local",
    scheduler: str | None = None,
    retry_failed: bool = False,
) -> dict[str, int]:
    """Run a sweep (or the rest of it, or one shard of it) into its results folder.

    The folder is claimed first (see :meth:`~dualpower_sim.results.SweepStore.claim`): a second
    process resuming the same sweep, or running the same shard, is refused with one line naming
    the first. A folder this call created is removed again if the sweep cannot start (a Dask
    scheduler that cannot be reached) before any run is recorded, so the next try needs no
    ``--resume``.

    Args:
        sweep: The sweep.
        folder: Its results folder: created, or (``resume``, ``shard``) reopened.
        workers: Processes; 1 runs in this process.
        resume: Finish a sweep recorded in ``folder``; no recorded run is run again.
        shard: ``(i, N)``: run only runs ``i, i + N, i + 2N...`` (a job array needs no
            scheduler); the folder is created by whichever shard comes first.
        time_limit: Seconds a run may take before it is stopped and recorded as failed.
        flush_every: Runs per part written.
        flush_seconds: Longest wait before finished runs are written.
        progress: Draw a progress bar (runs done, failed, time left) on a terminal.
        batch: Runs per worker process before it is replaced by a fresh one.
        executor: ``"local"`` (a process pool; one process runs in this one) or ``"dask"``
            (a cluster: ``scheduler``'s, or a local one of ``workers`` processes).
        scheduler: Address of a Dask scheduler (implies ``executor="dask"``).
        retry_failed: Run again the runs recorded as failed (a resumed sweep skips them
            otherwise); a run that now succeeds replaces its failed record in the results.

    Returns:
        Counts: ``total`` runs in the design (or shard), ``skipped`` (recorded already),
        ``done`` and ``failed`` now.

    Raises:
        ResultsError: If the folder cannot be used.
    """
    from .results import ResultsError, SweepStore, release

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
        store.log("start", runs=len(todo), workers=workers, shard=shard, resume=resume)
        try:
            counts.update(
                _execute(
                    sweep,
                    store,
                    todo,
                    workers=workers,
                    batch=batch,
                    executor=executor,
                    scheduler=scheduler,
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


def _execute(
    sweep: Sweep,
    store,
    runs: pd.DataFrame,
    *,
    workers: int,
    batch: int = 100,
    executor: str = "local",
    scheduler: str | None = None,
    time_limit: float | None = None,
    flush_every: int = 20,
    flush_seconds: float = 10.0,
    progress: bool = False,
) -> dict[str, int]:
    """Run some runs of a sweep on the chosen executor and record them in batches.

    Returns:
        ``done`` and ``failed`` counts.
    """
    tasks = tasks_for(sweep, runs, time_limit)
    if executor == "dask" or scheduler is not None:
        rows = dask_results(tasks, scheduler, workers, prefix=f"dualpower-{sweep.sweep_hash[:12]}")
    elif workers <= 1:
        rows = serial_results(tasks)
    else:
        rows = local_results(tasks, workers, batch)
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


# --------------------------------------------------------------------------------------------
# Adaptive refinement
# --------------------------------------------------------------------------------------------

#: Outcomes whose 0.5 crossing refinement looks for, in this order, unless one is named.
REFINE_OUTCOMES = ("council_power", "state_restored")


def refine_sweep(
    sweep: Sweep,
    folder: Path,
    *,
    outcome: str | None = None,
    target_width: float = 0.1,
    budget: int | None = None,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    progress: bool = False,
    time_limit: float | None = None,
    log=print,
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
        workers: Processes.
        executor: ``"local"`` or ``"dask"``.
        scheduler: A Dask scheduler's address.
        progress: Progress bars.
        time_limit: Seconds a run may take before it is recorded as failed.
        log: Where to say what each round does.

    Returns:
        ``runs_added``, ``rounds``, ``outcome``, ``stopped`` (why), and the last ``tipping``
        point (one-parameter sweeps).
    """
    from .analysis import outcome_table, tipping_point
    from .results import SweepStore, load_results, release

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
            _execute(
                sweep,
                store,
                new,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
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
    from .analysis import outcome_table

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
    rows = []
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
