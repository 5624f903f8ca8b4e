"""The posterior's report: ``report.md``, its tables and figures, from tables already computed.

This module never runs the model: ``dualpower posterior`` simulates the predictive checks
(:mod:`~dualpower_sim.calibration.predictive`) and hands their runs here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from scipy import stats

from ..files import atomic_text
from ..plots.calibration import plot_marginals, plot_pairs, plot_predictive
from .posterior import Posterior
from .spec import TIMINGS

__all__ = ["leave_one_out_table", "predictive_table", "write_posterior_report"]


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def predictive_table(runs: pd.DataFrame, episodes: list[Mapping]) -> pd.DataFrame:
    """One row per episode: the share of runs ending as history did, and the timings.

    Args:
        runs: Predictive runs (:func:`~dualpower_sim.calibration.predictive.posterior_predictive`).
        episodes: The calibration's episodes as recorded (``name``, ``outcomes``, ``days``).

    Returns:
        ``episode``, ``history`` (the outcome(s)), ``runs``, ``share`` with its 95% Wilson
        interval ``share_low`` and ``share_high``, ``outcomes`` (counts, as text), ``held_out``,
        and per timing its ``_median``, ``_low`` and ``_high`` (5% and 95%) over the runs and
        ``_history`` (NaN when history gives none).
    """
    rows = []
    for e in episodes:
        r = runs[runs["episode"] == e["name"]]
        if r.empty:
            continue
        k, n = int(r["historical"].sum()), len(r)
        low, high = _wilson(k, n)
        counts = r["outcome"].value_counts()
        row = {
            "episode": e["name"],
            "history": " or ".join(e["outcomes"]),
            "runs": n,
            "share": k / n,
            "share_low": low,
            "share_high": high,
            "outcomes": ", ".join(f"{o} {c}" for o, c in counts.items()),
            "held_out": bool(r["held_out"].any()),
        }
        for timing in TIMINGS:
            x = r[timing].astype(float)
            row[f"{timing}_median"] = float(x.median())
            row[f"{timing}_low"] = float(x.quantile(0.05))
            row[f"{timing}_high"] = float(x.quantile(0.95))
            row[f"{timing}_history"] = float(e["days"].get(timing, math.nan))
        rows.append(row)
    return pd.DataFrame(rows)


#: The report's files that depend on its options (pairs, predictive draws, leave-one-out folders).
_OPTIONAL = (
    "pairs.png",
    "predictive.csv",
    "predictive_runs.csv",
    "predictive.png",
    "leave_one_out.csv",
)


def leave_one_out_table(held_out: pd.DataFrame, full: pd.DataFrame | None) -> pd.DataFrame:
    """Each left-out episode's predicted share beside the share when calibrated on all.

    Args:
        held_out: :func:`predictive_table` rows of the left-out episodes, each from the
            calibration that left it out.
        full: :func:`predictive_table` of the calibration on every episode, or None.

    Returns:
        ``episode``, ``history``, ``predicted`` (share left out, with ``low``, ``high``) and
        ``fitted`` (share when calibrated on every episode; NaN without ``full``).
    """
    out = held_out[["episode", "history", "share", "share_low", "share_high"]].rename(
        columns={"share": "predicted", "share_low": "low", "share_high": "high"}
    )
    fitted = full.set_index("episode")["share"] if full is not None else pd.Series(dtype=float)
    out["fitted"] = [float(fitted.get(e, math.nan)) for e in out["episode"]]
    return out.reset_index(drop=True)


def _f(x: float, digits: int = 3) -> str:
    return "-" if x != x else f"{x:.{digits}g}"


def _share(row: Mapping) -> str:
    return f"{row['share']:.2f} [{row['share_low']:.2f}, {row['share_high']:.2f}]"


def _timings(row: Mapping) -> str:
    parts = []
    for t in TIMINGS:
        h = row[f"{t}_history"]
        if h == h:
            parts.append(
                f"{t.replace('_', ' ')} {_f(row[f'{t}_median'])} ({_f(row[f'{t}_low'])} to "
                f"{_f(row[f'{t}_high'])}) against {_f(h)}"
            )
    return "; ".join(parts) or "-"


def _informs(contraction: float) -> str:
    if contraction >= 0.5:
        return "informed"
    if contraction >= 0.2:
        return "somewhat"
    return "not informed"


def write_posterior_report(
    posterior: Posterior,
    out: str | Path,
    predictive: pd.DataFrame | None = None,
    leave_one_out: pd.DataFrame | None = None,
) -> Path:
    """Write ``report.md``, its CSV tables and PNG figures into ``out``.

    Args:
        posterior: The posterior (:func:`~dualpower_sim.calibration.posterior.load_posterior`).
        out: The report's folder (created).
        predictive: Predictive runs, or None to leave the checks out.
        leave_one_out: :func:`leave_one_out_table`, or None.

    Returns:
        The folder.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    info = posterior.info
    summary = posterior.summary()
    footer = (
        f"{info['name']} · seed {info['seed']} · "
        f"dualpower_sim {info['provenance'].get('version', '?')}"
    )
    # What this report may leave out, removed first: an earlier report's files in the same
    # folder would otherwise stand beside this one as if it had written them.
    for name in _OPTIONAL:
        (out / name).unlink(missing_ok=True)
    table = posterior.particles.assign(weight=posterior.weights)
    table.to_csv(out / "posterior.csv", index=False)
    summary.to_csv(out / "summary.csv")
    posterior.generations.to_csv(out / "generations.csv", index=False)
    figure = plot_marginals(
        posterior.particles, posterior.weights, posterior.priors, summary, footer=footer
    )
    figure.savefig(out / "marginals.png", dpi=120)
    shared = posterior.shared
    if len(shared) >= 2:
        plot_pairs(
            posterior.particles, posterior.weights, posterior.priors, shared, footer=footer
        ).savefig(out / "pairs.png", dpi=120)
    g = posterior.generations
    lines = [
        f"# Calibration: {info['name']}",
        "",
        info.get("description") or "",
        "",
        f"ABC-SMC (pyabc) from `{info['source']}`"
        + (f", leaving out `{info['leave_out']}`" if info.get("leave_out") else "")
        + f": {len(g)} generations of {info['population_size']} particles, "
        f"{info['replicates']} run(s) per episode per particle, "
        f"{int(info.get('runs') or g['proposed'].sum())} particles simulated in all "
        f"(each runs every episode); final epsilon {_f(g['epsilon'].iloc[-1])}. Root seed "
        f"{info['seed']}; calibration hash `{info['calibration_hash'][:12]}`; dualpower_sim "
        f"{info['provenance'].get('version')}, pyabc's history in `history.db`. "
        f"Started {info['created']}"
        + (f", finished {info['finished']}." if info.get("finished") else " (not finished)."),
        "",
        "## Generations",
        "",
        "The effective sample size (ESS, 1 / sum of squared weights) says how many particles "
        "the weighted posterior rests on; far below the particles accepted, it has collapsed.",
        "",
        "| generation | epsilon | accepted | proposed | acceptance | ESS |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.generation} | {_f(r.epsilon)} | {r.accepted} | {r.proposed} | "
            f"{r.acceptance:.2f} | {r.ess:.1f} |"
            for r in g.itertuples()
        ),
        "",
        "## The posterior",
        "",
        "Weighted medians and 90% credible intervals of the last generation. Contraction is "
        "1 - posterior variance / prior variance: how much history narrowed the prior "
        "(informed from 0.5, somewhat from 0.2; near 0, or below, history says little about "
        "the parameter at this budget).",
        "",
        "| parameter | prior | median | 90% interval | contraction | |",
        "|---|---|---|---|---|---|",
        *(
            f"| `{name}` | {_f(s['prior_low'])} to {_f(s['prior_high'])} | {_f(s['median'])} | "
            f"{_f(s['low'])} to {_f(s['high'])} | {s['contraction']:.2f} | "
            f"{_informs(s['contraction'])} |"
            for name, s in summary.to_dict("index").items()
        ),
        "",
        "![marginal posteriors](marginals.png)",
        "",
    ]
    if len(shared) >= 2:
        lines += ["Pairwise densities of the shared parameters:", "", "![pairs](pairs.png)", ""]
    if predictive is not None and not predictive.empty:
        pred = predictive_table(predictive, info["episodes"] + _held(info))
        pred.to_csv(out / "predictive.csv", index=False)
        predictive.to_csv(out / "predictive_runs.csv", index=False)
        plot_predictive(pred, footer=footer).savefig(out / "predictive.png", dpi=120)
        draws = int(predictive["draw"].nunique())
        lines += [
            "## Posterior predictive checks",
            "",
            f"Each episode run from {draws} posterior draws "
            f"({len(predictive) // max(len(pred), 1)} runs an episode): the share of runs "
            "ending as history did (95% Wilson interval), and the timings' medians (5% to 95%) "
            "against history's, in days (dual power from the start of the run; majority and "
            "end from dual power; an event that never came counts at twice the horizon).",
            "",
            "| episode | history | ending so | outcomes | timings |",
            "|---|---|---|---|---|",
            *(
                f"| `{r['episode']}`{' (held out)' if r['held_out'] else ''} | {r['history']} "
                f"| {_share(r)} | {r['outcomes']} | {_timings(r)} |"
                for r in pred.to_dict("records")
            ),
            "",
            "![posterior predictive checks](predictive.png)",
            "",
        ]
    if leave_one_out is not None and not leave_one_out.empty:
        leave_one_out.to_csv(out / "leave_one_out.csv", index=False)
        lines += [
            "## Leave one episode out",
            "",
            "Each episode predicted by a calibration on the others (its own inferred "
            "parameters, if any, drawn from their priors), beside the share when it is "
            "calibrated with them: what the model explains of an episode it was not fitted to. "
            "Both columns run the same seeds and guesses (common random numbers): a difference "
            "comes from the calibrated parameters alone.",
            "",
            "| episode | history | predicted, left out | calibrated on all |",
            "|---|---|---|---|",
            *(
                f"| `{r.episode}` | {r.history} | {r.predicted:.2f} [{r.low:.2f}, "
                f"{r.high:.2f}] | {_f(r.fitted, 2)} |"
                for r in leave_one_out.itertuples()
            ),
            "",
        ]
    atomic_text(out / "report.md", "\n".join(lines))
    return out


def _held(info: Mapping) -> list[Mapping]:
    """The left-out episode's record, when the calibration left one out."""
    held = info.get("held_out_episode")
    return [held] if held else []
