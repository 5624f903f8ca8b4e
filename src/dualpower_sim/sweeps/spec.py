"""The sweep file: read, checked, and turned into a :class:`Sweep` of runs.

A sweep is a TOML file::

    description = "Organising by territory against the state's readiness to strike"
    config = "petrograd_1917"      # the experiment swept: a preset, or a path beside this file
    replicates = 10
    seed = 2024                    # the sweep's root seed
    horizon = 365                  # optional: replaces the experiment's
    n_workers = 20000              # optional: replaces the experiment's
    set = { "councils.min_members" = 10 }   # optional: fixed changes for every run

    [design]
    kind = "grid"                  # see dualpower_sim.sweeps.designs
    samples = 32                   # lhs, sobol, halton, saltelli, morris: number of samples

    [parameters]                   # dotted config keys
    "city.territorial_share" = { low = 0.0, high = 1.0, steps = 6 }   # grid: evenly spaced
    "state.offensive_readiness" = [0.1, 0.3, 0.5]                     # grid: these values

    [metrics]
    indicators = ["council_power", "mobilized"]   # indicator values kept per run ...
    at = [30, 90, 180]                            # ... on these days

Its top-level values are a :class:`SweepFile`, a parameter group like the config's; the design
is drawn by :func:`~dualpower_sim.sweeps.designs.design_points`. A design is at most
:data:`~dualpower_sim.sweeps.designs.MAX_POINTS` (10^6) points and :data:`MAX_RUNS` (10^7) runs
in all, refused at once when larger (its size is known before it is built); the keys the sweep
owns (:data:`RESERVED_KEYS`) cannot be swept.

Every run's seed is spawned from the root seed by (point, replicate) and stored, so results do
not depend on the executor, the number of processes or the order runs finish in. Runs are
ordered replicate by replicate (every point once, then every point again), so a sweep stopped
half-way is still a balanced sample.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import (
    ConfigError,
    Experiment,
    check_name,
    experiment_from_config,
    file_label,
    load_experiment,
    locate_config,
    read_toml,
)
from ..indicators import indicator_names
from ..params import ParameterError, ParamGroup, RunParams, did_you_mean, param
from .designs import DESIGNS, design_points
from .runs import plain_number

__all__ = [
    "CHECK_EVERY_POINT",
    "MAX_RUNS",
    "RESERVED_KEYS",
    "SWEEP_KEYS",
    "Sweep",
    "SweepFile",
    "load_sweep",
    "run_seed",
]

#: The most runs (points x replicates) a sweep may have: past this it is a typo.
MAX_RUNS = 10_000_000
#: Keys a sweep owns: its runs' columns. Sweeping them is refused (seeds come from the root
#: seed; use replicates for more runs per point).
RESERVED_KEYS = ("seed", "point", "replicate", "run")
#: A design of at most this many points has every point's config checked; a larger one has
#: each distinct value of each parameter checked once.
CHECK_EVERY_POINT = 2_000


@dataclasses.dataclass(frozen=True)
class SweepFile(ParamGroup):
    """A sweep file's top-level values, checked as every parameter group is.

    Attributes:
        config: The experiment swept: a preset's name, or a path to a ``.toml`` file (read
            beside the sweep file).
        name: The sweep's name, which names its results folder (default: the file's name).
        description: One line on what the sweep asks.
        replicates: Runs per design point.
        seed: The sweep's root seed, from which every run's seed is spawned.
        horizon: Replaces the experiment's horizon (days), if set.
        n_workers: Replaces the experiment's number of workers, if set.
        set: Fixed changes to the experiment for every run: dotted keys to values.
        design: The ``[design]`` table (its ``kind`` and that design's keys).
        parameters: The ``[parameters]`` table: the swept dotted keys and their values.
        metrics: The ``[metrics]`` table: ``indicators`` kept per run ``at`` these days.
    """

    config: str = param("", kind=str)
    name: str = param("", kind=str)
    description: str = param("", kind=str)
    replicates: int = param(1, kind=int, low=1, high=MAX_RUNS)
    seed: int = param(0, kind=int, low=0, high=2**63 - 1)
    # The run's own bounds, so that a sweep file is told about its own keys.
    horizon: int | None = param(None, **{**RunParams.meta("horizon"), "optional": True})
    n_workers: int | None = param(None, **{**RunParams.meta("n_workers"), "optional": True})
    set: Mapping[str, Any] = param(default_factory=dict, kind=dict)
    design: Mapping[str, Any] = param(default_factory=dict, kind=dict)
    parameters: Mapping[str, Any] = param(default_factory=dict, kind=dict)
    metrics: Mapping[str, Any] = param(default_factory=dict, kind=dict)

    def validate(self) -> None:
        """Check what one field alone cannot say: a config is named, the metrics' shape."""
        if not self.config:
            raise ParameterError(
                "config", self.config, "allowed: a preset's name or a path to a .toml file"
            )
        indicators = self.metrics.get("indicators", [])
        at = self.metrics.get("at", [])
        if not isinstance(indicators, list) or not all(isinstance(i, str) for i in indicators):
            raise ParameterError(
                "metrics.indicators", indicators, "allowed: a list of indicator names"
            )
        if not isinstance(at, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in at
        ):
            raise ParameterError("metrics.at", at, "allowed: a list of days (whole numbers >= 0)")
        unknown = set(self.metrics) - {"indicators", "at"}
        if unknown:
            raise ParameterError("metrics", sorted(unknown)[0], "allowed: keys indicators and at")
        if bool(indicators) != bool(at):
            raise ParameterError(
                "metrics",
                self.metrics,
                "allowed: both indicators and at (the days to keep them on)",
            )


#: Keys of a sweep file.
SWEEP_KEYS = tuple(f.name for f in dataclasses.fields(SweepFile))

#: The type each key of a sweep file holds.
_KINDS = {f.name: f.metadata["kind"] for f in dataclasses.fields(SweepFile)}
#: What a key of the sweep file holds, in messages about a value of the wrong type.
_TABLES = {
    "set": 'a table of dotted keys, e.g. { "councils.min_members" = 10 }',
    "design": "a table with kind = " + ", ".join(map(repr, DESIGNS)),
    "parameters": "a table of dotted config keys",
    "metrics": "a table with indicators and at",
    "name": "text",
    "description": "text",
    "config": "a preset's name or a path to a .toml file",
}


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
        return {key: plain_number(self.points[key].iloc[point]) for key in self.parameters}


def _fail(label: str, key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{label}: {key} = {value!r} is not allowed; allowed: {allowed}")


def _sweep_file(data: dict[str, Any], label: str) -> SweepFile:
    """The file's top-level values as a :class:`SweepFile`, or one line naming file and key."""
    for key in data:
        if key not in SWEEP_KEYS:
            raise ConfigError(
                f"{label}: unknown key {key!r}{did_you_mean(key, SWEEP_KEYS)}; "
                f"allowed: {', '.join(SWEEP_KEYS)}"
            )
    try:
        spec = SweepFile(**data)
    except ParameterError as exc:
        key = exc.name.removeprefix("SweepFile.")
        allowed = exc.allowed.removeprefix("allowed: ")
        kind = _KINDS.get(key)
        if key in _TABLES and kind is not None and not isinstance(exc.value, kind):
            allowed = _TABLES[key]  # a value of the wrong type: say what the key holds
        raise _fail(label, key, exc.value, allowed) from None
    if spec.name:
        check_name(spec.name, label)
    return spec


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
    spec = _sweep_file(data, label)
    try:
        base = load_experiment(
            locate_config(spec.config, path),
            {**spec.set},
            n_workers=spec.n_workers,
            horizon=spec.horizon,
        )
    except ConfigError as exc:
        raise ConfigError(f"{exc} (the config of sweep {label})") from None
    kind = spec.design.get("kind", "grid")
    points = spec.design.get("points")
    listed = points if isinstance(points, list) else []
    for key in [*spec.parameters, *(k for p in listed if isinstance(p, dict) for k in p)]:
        if key in RESERVED_KEYS:
            raise ConfigError(
                f"{label}: {key!r} cannot be swept: the sweep owns it (every run's seed is "
                "spawned from the root seed by point and replicate; for more runs per point "
                f"raise replicates); reserved: {', '.join(RESERVED_KEYS)}"
            )
    points = design_points(kind, spec.design, spec.parameters, spec.seed, label)
    if len(points) * spec.replicates > MAX_RUNS:
        raise _fail(
            label,
            "replicates",
            spec.replicates,
            f"at most {MAX_RUNS:,} runs in all ({len(points):,} points x {spec.replicates:,} "
            "replicates is more); split the sweep",
        )
    sweep = Sweep(
        name=spec.name or path.stem,
        source=label,
        description=spec.description,
        experiment=base,
        parameters=tuple(c for c in points.columns if c != "point"),
        design=kind,
        points=points,
        replicates=spec.replicates,
        seed=spec.seed,
        indicators=tuple(spec.metrics.get("indicators", [])),
        at=tuple(sorted(set(spec.metrics.get("at", [])))),
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
                    sweep.experiment.config, {key: plain_number(value)}, "sweep point"
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
