"""What a sweep says: outcome probabilities with intervals, tipping points, phase tables.

Tables in, tables out: every function takes the runs of a sweep (``load_results(DIR).runs``,
one row per run, with its parameters and ``outcome``) and returns a DataFrame or a small
result object. Nothing here imports the simulator, so old results can be analysed without it.

A continuous design (:data:`CONTINUOUS_DESIGNS`: a Latin hypercube, a Sobol or Halton
sequence, Saltelli's sample) puts every run at its own parameter values, usually one run a
point: :func:`binned_outcome_table` pools the runs into quantile bins before it estimates a
probability, and :func:`tipping_point` then resamples points rather than replicates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "CONTINUOUS_DESIGNS",
    "MIN_RUNS",
    "TIPPING_RULE",
    "VERDICTS",
    "TippingPoint",
    "binned_outcome_table",
    "dominant_outcomes",
    "outcome_table",
    "sensitivity",
    "tipping_point",
]

#: Designs whose points each hold their own parameter values (rarely repeated): their outcome
#: curves are drawn over quantile bins of the runs, not point by point.
CONTINUOUS_DESIGNS = ("lhs", "sobol", "halton", "saltelli")

#: The fewest runs a reported tipping point rests on: runs ending in the outcome, runs ending
#: otherwise, and runs on each side of the crossing.
MIN_RUNS = 5

#: What :func:`tipping_point` can conclude (:attr:`TippingPoint.verdict`).
VERDICTS = ("crossing", "separation", "too few runs", "not crossed", "not located")

#: The rule, in words, for a report to state beside its table (``{min_runs}`` filled in).
TIPPING_RULE = (
    "A crossing is reported only when at least {min_runs} runs end in the outcome and "
    "{min_runs} end otherwise, when the fitted curve crosses inside the range where runs lie, "
    "and when at least {min_runs} runs lie on each side of it; otherwise the table says "
    "*too few runs* or *not crossed*. A crossing whose 95% interval reaches beyond that range "
    "is *not located*: the probability changes too little along the parameter to place it "
    "(a flat curve near one half crosses it somewhere by chance). When the parameter "
    "separates the runs perfectly (every run below some value ends one way, every run above "
    "it the other), a logistic slope is "
    "meaningless: the table says *separation* and gives the gap between the two groups, "
    "where the crossing lies. The interval resamples the replicates within each point, or "
    "the points themselves when most points have a single run."
)


def outcome_table(
    runs: pd.DataFrame,
    by: Sequence[str],
    outcomes: Sequence[str],
    confidence: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Probability of each outcome at each point, with a binomial confidence interval.

    Failed runs are left out of ``n`` (and counted in ``failed``).

    Args:
        runs: One row per run, with the columns in ``by`` and ``outcome`` (and ``status``).
        by: The parameters that define a point (an empty list pools every run).
        outcomes: The outcomes to report, e.g. the manifest's ``outcomes``.
        confidence: Confidence level of the intervals.
        method: ``"wilson"`` (Wilson score) or ``"exact"`` (Clopper-Pearson), as
            ``scipy.stats.binomtest(...).proportion_ci`` computes them.

    Returns:
        A long table: the ``by`` columns, ``outcome``, ``k`` (runs ending so), ``n`` (runs
        that finished), ``failed``, ``p``, ``low``, ``high``.
    """
    if method not in ("wilson", "exact"):
        raise ValueError(f"method = {method!r} is not allowed; allowed: 'wilson', 'exact'")
    by = list(by)
    for column in by:  # a table- or list-valued parameter is grouped by its text
        if runs[column].map(lambda v: isinstance(v, dict | list | np.ndarray)).any():
            runs = runs.assign(**{column: runs[column].map(str)})
    status = runs["status"] if "status" in runs else pd.Series("done", index=runs.index)
    finished = runs[status != "failed"]
    failed = runs[status == "failed"]
    groups = [((), finished)] if not by else list(finished.groupby(by, sort=True))
    failed_counts = failed.groupby(by).size() if by and not failed.empty else pd.Series(dtype=int)
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        n = len(group)
        n_failed = int(failed_counts.get(key if len(key) > 1 else key[0], 0)) if by else len(failed)
        counts = group["outcome"].value_counts()
        for outcome in outcomes:
            k = int(counts.get(outcome, 0))
            low, high = _interval(k, n, confidence, method)
            rows.append((*key, outcome, k, n, n_failed, k / n if n else math.nan, low, high))
    return pd.DataFrame(rows, columns=[*by, "outcome", "k", "n", "failed", "p", "low", "high"])


def binned_outcome_table(
    runs: pd.DataFrame,
    parameter: str,
    outcomes: Sequence[str],
    bins: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Probability of each outcome over quantile bins of one parameter, with Wilson intervals.

    For a continuous design, where runs seldom share a parameter value: the finished runs are
    split into ``bins`` groups of about equal size by the parameter's quantiles, and each
    outcome's probability is estimated over each group. A whole-number parameter with few
    values may give fewer bins (runs with one value are never split).

    Args:
        runs: One row per run, with ``parameter`` (numeric) and ``outcome`` (and ``status``).
        parameter: The parameter to bin.
        outcomes: The outcomes to report.
        bins: Number of bins; default about one per 30 finished runs, from 3 to 10 (fewer when
            there are fewer runs than that).
        confidence: Confidence level of the Wilson intervals.

    Returns:
        A long table like :func:`outcome_table`'s: ``parameter`` (the median of the bin's
        runs, where its probability is drawn), ``bin_low`` and ``bin_high`` (the smallest and
        largest value in the bin), ``outcome``, ``k``, ``n``, ``failed``, ``p``, ``low``,
        ``high``.

    Raises:
        ValueError: If ``bins`` is below 1.
    """
    status = runs["status"] if "status" in runs else pd.Series("done", index=runs.index)
    finished = runs[status != "failed"]
    x = finished[parameter].astype(float)
    if bins is None:
        bins = min(10, max(3, round(len(finished) / 30)))
    if bins < 1:
        raise ValueError(f"bins = {bins} is not allowed; allowed: a whole number >= 1")
    bins = max(1, min(bins, x.nunique()))
    labels = (
        pd.qcut(x, bins, labels=False, duplicates="drop")
        if bins > 1 and len(x)
        else pd.Series(0, index=x.index)
    )
    failed_x = runs.loc[status == "failed", parameter].astype(float)
    rows = []
    for _, group in finished.groupby(labels.to_numpy(), sort=True):
        values = group[parameter].astype(float)
        lo, hi = float(values.min()), float(values.max())
        n = len(group)
        n_failed = int(failed_x.between(lo, hi).sum())
        counts = group["outcome"].value_counts()
        for outcome in outcomes:
            k = int(counts.get(outcome, 0))
            low, high = _interval(k, n, confidence, "wilson")
            rows.append((float(values.median()), lo, hi, outcome, k, n, n_failed, k / n, low, high))
    return pd.DataFrame(
        rows,
        columns=[
            parameter,
            "bin_low",
            "bin_high",
            "outcome",
            "k",
            "n",
            "failed",
            "p",
            "low",
            "high",
        ],
    )


def _interval(k: int, n: int, confidence: float, method: str) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method=method)
    return float(ci.low), float(ci.high)


def dominant_outcomes(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The most likely outcome at each point, with its probability (for phase diagrams).

    Args:
        table: An :func:`outcome_table`.
        by: Its point columns.

    Returns:
        One row per point: the ``by`` columns, ``outcome``, ``p``.
    """
    best = table.sort_values("p", ascending=False, kind="stable").drop_duplicates(list(by))
    return best.sort_values(list(by), ignore_index=True)[[*by, "outcome", "p"]]


@dataclasses.dataclass(frozen=True)
class TippingPoint:
    """Where the probability of an outcome crosses a level, from a logistic fit.

    Attributes:
        parameter: The swept parameter.
        outcome: The outcome.
        level: The probability crossed (0.5: a coin toss).
        estimate: The parameter value at the crossing (NaN unless the verdict is
            ``"crossing"`` or ``"separation"``; for a separation, the fitted curve's crossing,
            which lies somewhere in the gap between ``low`` and ``high``).
        low: Lower end of its bootstrap confidence interval (for a separation: the last
            parameter value on the lower side of the gap).
        high: Upper end (for a separation: the first value on the upper side of the gap).
        slope: The logistic slope (per unit of the parameter): its sign says which way the
            probability rises. Meaningless for a separation, where only a tiny ridge keeps it
            finite.
        runs: Runs used.
        intercept: The logistic intercept: ``P = 1 / (1 + exp(-(intercept + slope x)))``.
        verdict: What the runs say, one of :data:`VERDICTS`: ``"crossing"`` (a crossing with
            enough runs on both sides: :data:`TIPPING_RULE`), ``"separation"`` (the parameter
            splits the runs perfectly: the crossing lies in the gap ``low`` to ``high``),
            ``"too few runs"``, ``"not crossed"`` (inside the range where runs lie) or
            ``"not located"`` (the fitted curve crosses, but its interval, kept in ``low`` and
            ``high``, reaches beyond the range where runs lie).
        events: Runs that ended in the outcome.
    """

    parameter: str
    outcome: str
    level: float
    estimate: float
    low: float
    high: float
    slope: float
    runs: int
    intercept: float = math.nan
    verdict: str = "crossing"
    events: int = -1

    def probability(self, x: np.ndarray) -> np.ndarray:
        """The fitted probability of the outcome at parameter values ``x``."""
        return special.expit(self.intercept + self.slope * np.asarray(x, dtype=float))

    @property
    def found(self) -> bool:
        """Whether a crossing is reported (a crossing, or a separation's gap)."""
        return not math.isnan(self.estimate)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood logistic regression of y (0/1) on x; returns (intercept, slope).

    Newton's method (iteratively reweighted least squares) on the standardised parameter,
    with a tiny ridge on the slope so that perfectly separated data give a steep but finite
    curve.
    """
    xm, xs = x.mean(), x.std() or 1.0
    design = np.column_stack([np.ones_like(x), (x - xm) / xs])
    ridge = np.diag([0.0, 1e-4])
    beta = np.zeros(2)
    for _ in range(100):
        p = special.expit(design @ beta)
        grad = design.T @ (y - p) - ridge @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge
        step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    slope = beta[1] / xs
    return float(beta[0] - slope * xm), float(slope)


def _crossing(intercept: float, slope: float, level: float, lo: float, hi: float) -> float:
    if slope == 0 or not np.isfinite(slope):
        return math.nan
    x = (special.logit(level) - intercept) / slope
    return float(x) if lo <= x <= hi else math.nan


def _gap(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """The gap between the two groups of runs if ``x`` separates them perfectly, else None."""
    ones, zeros = x[y == 1], x[y == 0]
    if ones.min() > zeros.max():
        return float(zeros.max()), float(ones.min())
    if zeros.min() > ones.max():
        return float(ones.max()), float(zeros.min())
    return None


def tipping_point(
    runs: pd.DataFrame,
    parameter: str,
    outcome: str = "council_power",
    level: float = 0.5,
    confidence: float = 0.95,
    n_boot: int = 500,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    min_runs: int = MIN_RUNS,
) -> TippingPoint:
    """The parameter value at which an outcome's probability crosses ``level``.

    A logistic curve ``P(outcome) = 1 / (1 + exp(-(a + b x)))`` is fitted to the runs by
    maximum likelihood; the tipping point is where it equals ``level``. Its interval comes from
    a bootstrap that refits ``n_boot`` resamples and takes the percentile interval of their
    crossings (which may reach beyond the swept range when the data say little there). The
    bootstrap resamples the replicates within each point (the design stays fixed), or, when
    most points hold a single run (a Latin hypercube), the points themselves with their runs:
    with one run a point, resampling replicates would give every resample the same runs.

    A crossing is reported only under the rule of :data:`TIPPING_RULE` (``verdict``):
    otherwise ``estimate`` is NaN and the verdict says why, so one run of 160 ending in an
    outcome, or a parameter that splits the runs perfectly, never passes for a measured
    tipping point.

    Args:
        runs: One row per run, with ``parameter``, ``outcome`` and ``point`` (``status`` if any).
        parameter: The swept parameter (numeric).
        outcome: The outcome whose probability is modelled.
        level: The probability crossed.
        confidence: Confidence level of the interval.
        n_boot: Bootstrap resamples.
        seed: Seed of the bootstrap's generator (a number, a ``SeedSequence`` or a
            ``Generator``, as ``numpy.random.default_rng`` takes).
        min_runs: The fewest runs of the outcome, of the other outcomes, and on each side of
            the crossing that a reported crossing needs.

    Returns:
        The tipping point (``estimate`` NaN unless a crossing or a separation is found).
    """
    data = runs[runs["status"] != "failed"] if "status" in runs else runs
    x = data[parameter].to_numpy(dtype=float)
    y = (data["outcome"] == outcome).to_numpy(dtype=float)
    lo, hi = float(x.min()), float(x.max())
    events = int(y.sum())
    a, b = _fit(x, y)

    def result(verdict: str, estimate=math.nan, low=math.nan, high=math.nan) -> TippingPoint:
        return TippingPoint(
            parameter,
            outcome,
            level,
            float(estimate),
            float(low),
            float(high),
            float(b),
            len(x),
            float(a),
            verdict,
            events,
        )

    if min(events, len(y) - events) < min_runs:
        return result("too few runs")
    estimate = _crossing(a, b, level, lo, hi)
    gap = _gap(x, y)
    if gap is not None:
        # Every run below the gap ends one way and every run above it the other: the data
        # place the crossing in the gap and nowhere more precisely.
        inside = (
            estimate if np.isfinite(estimate) and gap[0] <= estimate <= gap[1] else sum(gap) / 2
        )
        return result("separation", inside, *gap)
    if not np.isfinite(estimate):
        return result("not crossed")
    if min((x < estimate).sum(), (x > estimate).sum()) < min_runs:
        return result("too few runs")
    rng = np.random.default_rng(seed)
    points = data["point"].to_numpy() if "point" in data else np.unique(x, return_inverse=True)[1]
    groups = [np.flatnonzero(points == p) for p in np.unique(points)]
    by_point = np.median([g.size for g in groups]) < 2
    crossings = []
    for _ in range(n_boot):  # resamples, not runs: a few hundred fits of two numbers each
        if by_point:  # the points, each with its runs
            chosen = rng.integers(len(groups), size=len(groups))
            idx = np.concatenate([groups[i] for i in chosen])
        else:  # the replicates within each point
            idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        a_b, b_b = _fit(x[idx], y[idx])
        c = _crossing(a_b, b_b, level, -np.inf, np.inf)
        if np.isfinite(c):
            crossings.append(c)
    tail = (1 - confidence) / 2
    low, high = np.quantile(crossings, [tail, 1 - tail]) if crossings else (math.nan, math.nan)
    # With every point all one way or all the other, each resample of replicates puts the
    # crossing at the same place, but the data say only that it lies between the two design
    # values around it: the interval is at least that bracket.
    shares = pd.Series(y).groupby(points).mean()
    if shares.isin([0.0, 1.0]).all():
        xs = np.unique(x)
        right = int(np.searchsorted(xs, estimate))
        if 0 < right < xs.size:
            low, high = min(low, xs[right - 1]), max(high, xs[right])
    if not lo <= low <= high <= hi:  # NaN too: no resample crossed
        return result("not located", math.nan, low, high)
    return result("crossing", estimate, low, high)


def sensitivity(
    runs: pd.DataFrame,
    manifest: dict,
    output: str = "council_power",
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Sobol or Morris sensitivity indices of an output over a sweep's parameters (SALib).

    The sweep must use a ``saltelli`` design (Sobol first and total order indices) or a
    ``morris`` design (elementary effects). The output at each point is the mean over its
    replicates of either the runs' ending in an outcome (``output`` names an outcome: the
    output is its probability) or a numeric column of the runs (``peak_council_power``...).

    Args:
        runs: The sweep's runs (every point must have finished runs).
        manifest: The sweep's manifest (its design and parameter ranges).
        output: An outcome, or a numeric column of ``runs``.
        confidence: Confidence level of the indices' intervals (SALib's bootstrap).
        seed: Seed of SALib's bootstrap.

    Returns:
        One row per parameter: ``S1``, ``S1_low``, ``S1_high``, ``ST``, ``ST_low``, ``ST_high``
        (Sobol) or ``mu_star``, ``mu_star_low``, ``mu_star_high``, ``sigma`` (Morris); NaN
        when the output is the same at every point (nothing to apportion).

    Raises:
        ValueError: If the design is not a SALib design or a point has no finished run.
        ImportError: If SALib is not installed (the ``sensitivity`` extra).
    """
    kind = manifest.get("design")
    if kind not in ("saltelli", "morris"):
        raise ValueError(f"design = {kind!r}: sensitivity needs a 'saltelli' or 'morris' design")
    from SALib.analyze import morris, sobol

    spec = manifest["parameter_spec"]
    names = list(spec)
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[float(spec[n]["low"]), float(spec[n]["high"])] for n in names],
    }
    done = runs[runs["status"] != "failed"] if "status" in runs else runs
    if output in done.columns:
        values = done.groupby("point")[output].mean()
    else:
        values = (done["outcome"] == output).groupby(done["point"]).mean()
    n_points = int(manifest["points"])
    y = values.reindex(range(n_points)).to_numpy(dtype=float)
    if np.isnan(y).any():
        raise ValueError("every design point needs at least one finished run")
    if np.ptp(y) == 0:  # nothing to apportion: the indices are undefined (SALib divides by 0)
        columns = (
            ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
            if kind == "saltelli"
            else ["mu_star", "mu_star_low", "mu_star_high", "sigma"]
        )
        return pd.DataFrame({"parameter": names, **{c: math.nan for c in columns}})
    if kind == "saltelli":
        res = sobol.analyze(problem, y, calc_second_order=False, conf_level=confidence, seed=seed)
        table = pd.DataFrame({"parameter": names, "S1": res["S1"], "ST": res["ST"]})
        for key in ("S1", "ST"):
            table[f"{key}_low"] = res[key] - res[f"{key}_conf"]
            table[f"{key}_high"] = res[key] + res[f"{key}_conf"]
        return table[["parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]]
    points = runs.drop_duplicates("point").sort_values("point")
    x = points[names].to_numpy(dtype=float)
    levels = int(manifest.get("design_spec", {}).get("levels", 4))
    res = morris.analyze(problem, x, y, conf_level=confidence, num_levels=levels, seed=seed)
    conf = np.asarray(res["mu_star_conf"])
    return pd.DataFrame(
        {
            "parameter": names,
            "mu_star": res["mu_star"],
            "mu_star_low": np.asarray(res["mu_star"]) - conf,
            "mu_star_high": np.asarray(res["mu_star"]) + conf,
            "sigma": res["sigma"],
        }
    )
