"""Scenario discovery: which combinations of a sweep's conditions lead to an outcome.

A sweep over many parameters at once (a Latin hypercube over the article's conditions) asks
more than a tipping point, one parameter at a time, can answer. Scenario discovery (Bryant and
Lempert 2010; Kwakkel and Jaxa-Rozen 2016) looks for a *box*, a range of a few parameters,
inside which most runs meet a condition (``outcome == "council_power"``, ``resolved_step <
90``) and which holds most of the runs that meet it:

- **PRIM**, the patient rule induction method (Friedman and Fisher 1999), from the EMA
  Workbench (``ema_workbench.analysis.prim``): it peels the space a slice at a time, which
  traces a *peeling trajectory* from the whole space (every case covered, density the base
  rate) to a small dense box. Each box on it has a *coverage* (the share of the cases of
  interest inside it), a *density* (the share of the runs inside it that are cases) and a
  *quasi-p-value* per restriction (a binomial test of whether the restriction adds density by
  more than chance; Bryant and Lempert 2010). :func:`discover` picks the densest box that still
  covers ``min_coverage`` of the cases, drops its restrictions that are not significant
  (quasi-p-value :data:`ALPHA` or more at both ends: the box grows back along that
  parameter), and checks
  the box's stability by running PRIM again on random halves of the runs.
- **CART**, a depth-limited decision tree (scikit-learn), as a second view: its leaves are
  boxes too, found greedily.
- **Feature scores**: extra-trees importances (scikit-learn), so that a modeller sees which
  conditions matter before looking at boxes.

Tables in, tables out: nothing here imports the simulator or matplotlib (the figures are in
:mod:`dualpower_sim.discovery_plots`). The libraries are the ``discover`` extra; without it,
:func:`discover` raises :class:`MissingExtraError`, naming the extra. Every random draw (the
halves of the stability check, the trees) comes from one ``numpy`` generator built from the
``seed`` passed in.

The conditions (``outcome == "council_power" and resolved_step < 90``) are read by
:func:`parse_condition`, in :mod:`dualpower_sim.discovery_conditions`, never evaluated as Python.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from .discovery_conditions import Condition, DiscoveryError, parse_condition

__all__ = [
    "ALPHA",
    "EXTRA",
    "MIN_SHARE",
    "Condition",
    "Discovery",
    "DiscoveryError",
    "MissingExtraError",
    "discover",
    "frequent_outcomes",
    "parse_condition",
]

#: How to install what scenario discovery needs.
EXTRA = "python -m pip install 'dualpower_sim[discover]'"

#: The smallest share of runs an outcome needs for a report to look for its box by default.
MIN_SHARE = 0.05

#: A restriction of a box is significant when its quasi-p-value is below this.
ALPHA = 0.05


class MissingExtraError(ImportError):
    """The ``discover`` extra (the EMA Workbench and scikit-learn) is not installed."""


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Discovery:
    """What scenario discovery found for one condition (returned by :func:`discover`).

    The tables are pandas DataFrames, for notebooks; :meth:`select` picks another box on the
    peeling trajectory.

    Attributes:
        condition: The condition looked for, as text.
        runs: Finished runs used.
        cases: Runs that meet the condition.
        inputs: The parameters searched (numeric swept parameters).
        ranges: The sampled range of each input, ``(low, high)``: a continuous design's
            ranges as the sweep file gives them, else the lowest and highest value run.
        trajectory: PRIM's peeling (and pasting) trajectory, one row per candidate box:
            ``coverage`` (share of the cases inside), ``density`` (share of the runs inside
            that are cases), ``mass`` (share of all runs inside), ``restricted`` (number of
            restricted parameters), ``runs`` and ``cases`` inside, and ``kind``:
            ``"peeling"`` (PRIM's peeling and pasting) or ``"dropped"`` (a box less a
            restriction that was not significant), and ``made_from`` (the row a dropped box
            was made from; -1 for the others).
        chosen: The row of ``trajectory`` that is the box.
        limits: Every candidate box's limits, one ``(low, high)`` table per trajectory row.
        quasi_p: Every candidate box's quasi-p-values: per restricted parameter, of its lower
            and upper restriction (NaN for an unrestricted side).
        resampled: For the stability check, the trajectories PRIM found on random halves of
            the runs, each with the restricted parameters of its boxes.
        tree: CART's leaves, densest first: ``rule`` (the leaf's conditions), ``runs``,
            ``cases``, ``density`` and ``coverage``.
        scores: Extra-trees feature scores of the inputs (importances summing to 1), highest
            first.
        x: The inputs of the runs used (for figures).
        y: Whether each of those runs meets the condition.
        min_coverage: The least coverage the chosen box was allowed.
    """

    condition: str
    runs: int
    cases: int
    inputs: tuple[str, ...]
    ranges: dict[str, tuple[float, float]]
    trajectory: pd.DataFrame
    chosen: int
    limits: tuple[pd.DataFrame, ...]
    quasi_p: tuple[dict[str, tuple[float, float]], ...]
    resampled: tuple[tuple[pd.DataFrame, tuple[frozenset[str], ...]], ...]
    tree: pd.DataFrame
    scores: pd.Series
    x: pd.DataFrame = dataclasses.field(repr=False)
    y: np.ndarray = dataclasses.field(repr=False)
    min_coverage: float = 0.5

    @property
    def coverage(self) -> float:
        """Share of the cases inside the chosen box."""
        return float(self.trajectory.loc[self.chosen, "coverage"])

    @property
    def density(self) -> float:
        """Share of the runs inside the chosen box that are cases."""
        return float(self.trajectory.loc[self.chosen, "density"])

    @property
    def mass(self) -> float:
        """Share of all runs inside the chosen box."""
        return float(self.trajectory.loc[self.chosen, "mass"])

    @property
    def base_rate(self) -> float:
        """Share of all runs that are cases (the density of the whole space)."""
        return self.cases / self.runs

    @property
    def restricted(self) -> list[str]:
        """The parameters the chosen box restricts."""
        return list(self.box.index)

    @property
    def box(self) -> pd.DataFrame:
        """The chosen box: one row per restricted parameter (see :meth:`box_table`)."""
        return self.box_table(self.chosen)

    @property
    def stability(self) -> pd.DataFrame:
        """How often PRIM on half the runs restricts each parameter (see :meth:`stability_of`)."""
        return self.stability_of(self.chosen)

    def box_table(self, i: int) -> pd.DataFrame:
        """The limits of candidate box ``i`` on the restricted parameters.

        Args:
            i: A row of :attr:`trajectory`.

        Returns:
            One row per restricted parameter, in the order of the feature scores: ``low`` and
            ``high`` (the box's limits, in the parameter's units), ``range_low`` and
            ``range_high`` (the sampled range), ``qp_low`` and ``qp_high`` (quasi-p-values of
            the lower and upper restriction; NaN for a side left at the range's end).
        """
        limits, qp = self.limits[i], self.quasi_p[i]
        order = [n for n in self.scores.index if n in qp] + [
            n for n in qp if n not in self.scores.index
        ]
        rows = {}
        for name in order:
            lo, hi = self.ranges[name]
            rows[name] = {
                "low": float(limits.loc["low", name]),
                "high": float(limits.loc["high", name]),
                "range_low": lo,
                "range_high": hi,
                "qp_low": qp[name][0],
                "qp_high": qp[name][1],
            }
        columns = ["low", "high", "range_low", "range_high", "qp_low", "qp_high"]
        return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis(
            "parameter"
        )

    def stability_of(self, i: int) -> pd.DataFrame:
        """How often PRIM, run again on random halves of the runs, restricts each parameter.

        As the EMA Workbench's ``PrimBox.resample``: on each half, the box of its trajectory
        nearest in coverage (and, separately, in density) to candidate box ``i`` is taken, and
        the share of halves whose box restricts each parameter is counted. A box whose
        restrictions come back in most halves is not an accident of these runs. Unlike the
        Workbench, which takes the first of several boxes equally near, a tie goes to the
        densest box of like coverage (the most covering of like density): on a half, coverage
        often stays at 1 for most of the peeling, and the first such box is the whole space.

        Args:
            i: A row of :attr:`trajectory`.

        Returns:
            One row per input: ``at_coverage`` and ``at_density`` (shares, 0 to 1), highest
            first; empty if no halves were drawn.
        """
        coverage = self.trajectory.loc[i, "coverage"]
        density = self.trajectory.loc[i, "density"]
        counts = {name: [0, 0] for name in self.inputs}
        for trajectory, restricted in self.resampled:
            near_coverage = _nearest(trajectory, "coverage", coverage, "density")
            near_density = _nearest(trajectory, "density", density, "coverage")
            for name in restricted[near_coverage]:
                counts[name][0] += 1
            for name in restricted[near_density]:
                counts[name][1] += 1
        n = max(len(self.resampled), 1)
        table = pd.DataFrame.from_dict(
            {k: (a / n, b / n) for k, (a, b) in counts.items()},
            orient="index",
            columns=["at_coverage", "at_density"],
        ).rename_axis("parameter")
        if not self.resampled:
            return table.iloc[:0]
        return table.sort_values(["at_coverage", "at_density"], ascending=False, kind="stable")

    def inside(self, i: int | None = None) -> np.ndarray:
        """Which runs lie inside candidate box ``i`` (default: the chosen box)."""
        limits = self.limits[self.chosen if i is None else i]
        keep = np.ones(len(self.x), dtype=bool)
        for name in self.inputs:
            values = self.x[name].to_numpy(dtype=float)
            keep &= (values >= limits.loc["low", name]) & (values <= limits.loc["high", name])
        return keep

    def select(self, i: int) -> Discovery:
        """The same discovery with candidate box ``i`` chosen instead.

        Args:
            i: A row of :attr:`trajectory` (negative counts from the end).

        Returns:
            A new Discovery.

        Raises:
            IndexError: If there is no such row.
        """
        n = len(self.trajectory)
        if not -n <= i < n:
            raise IndexError(f"box {i}: the trajectory has rows 0 to {n - 1}")
        return dataclasses.replace(self, chosen=i % n)


def _nearest(trajectory: pd.DataFrame, column: str, value: float, better: str) -> int:
    """The row of ``trajectory`` nearest ``value`` in ``column``; ties go to the best ``better``."""
    distance = (trajectory[column] - value).abs().to_numpy()
    ties = np.flatnonzero(distance <= distance.min() + 1e-12)
    return int(ties[np.argmax(trajectory[better].to_numpy()[ties])])


def frequent_outcomes(
    runs: pd.DataFrame, outcomes: Sequence[str] | None = None, share: float = MIN_SHARE
) -> list[str]:
    """The outcomes worth a box: met by at least ``share`` of the finished runs, not by all.

    Args:
        runs: The run table.
        outcomes: The outcomes to consider, in this order (default: those that occur).
        share: The least share of finished runs (0 to 1).

    Returns:
        The outcomes, most frequent first.
    """
    done = runs[runs["status"] != "failed"] if "status" in runs else runs
    counts = done["outcome"].value_counts()
    names = list(outcomes) if outcomes is not None else list(counts.index)
    n = len(done)
    keep = [o for o in names if n and share <= counts.get(o, 0) / n < 1]
    return sorted(keep, key=lambda o: -counts.get(o, 0))


def _import_libraries() -> tuple[Any, Any, Any]:
    """The EMA Workbench's prim module and scikit-learn's tree and ensemble modules."""
    try:
        with warnings.catch_warnings():
            # The Workbench warns on import about optional parts we do not use (its
            # ipyparallel evaluator, altair's interactive inspection).
            warnings.filterwarnings("ignore", message="ipyparallel not installed")
            warnings.filterwarnings("ignore", message="altair based interactive")
            from ema_workbench.analysis import prim
        from sklearn import ensemble, tree
    except ImportError as exc:
        raise MissingExtraError(
            f"scenario discovery needs the discover extra (missing: {exc.name}); install it "
            f"with: {EXTRA}"
        ) from exc
    return prim, tree, ensemble


def _inputs_and_ranges(
    results: Any, inputs: Sequence[str] | None, ranges: Mapping[str, tuple[float, float]] | None
) -> tuple[pd.DataFrame, list[str], dict[str, tuple[float, float]]]:
    if isinstance(results, pd.DataFrame):
        runs, manifest = results, {}
        if inputs is None:
            raise DiscoveryError("a run table needs inputs=[...]: the parameters to search")
    else:
        runs, manifest = results.runs, results.manifest
    names = list(inputs) if inputs is not None else list(manifest.get("parameters", []))
    numeric = [
        n
        for n in names
        if n in runs
        and pd.api.types.is_numeric_dtype(runs[n])
        and not pd.api.types.is_bool_dtype(runs[n])
    ]
    skipped = [n for n in names if n not in numeric]
    if inputs is not None and skipped:
        raise DiscoveryError(f"inputs: {skipped[0]!r} is not a numeric column of the run table")
    if not numeric:
        raise DiscoveryError("the sweep varies no numeric parameter: there is nothing to search")
    spec = manifest.get("parameter_spec", {}) if manifest.get("design") != "grid" else {}
    found: dict[str, tuple[float, float]] = {}
    for name in numeric:
        if ranges is not None and name in ranges:
            found[name] = (float(ranges[name][0]), float(ranges[name][1]))
        elif isinstance(spec.get(name), Mapping) and {"low", "high"} <= set(spec[name]):
            found[name] = (float(spec[name]["low"]), float(spec[name]["high"]))
        else:
            values = runs[name].astype(float)
            found[name] = (float(values.min()), float(values.max()))
    return runs, numeric, found


def _prim(
    prim: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    min_coverage: float | None = None,
    alpha: float = ALPHA,
) -> tuple[pd.DataFrame, list[pd.DataFrame], list[dict[str, tuple[float, float]]], int]:
    """Run PRIM (EMA Workbench 2.5): its trajectory, boxes' limits and quasi-p-values, choice.

    With ``min_coverage``, a box is chosen (:func:`_choose`) and its restrictions that are not
    significant (quasi-p-value ``alpha`` or more) are dropped one at a time, the least
    significant first, keeping at least one; each drop adds a box to the trajectory (its
    ``kind`` is ``"dropped"``). Without it, the choice is row 0.
    """
    with warnings.catch_warnings():
        # pandas 3 deprecates DataFrame.drop(inplace=True), which Prim 2.5 calls on its input.
        warnings.filterwarnings("ignore", message="The inplace keyword")
        # In 2.5, ``threshold`` both marks the cases of interest (y >= threshold) and is the
        # density a box must reach to be returned (else the whole space comes back): any
        # value in (0, 1] marks the ones, and a tiny one accepts every box, so that the
        # choice along the trajectory is ours (as in 3.0, which dropped the argument).
        found = prim.Prim(x, y.astype(int), threshold=1e-9).find_box()
        peeled = len(found.peeling_trajectory)
        chosen = 0
        parents: list[int] = []
        if min_coverage is not None:
            chosen = _choose(found.peeling_trajectory, min_coverage)
            while chosen:
                qp = _quasi_p(found.qp[chosen])
                if len(qp) <= 1:
                    break
                # A restriction is as significant as its more significant side (a box cut
                # hard at one end may stop just short of the range's other end).
                name, worst = max(
                    ((n, min(v for v in pair if not math.isnan(v))) for n, pair in qp.items()),
                    key=lambda item: item[1],
                )
                if worst < alpha:
                    break
                found.drop_restriction(name, chosen)
                parents.append(chosen)
                chosen = len(found.peeling_trajectory) - 1
    trajectory = found.peeling_trajectory
    table = pd.DataFrame(
        {
            "coverage": trajectory["coverage"].to_numpy(dtype=float),
            "density": trajectory["density"].to_numpy(dtype=float),
            "mass": trajectory["mass"].to_numpy(dtype=float),
            "restricted": trajectory["res_dim"].to_numpy(dtype=int),
            "runs": trajectory["n"].to_numpy(dtype=int),
            "cases": trajectory["k"].to_numpy(dtype=int),
            "kind": ["peeling"] * peeled + ["dropped"] * (len(trajectory) - peeled),
            "made_from": [-1] * peeled + parents,
        }
    )
    limits = []
    for lims in found.box_lims:
        frame = pd.DataFrame(lims).astype(float)
        frame.index = ["low", "high"]
        limits.append(frame[list(x.columns)])
    return table, limits, [_quasi_p(qp) for qp in found.qp], chosen


def _quasi_p(qp: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, float]]:
    """The Workbench's quasi-p-values with NaN (not -1) for an unrestricted side."""
    return {
        str(name): cast(
            tuple[float, float], tuple(math.nan if v is None or v < 0 else float(v) for v in values)
        )
        for name, values in qp.items()
    }


def _restricted(limits: pd.DataFrame, whole: pd.DataFrame) -> frozenset[str]:
    return frozenset(
        name
        for name in limits.columns
        if limits.loc["low", name] > whole.loc["low", name]
        or limits.loc["high", name] < whole.loc["high", name]
    )


def _choose(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box covering at least ``min_coverage`` of the cases.

    Ties go to fewer restrictions, then more coverage; row 0 (the whole space) when no box
    that restricts anything covers that much.
    """
    covering = trajectory[
        (trajectory["coverage"] >= min_coverage - 1e-12) & (trajectory["res_dim"] > 0)
    ]
    if covering.empty:
        return 0
    order = covering.assign(
        neg_density=-covering["density"], neg_coverage=-covering["coverage"]
    ).sort_values(["neg_density", "res_dim", "neg_coverage"], kind="stable")
    return int(order.index[0])


def _tree_rules(tree: Any, x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """A fitted decision tree's leaves as boxes: conditions, runs, cases, density, coverage."""
    t = tree.tree_
    names = list(x.columns)
    rows = []

    def walk(node: int, bounds: dict[str, list[float]]) -> None:
        if t.children_left[node] == t.children_right[node]:  # a leaf
            inside = np.ones(len(x), dtype=bool)
            parts = []
            for name, (lo, hi) in bounds.items():
                values = x[name].to_numpy(dtype=float)
                inside &= (values > lo) & (values <= hi)
                if math.isinf(lo):
                    parts.append(f"{name} <= {hi:.3g}")
                elif math.isinf(hi):
                    parts.append(f"{name} > {lo:.3g}")
                else:
                    parts.append(f"{lo:.3g} < {name} <= {hi:.3g}")
            n, k = int(inside.sum()), int(y[inside].sum())
            rows.append(
                {
                    "rule": " and ".join(parts) or "every run",
                    "runs": n,
                    "cases": k,
                    "density": k / n if n else math.nan,
                    "coverage": k / max(int(y.sum()), 1),
                }
            )
            return
        name, cut = names[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds.get(name, [-math.inf, math.inf])
        walk(t.children_left[node], {**bounds, name: [lo, min(hi, cut)]})
        walk(t.children_right[node], {**bounds, name: [max(lo, cut), hi]})

    walk(0, {})
    table = pd.DataFrame(rows, columns=["rule", "runs", "cases", "density", "coverage"])
    return table.sort_values(["density", "runs"], ascending=False, ignore_index=True)


def discover(
    results: Any,
    outcome: str | None = None,
    *,
    where: str | None = None,
    inputs: Sequence[str] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    min_coverage: float = 0.5,
    resamples: int = 10,
    tree_depth: int = 3,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
) -> Discovery:
    """Scenario discovery on a sweep: the box of conditions where runs meet a condition.

    Example:
        >>> from dualpower_sim import discover, load_results
        >>> found = discover(load_results("sweeps/conditions_lhs"), "council_power")
        ... # doctest: +SKIP
        >>> found.box  # the restricted parameters, their limits and quasi-p-values
        ... # doctest: +SKIP

    Args:
        results: A sweep's results (``load_results(DIR)``: its numeric swept parameters are
            searched, within the ranges its design sampled), or a run table (then give
            ``inputs``).
        outcome: An outcome to look for (``"council_power"``); or give ``where``.
        where: A condition on the run table (``"resolved_step < 90"``; see
            :func:`parse_condition`); or give ``outcome``.
        inputs: The parameters to search (default: the sweep's numeric parameters).
        ranges: The sampled range of some inputs, ``{name: (low, high)}`` (default: the
            sweep file's ranges for a continuous design, else the values run).
        min_coverage: The least share of the cases the chosen box must hold (0 to 1): the
            chosen box is the densest such box on PRIM's trajectory, less its restrictions
            whose quasi-p-value is :data:`ALPHA` or more at both ends (dropped one at a
            time, the least significant first, keeping one). :meth:`Discovery.select` picks
            another.
        resamples: Random halves of the runs PRIM is run again on, to check the box's
            stability (0: no check).
        tree_depth: Depth of the CART tree (levels of splits).
        seed: Seed of every random draw (the halves, the trees): a number, a
            ``SeedSequence`` or a ``Generator``.

    Returns:
        The discovery: the chosen box and its stability, the trajectory, CART's leaves and the
        feature scores.

    Raises:
        DiscoveryError: If the condition is unreadable, names no column, or is met by none or
            all of the finished runs; or if there is no numeric parameter to search.
        MissingExtraError: If the ``discover`` extra is not installed.
    """
    if (outcome is None) == (where is None):
        raise DiscoveryError("give an outcome or a condition (where=...), not both or neither")
    if not 0 < min_coverage <= 1:
        raise DiscoveryError(f"min_coverage = {min_coverage}: allowed: 0 < min_coverage <= 1")
    if resamples < 0 or tree_depth < 1:
        raise DiscoveryError("resamples must be >= 0 and tree_depth >= 1")
    condition = parse_condition(where if where is not None else f'outcome == "{outcome}"')
    runs, names, found_ranges = _inputs_and_ranges(results, inputs, ranges)
    done = runs[runs["status"] != "failed"] if "status" in runs else runs
    y = condition.mask(done).to_numpy(dtype=bool)
    n, k = len(y), int(y.sum())
    if n == 0:
        raise DiscoveryError("no finished run to look at")
    if k == 0 or k == n:
        which = "none" if k == 0 else "every one"
        raise DiscoveryError(
            f"{condition.text!r} is met by {which} of the {n} finished runs: there is nothing "
            "to tell apart (scenario discovery needs runs on both sides)"
        )
    prim, tree_module, ensemble = _import_libraries()
    x = done[names].astype(float).reset_index(drop=True)
    trajectory, limits, quasi_p, chosen = _prim(prim, x, y, min_coverage)
    # Independent streams for the halves and the trees: the trees draw the same whatever
    # the number of halves.
    halves, trees = np.random.default_rng(seed).spawn(2)
    resampled = []
    for _ in range(resamples):
        half = np.sort(halves.choice(n, size=n // 2, replace=False))
        if not 0 < y[half].sum() < half.size:
            continue  # a half with no case (or only cases) has no box to find
        t, lims, _, _ = _prim(prim, x.iloc[half].reset_index(drop=True), y[half])
        resampled.append((t, tuple(_restricted(b, lims[0]) for b in lims)))
    leaf = max(5, n // 20)
    cart = tree_module.DecisionTreeClassifier(
        max_depth=tree_depth, min_samples_leaf=leaf, random_state=int(trees.integers(2**31))
    ).fit(x.to_numpy(), y)
    forest = ensemble.ExtraTreesClassifier(
        n_estimators=200, min_samples_leaf=2, random_state=int(trees.integers(2**31))
    ).fit(x.to_numpy(), y)
    scores = pd.Series(forest.feature_importances_, index=names, name="score")
    return Discovery(
        condition=condition.text,
        runs=n,
        cases=k,
        inputs=tuple(names),
        ranges=found_ranges,
        trajectory=trajectory,
        chosen=chosen,
        limits=tuple(limits),
        quasi_p=tuple(quasi_p),
        resampled=tuple(resampled),
        tree=_tree_rules(cart, x, y),
        scores=scores.sort_values(ascending=False, kind="stable"),
        x=x,
        y=y,
        min_coverage=min_coverage,
    )
