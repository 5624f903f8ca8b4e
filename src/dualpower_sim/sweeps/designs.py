"""Designs: how a sweep's ``[design]`` and ``[parameters]`` tables become its points.

Each design is registered by name in :data:`DESIGNS` with the keys its ``[design]`` table takes
and a sampler: a function of a :class:`DesignRequest` that returns one row per point, a column
per parameter. ``grid`` takes every combination of each parameter's values (a list, or
``{ low, high, steps }`` evenly spaced); ``list`` the points given (``points = [{...}, ...]``);
``lhs`` a Latin hypercube, ``sobol`` and ``halton`` scrambled low-discrepancy sequences
(``scipy.stats.qmc``, seeded from the sweep's root seed); ``saltelli`` and ``morris`` SALib's
samples for Sobol and Morris sensitivity analysis. The sampled designs take ``{ low, high }``
ranges, the qmc ones also ``integer = true`` for whole-number parameters (SALib's designs are
continuous). A new design is one function registered with :func:`register_design`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..config import ConfigError

__all__ = [
    "DESIGNS",
    "MAX_POINTS",
    "Design",
    "DesignRequest",
    "design_points",
    "register_design",
    "salib_problem",
]

#: The most design points a sweep may have: a sweep past this is a typo (a million points is
#: days of computing even at a second a run).
MAX_POINTS = 1_000_000


@dataclasses.dataclass(frozen=True)
class DesignRequest:
    """What a sampler is asked for: the swept parameters, the ``[design]`` table, the seed.

    Attributes:
        parameters: The ``[parameters]`` table: dotted config keys to their values or ranges.
        table: The ``[design]`` table.
        seed: The sweep's root seed.
        label: How the sweep file is named in messages.
    """

    parameters: Mapping[str, Any]
    table: Mapping[str, Any]
    seed: int
    label: str

    def fail(self, key: str, value: Any, allowed: str) -> ConfigError:
        """The error for a value of the sweep file that is not allowed, naming file and key."""
        return ConfigError(f"{self.label}: {key} = {value!r} is not allowed; allowed: {allowed}")

    def rng(self) -> np.random.Generator:
        """The design's own generator, spawned from the root seed (apart from every run's)."""
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2**31,)))


#: A sampler: one row per point, a column per parameter (the ``point`` column is added after).
Sampler = Callable[[DesignRequest], pd.DataFrame]


@dataclasses.dataclass(frozen=True)
class Design:
    """A kind of design.

    Attributes:
        name: Its name (the ``kind`` of ``[design]``).
        keys: The keys its ``[design]`` table may hold.
        sample: Its sampler.
        points_given: Whether the points are given in ``[design]`` (then ``[parameters]`` stays
            empty); otherwise a sweep with no parameters has one point, the experiment as it is.
    """

    name: str
    keys: tuple[str, ...]
    sample: Sampler
    points_given: bool = False


#: Designs by name, in the order they are listed in messages.
DESIGNS: dict[str, Design] = {}


def register_design(
    name: str, keys: tuple[str, ...] = ("kind",), points_given: bool = False
) -> Callable[[Sampler], Sampler]:
    """Register a sampler as the design ``name`` (a decorator).

    Args:
        name: The design's name.
        keys: The keys its ``[design]`` table may hold (``kind`` among them).
        points_given: The points are given in ``[design]`` rather than drawn from
            ``[parameters]``.

    Returns:
        The decorator, which returns the sampler unchanged.
    """

    def register(sample: Sampler) -> Sampler:
        DESIGNS[name] = Design(name, keys, sample, points_given)
        return sample

    return register


def design_points(
    kind: str, table: Mapping[str, Any], parameters: Mapping[str, Any], seed: int, label: str
) -> pd.DataFrame:
    """A sweep's points: column ``point``, then one per parameter.

    Args:
        kind: The design's name (a key of :data:`DESIGNS`).
        table: The ``[design]`` table.
        parameters: The ``[parameters]`` table.
        seed: The sweep's root seed.
        label: How the sweep file is named in messages.

    Returns:
        One row per point.

    Raises:
        ConfigError: For an unknown design, a key it does not take, or values it cannot use.
    """
    request = DesignRequest(parameters, table, seed, label)
    if kind not in DESIGNS:
        raise request.fail("design.kind", kind, ", ".join(map(repr, DESIGNS)))
    design = DESIGNS[kind]
    for key in table:
        if key not in design.keys:
            raise request.fail(
                f"design.{key}", table[key], f"keys {', '.join(sorted(design.keys))}"
            )
    if not design.points_given and not parameters:
        frame = pd.DataFrame(index=range(1))  # one point: the experiment as it is
    else:
        frame = design.sample(request)
    frame.insert(0, "point", np.arange(len(frame)))
    return frame


@register_design("grid")
def _grid(request: DesignRequest) -> pd.DataFrame:
    keys = list(request.parameters)
    values = [_values(request, k, v) for k, v in request.parameters.items()]
    size = math.prod(len(v) for v in values)
    if size > MAX_POINTS:
        raise request.fail(
            "parameters",
            " x ".join(str(len(v)) for v in values),
            f"a grid of at most {MAX_POINTS:,} points (this one has {size:,})",
        )
    return pd.DataFrame(list(itertools.product(*values)), columns=keys)


def _values(request: DesignRequest, key: str, value: Any) -> list[Any]:
    """A grid parameter's values: a list, or ``{ low, high, steps }`` evenly spaced."""
    where = f"parameters.{key!r}"
    if isinstance(value, list) and value:
        return value
    if isinstance(value, dict) and set(value) <= {"low", "high", "steps", "integer"}:
        low, high, steps = value.get("low"), value.get("high"), value.get("steps", 2)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise request.fail(where, value, "{ low = number, high = number, steps = n }")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_POINTS:
            raise request.fail(where, value, f"steps = a whole number from 1 to {MAX_POINTS:,}")
        low, high = cast(float, low), cast(float, high)  # numbers, as checked above
        grid = np.linspace(low, high, steps) if steps > 1 else np.array([low])
        # Rounded to 12 digits, so that 0.1 to 0.5 in 3 steps gives 0.3, not 0.30000000000000004.
        values = [int(np.rint(v)) if value.get("integer") else round(float(v), 12) for v in grid]
        return list(dict.fromkeys(values))  # whole numbers may repeat on a fine grid
    raise request.fail(where, value, "a non-empty list of values, or { low, high, steps }")


@register_design("list", keys=("kind", "points"), points_given=True)
def _list(request: DesignRequest) -> pd.DataFrame:
    points = request.table.get("points")
    if request.parameters:
        raise request.fail(
            "parameters", request.parameters, "none with a list design (give points)"
        )
    if (
        not isinstance(points, list)
        or not points
        or not all(isinstance(p, dict) and p for p in points)
    ):
        raise request.fail("design.points", points, "a non-empty list of tables of dotted keys")
    keys = list(dict.fromkeys(k for p in points for k in p))
    for i, p in enumerate(points):
        if set(p) != set(keys):
            raise request.fail(f"design.points.{i}", p, f"the same keys in every point: {keys}")
    return pd.DataFrame([[p[k] for k in keys] for p in points], columns=keys)


def _samples(request: DesignRequest, per_sample: int) -> int:
    """The ``samples`` of a sampled design, checked against :data:`MAX_POINTS`."""
    samples = request.table.get("samples")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise request.fail("design.samples", samples, "a whole number >= 1")
    if samples * per_sample > MAX_POINTS:
        raise request.fail(
            "design.samples",
            samples,
            f"at most {MAX_POINTS // per_sample:,} for this design ({MAX_POINTS:,} points at most)",
        )
    return samples


def _ranges(request: DesignRequest) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    lows, highs, integer = [], [], []
    for key, value in request.parameters.items():
        where = f"parameters.{key!r}"
        if not isinstance(value, dict) or not {"low", "high"} <= set(value):
            raise request.fail(where, value, "{ low = number, high = number } for this design")
        low, high = value["low"], value["high"]
        if set(value) - {"low", "high", "integer"} or not isinstance(
            value.get("integer", False), bool
        ):
            raise request.fail(
                where, value, "{ low = number, high = number, integer = true/false }"
            )
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise request.fail(where, value, "numbers for low and high")
        if high <= low:
            raise request.fail(where, value, "high > low")
        lows.append(float(low))
        highs.append(float(high))
        integer.append(bool(value.get("integer", False)))
    return np.array(lows), np.array(highs), integer


def _cube(
    kind: str,
    draw: Callable[[int, np.random.Generator, int], np.ndarray],
    check: Callable[[DesignRequest], None] | None = None,
) -> Sampler:
    """A design drawn in the unit cube and scaled to the parameters' ranges.

    Args:
        kind: The design's name.
        draw: ``(dimensions, generator, samples)`` to points in the unit cube.
        check: A further check of the request, once the ranges are known to be good.
    """

    def sample(request: DesignRequest) -> pd.DataFrame:
        samples = _samples(request, 1)
        lows, highs, integer = _ranges(request)
        rng = request.rng()
        if check is not None:
            check(request)
        unit = draw(len(lows), rng, samples)
        frame = pd.DataFrame(qmc.scale(unit, lows, highs), columns=list(request.parameters))
        for i, (key, whole) in enumerate(zip(request.parameters, integer, strict=True)):
            if whole:  # low..high inclusive, each whole number an equal share of the cube
                lo, hi = math.ceil(lows[i]), math.floor(highs[i])
                frame[key] = np.minimum(np.floor(lo + unit[:, i] * (hi - lo + 1)), hi).astype(int)
        return frame

    sample.__name__ = f"_{kind}"
    return sample


def _power_of_two(request: DesignRequest, what: str) -> None:
    samples = request.table["samples"]
    if samples & (samples - 1):
        raise request.fail("design.samples", samples, f"a power of two for {what}")


register_design("lhs", keys=("kind", "samples"))(
    _cube("lhs", lambda d, rng, n: qmc.LatinHypercube(d=d, rng=rng).random(n))
)
register_design("sobol", keys=("kind", "samples"))(
    _cube(
        "sobol",
        lambda d, rng, n: qmc.Sobol(d=d, scramble=True, rng=rng).random(n),
        lambda request: _power_of_two(request, "a Sobol design"),
    )
)
register_design("halton", keys=("kind", "samples"))(
    _cube("halton", lambda d, rng, n: qmc.Halton(d=d, scramble=True, rng=rng).random(n))
)


def salib_problem(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """SALib's problem description of a sweep's ``[parameters]`` ranges."""
    names = list(parameters)
    bounds = [[float(v["low"]), float(v["high"])] for v in parameters.values()]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _salib(kind: str) -> Sampler:
    def sample(request: DesignRequest) -> pd.DataFrame:
        d = len(request.parameters)
        samples = _samples(request, d + 2 if kind == "saltelli" else d + 1)
        lows, highs, _ = _ranges(request)
        rng = request.rng()
        try:
            from SALib.sample import morris, sobol
        except ImportError:
            raise ConfigError(
                f"{request.label}: design.kind = {kind!r} needs SALib; install the extra with "
                "pip install 'dualpower_sim[sensitivity]'"
            ) from None
        names = list(request.parameters)
        problem = {"num_vars": d, "names": names, "bounds": np.c_[lows, highs].tolist()}
        seed = int(rng.integers(2**31))
        if kind == "saltelli":
            _power_of_two(request, "Saltelli's sample")
            # First and total order indices only (N (d + 2) points); SALib draws with our seed.
            scaled = sobol.sample(problem, samples, calc_second_order=False, seed=seed)
        else:
            levels = request.table.get("levels", 4)
            if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
                raise request.fail("design.levels", levels, "an even whole number >= 2")
            scaled = morris.sample(problem, samples, num_levels=levels, seed=seed)
        return pd.DataFrame(scaled, columns=names)

    sample.__name__ = f"_{kind}"
    return sample


register_design("saltelli", keys=("kind", "samples"))(_salib("saltelli"))
register_design("morris", keys=("kind", "samples", "levels"))(_salib("morris"))
