"""A sweep's report: outcome tables, tipping points, figures and a Markdown summary.

``dualpower report DIR`` writes ``DIR/report/``: ``report.md`` (paste it into a paper),
``outcomes.csv`` (the probability of every outcome at every point, with intervals), and the
figures: outcome curves against each swept parameter (with the tipping points; over quantile
bins of the runs, with the runs as a rug, for a continuous design) and, for two or more
parameters on a grid, phase diagrams of the first two. With ``--discover``, a section of
scenario discovery (:mod:`dualpower_sim.discovery`): PRIM's boxes for outcomes, CART's leaves,
feature scores, and their figures; ``dualpower discover DIR`` writes the same for any condition
(:func:`write_discovery`). ``report.md`` links every figure the report writes. Never imports
the simulator.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import (
    CONTINUOUS_DESIGNS,
    MIN_RUNS,
    TIPPING_RULE,
    TippingPoint,
    binned_outcome_table,
    outcome_table,
    tipping_point,
)
from .discovery import (
    ALPHA,
    Discovery,
    DiscoveryError,
    discover,
    frequent_outcomes,
    parse_condition,
)
from .results import ResultsError
from .sweeps.store import SweepResults, load_results

__all__ = ["write_discovery", "write_report"]

#: Prefixes of the figures a report writes: a file of the report folder with one of them that
#: this report did not write is left from an earlier report, and is removed.
FIGURE_PREFIXES = ("curves_", "phase_", "discover_")

#: Below this many runs meeting a condition (or not meeting it), its box is flagged as an anecdote.
FEW_CASES = 10

#: What a continuous design is called in the report's text.
DESIGN_NAMES = {
    "lhs": "Latin hypercube",
    "sobol": "Sobol sequence",
    "halton": "Halton sequence",
    "saltelli": "Saltelli sample",
}

#: Outcomes whose tipping points the report looks for.
TIPPING_OUTCOMES = ("council_power", "state_restored", "co_opted")


def write_report(
    folder: str | Path,
    out: str | Path | None = None,
    n_boot: int = 300,
    discover: bool | Sequence[str | None] = False,
    seed: int = 0,
) -> Path:
    """Analyse a sweep folder and write its report.

    Args:
        folder: The sweep's results folder.
        out: Where to write (default ``folder/report``).
        n_boot: Bootstrap resamples per tipping point.
        discover: Outcomes to look for boxes for (scenario discovery): ``True`` (or ``None``
            in the sequence) stands for every outcome met by at least 5% of the finished runs
            but not all (:func:`~dualpower_sim.discovery.frequent_outcomes`); ``False``, no
            discovery section.
        seed: Root seed of the report's random draws (the bootstraps, discovery's halves and
            trees).

    Returns:
        The report folder.

    Raises:
        ResultsError: If the folder is not a readable sweep, or holds no finished run.
        DiscoveryError: If an outcome to discover is unknown, or met by no finished run or by
            every one (checked before anything is written).
        MissingExtraError: If discovery is asked for without the ``discover`` extra.
    """
    results = load_results(folder)
    out = Path(out) if out is not None else results.folder / "report"
    runs = results.runs
    if runs.empty:
        raise ResultsError(f"{results.folder}: no run recorded yet; nothing to report")
    if "status" in runs and not (runs["status"] == "done").any():
        raise ResultsError(
            f"{results.folder}: no finished run ({len(runs)} failed: see the error column of "
            f"load_results); nothing to report. Retry them by running the sweep again with "
            "resume=True and retry_failed=True"
        )
    plan = _discovery_plan(results, discover)
    asked = discover is not False
    return _writing(out, lambda: _write_report(results, out, n_boot, plan, asked, seed))


def write_discovery(
    folder: str | Path,
    where: Sequence[str] = (),
    outcomes: Sequence[str] = (),
    out: str | Path | None = None,
    min_coverage: float = 0.5,
    seed: int = 0,
) -> tuple[Path, list[Discovery]]:
    """Scenario discovery on a sweep for conditions and outcomes, written as a small report.

    Writes ``discovery.md`` (the boxes, their stability, CART's leaves, the feature scores),
    ``boxes.csv`` (every box's limits, one row per condition and restricted parameter) and the
    figures, into ``out``.

    Args:
        folder: The sweep's results folder.
        where: Conditions on the run table (``"resolved_step < 90"``).
        outcomes: Outcomes (each the condition ``outcome == "NAME"``); with neither
            ``where`` nor ``outcomes``, every outcome met by at least 5% of the runs.
        out: Where to write (default ``folder/discovery``).
        min_coverage: The least coverage of a chosen box (0 to 1).
        seed: Root seed of the random draws.

    Returns:
        The folder written and the discoveries.

    Raises:
        ResultsError: If the folder is not a readable sweep with finished runs.
        DiscoveryError: If a condition is unreadable, or met by none or every finished run;
            or if there is nothing to look for (checked before anything is written).
        MissingExtraError: Without the ``discover`` extra.
    """
    results = load_results(folder)
    out = Path(out) if out is not None else results.folder / "discovery"
    done = _finished(results)
    conditions = [parse_condition(text).text for text in where]
    if outcomes or not where:
        names = _discovery_plan(results, list(outcomes) or True)
        conditions += [_outcome_condition(o) for o in names]
    if not conditions:
        raise DiscoveryError(
            "no outcome is met by at least 5% of the finished runs (and not by all): name a "
            "condition with where=..."
        )
    for text in conditions:
        _check_split(parse_condition(text).mask(done), text)
    from .discovery import _import_libraries

    _import_libraries()  # fail before writing anything without the extra

    def write() -> tuple[Path, list[Discovery]]:
        figures = _Figures(out)
        found = _discover_all(results, conditions, min_coverage, seed)
        lines = _discovery_markdown(
            found,
            figures,
            _footer_text(results),
            level=1,
            title=f"Scenario discovery: sweep `{results.manifest.get('name')}`",
        )
        _save(out / "boxes.csv", lambda tmp: _boxes_table(found).to_csv(tmp, index=False))
        text = "\n".join(lines) + "\n"
        _save(out / "discovery.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        figures.remove_stale()
        return out, found

    return _writing(out, write)


def _writing(out: Path, write):
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        return write()
    except OSError as exc:
        # Every file is written whole or not at all; a folder this call made is left only if
        # an earlier file of it was written.
        if made:
            try:
                out.rmdir()
            except OSError:
                pass
        raise ResultsError(
            f"{out}: cannot be written ({exc.strerror or exc}); nothing partial was left "
            "(make room and run the report again)"
        ) from None


def _finished(results: SweepResults) -> pd.DataFrame:
    runs = results.runs
    return runs[runs["status"] != "failed"] if "status" in runs else runs


def _outcome_condition(outcome: str) -> str:
    return f'outcome == "{outcome}"'


def _check_split(mask: pd.Series, text: str) -> None:
    k, n = int(mask.sum()), len(mask)
    if k == 0 or k == n:
        which = "none" if k == 0 else "every one"
        raise DiscoveryError(
            f"{text!r} is met by {which} of the {n} finished runs: there is nothing to tell "
            "apart (scenario discovery needs runs on both sides)"
        )


def _discovery_plan(results: SweepResults, discover: bool | Sequence[str | None]) -> list[str]:
    """The outcomes to discover, checked (and the extra imported) before anything is written."""
    if discover is False:
        return []
    wanted: list[str | None] = [None] if discover is True else list(discover)
    done = _finished(results)
    known = list(results.manifest.get("outcomes") or sorted(done["outcome"].dropna().unique()))
    plan: list[str] = []
    for name in wanted:
        if name is not None and name not in known:
            raise DiscoveryError(f"discover={name!r}: not an outcome; allowed: {', '.join(known)}")
        for outcome in frequent_outcomes(done, known) if name is None else [name]:
            if outcome not in plan:
                _check_split(done["outcome"] == outcome, _outcome_condition(outcome))
                plan.append(outcome)
    if plan:
        from .discovery import _import_libraries

        _import_libraries()
    return plan


def _save(path: Path, write) -> None:
    """Write a file atomically: ``write(tmp)`` into a temporary file beside it, then rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


class _Figures:
    """The figures a report writes: each saved whole, and remembered so that it is linked."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.names: list[str] = []

    def save(self, name: str, fig: Any) -> str:
        _save(self.out / name, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
        self.names.append(name)
        return name

    def remove_stale(self) -> None:
        """Remove figures an earlier report left here that this one did not write."""
        for path in self.out.glob("*.png"):
            if path.name.startswith(FIGURE_PREFIXES) and path.name not in self.names:
                path.unlink(missing_ok=True)


def _footer_text(results: SweepResults) -> str:
    m = results.manifest
    return (
        f"{m.get('name')} · {len(results.runs)} runs · sweep {str(m.get('sweep_hash'))[:12]}"
        f" · dualpower_sim {m.get('version')}"
    )


def _write_report(
    results: SweepResults, out: Path, n_boot: int, plan: list[str], asked: bool, seed: int
) -> Path:
    from .plots import plot_outcome_curves, plot_phase_diagram

    runs = results.runs
    manifest = results.manifest
    outcomes = manifest.get("outcomes") or sorted(runs["outcome"].dropna().unique())
    params = [p for p in results.parameters if p in runs and _numeric(runs[p])]
    continuous = manifest.get("design") in CONTINUOUS_DESIGNS
    footer = _footer_text(results)
    table = outcome_table(runs, list(results.parameters), outcomes)
    _save(out / "outcomes.csv", lambda tmp: table.to_csv(tmp, index=False))
    figures = _Figures(out)
    curves: list[tuple[str, str]] = []
    tippings: list[TippingPoint] = []
    reached = set(runs["outcome"].dropna())
    for i, param in enumerate(params):
        marginal = (
            binned_outcome_table(runs, param, outcomes)
            if continuous
            else outcome_table(runs, [param], outcomes)
        )
        found = [
            tipping_point(
                runs,
                param,
                outcome,
                n_boot=n_boot,
                seed=np.random.SeedSequence(seed, spawn_key=(i, j)),
            )
            for j, outcome in enumerate(TIPPING_OUTCOMES)
            if outcome in reached
        ]
        tippings += found
        notes = []
        if continuous:
            notes.append(f"quantile bins of {int(marginal['n'].min())}+ runs")
        if len(params) > 1:
            notes.append("pooled over the other parameters")
        title = f"Outcomes against {param}" + (f" ({', '.join(notes)})" if notes else "")
        fig = plot_outcome_curves(
            marginal, param, found, runs=runs if continuous else None, title=title, footer=footer
        )
        curves.append((figures.save(f"curves_{_slug(param)}.png", fig), title))
    if len(params) >= 2 and manifest.get("design") == "grid":
        x, y = params[:2]
        pair = outcome_table(runs, [x, y], outcomes)
        fig = plot_phase_diagram(pair, x, y, footer=footer)
        name = figures.save(f"phase_{_slug(x)}_{_slug(y)}.png", fig)
        curves.append((name, f"Where dual power resolves: {x} against {y}"))
    text = _markdown(results, table, tippings, curves, continuous) + _sensitivity(results)
    if plan:
        found_boxes = _discover_all(results, [_outcome_condition(o) for o in plan], 0.5, seed)
        lines = _discovery_markdown(found_boxes, figures, footer, level=2)
        text += "\n" + "\n".join(lines) + "\n"
        _save(out / "boxes.csv", lambda tmp: _boxes_table(found_boxes).to_csv(tmp, index=False))
    elif asked:
        text += (
            "\n## Scenario discovery\n\nNo outcome is met by at least 5% of the finished runs "
            "and not by all of them: there is no outcome to tell apart.\n"
        )
    unlinked = [f for f in figures.names if f"]({f})" not in text]
    if unlinked:  # a figure written must be linked (the report of issue 16 lost one)
        raise RuntimeError(f"figures written but not linked in report.md: {unlinked}")
    _save(out / "report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    figures.remove_stale()
    return out


def _discover_all(
    results: SweepResults, conditions: list[str], min_coverage: float, seed: int
) -> list[Discovery]:
    """One discovery per condition, each with its own stream spawned from ``seed``."""
    streams = np.random.SeedSequence(seed, spawn_key=(2**20,)).spawn(len(conditions))
    return [
        discover(results, where=text, min_coverage=min_coverage, seed=stream)
        for text, stream in zip(conditions, streams, strict=True)
    ]


def _condition_slug(text: str) -> str:
    """A file-name part for a condition: outcome names as they are, other text spelt out."""
    match = re.fullmatch(r"""outcome == (["'])(\w+)\1""", text.strip())
    if match:
        return match.group(2)
    words = {"<=": " le ", ">=": " ge ", "!=": " ne ", "==": " eq ", "<": " lt ", ">": " gt "}
    spelt = re.sub(r"<=|>=|!=|==|<|>", lambda m: words[m.group(0)], text)
    slug = re.sub(r"_+", "_", _slug(spelt))[:60].strip("_")
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{slug}_{digest}" if slug else digest


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _boxes_table(found: list[Discovery]) -> pd.DataFrame:
    """Every chosen box: one row per condition and restricted parameter."""
    frames = []
    for d in found:
        box = d.box.reset_index()
        box.insert(0, "condition", d.condition)
        box["coverage"], box["density"], box["mass"] = d.coverage, d.density, d.mass
        frames.append(box)
    columns = [
        "condition",
        "parameter",
        "low",
        "high",
        "range_low",
        "range_high",
        "qp_low",
        "qp_high",
        "coverage",
        "density",
        "mass",
    ]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def _limit_text(row: pd.Series) -> str:
    parts = []
    if not math.isnan(row["qp_low"]):
        parts.append(f"{_fmt(row['low'])} <=")
    parts.append("x")
    if not math.isnan(row["qp_high"]):
        parts.append(f"<= {_fmt(row['high'])}")
    return " ".join(parts)


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _qp(value: float) -> str:
    if math.isnan(value):
        return "-"
    text = "< 0.001" if value < 0.001 else f"{value:.2g}"
    return text if value < ALPHA else f"{text} (not significant)"


def _discovery_markdown(
    found: list[Discovery],
    figures: _Figures,
    footer: str,
    level: int = 2,
    title: str = "Scenario discovery",
) -> list[str]:
    """The Markdown of scenario discovery for several conditions, saving their figures."""
    from .discovery_plots import (
        plot_box_limits,
        plot_box_pairs,
        plot_feature_scores,
        plot_peeling_trajectory,
    )

    h = "#" * level
    lines = [
        f"{h} {title}",
        "",
        "Which combinations of the swept parameters lead to each condition. PRIM (Friedman and "
        "Fisher 1999, as the EMA Workbench implements it for scenario discovery: Bryant and "
        "Lempert 2010) peels the parameter space a slice at a time towards a box where most "
        "runs meet the condition. *Coverage* is the share of the runs meeting the condition "
        "that lie in the box, *density* the share of the runs in the box that meet it (compare "
        "it with the share over all runs). The box shown is the densest on PRIM's trajectory "
        f"that still covers half of the cases, less each restriction whose quasi-p-value "
        f"(a one-sided binomial test of the density it adds) is {ALPHA} or more at both ends. "
        "Its stability: how often PRIM, run again on random halves of the runs, restricts each "
        "parameter in its box of like coverage and density. A CART tree (depth 3) gives a "
        "second view, and extra-trees feature scores say which parameters matter at all.",
        "",
        "These are properties of these runs, at this size, over the ranges sampled: a box "
        "describes where the model's runs ended so, not a law of history; with a few hundred "
        "runs, restrictions with large quasi-p-values or low stability may be chance.",
        "",
    ]
    scores = pd.DataFrame({d.condition: d.scores for d in found})
    name = figures.save("discover_scores.png", plot_feature_scores(scores, footer=footer))
    lines += [
        f"{h}# Feature scores",
        "",
        "| parameter | " + " | ".join(f"`{c}`" for c in scores.columns) + " |",
        "|---" * (len(scores.columns) + 1) + "|",
    ]
    for param, row in scores.loc[scores.max(axis=1).sort_values(ascending=False).index].iterrows():
        lines.append(f"| `{param}` | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    lines += ["", f"![Feature scores of each condition]({name})", ""]
    for d in found:
        slug = _condition_slug(d.condition)
        lines += [
            f"{h}# `{d.condition}`",
            "",
            f"{d.cases} of {d.runs} finished runs meet it ({_pct(d.base_rate)}). The box: "
            f"coverage {d.coverage:.2f}, density {d.density:.2f} "
            f"({d.density / d.base_rate:.1f} times the share over all runs), "
            f"{int(d.trajectory.loc[d.chosen, 'runs'])} runs inside ({_pct(d.mass)} of all).",
            "",
        ]
        if min(d.cases, d.runs - d.cases) < FEW_CASES:
            few = min(d.cases, d.runs - d.cases)
            side = (
                ("run meets it" if few == 1 else "runs meet it")
                if d.cases < d.runs - d.cases
                else ("run does not meet it" if few == 1 else "runs do not meet it")
            )
            lines += [
                f"**Few runs on one side**: only {few} {side}; any box is an anecdote of "
                "these runs.",
                "",
            ]
        box, stability = d.box, d.stability
        significant = [
            p for p, r in box.iterrows() if min(r["qp_low"], r["qp_high"], key=_nan_last) < ALPHA
        ]
        if box.empty:
            lines += ["No box restricts any parameter while covering half of the cases.", ""]
        else:
            if not significant:
                lines += [
                    "**No restriction is significant**: at this number of runs PRIM finds no "
                    "box that this condition is more common in than chance would give. The "
                    "best it found:",
                    "",
                ]
            lines += [
                "| parameter | box | sampled range | quasi-p (lower limit) | quasi-p (upper "
                "limit) | restricted in halves (like coverage / like density) |",
                "|---|---|---|---|---|---|",
            ]
            for param, row in box.iterrows():
                again = (
                    f"{_pct(stability.loc[param, 'at_coverage'])} / "
                    f"{_pct(stability.loc[param, 'at_density'])}"
                    if param in stability.index
                    else "-"
                )
                lines.append(
                    f"| `{param}` | {_limit_text(row)} | {_fmt(row['range_low'])} to "
                    f"{_fmt(row['range_high'])} | {_qp(row['qp_low'])} | {_qp(row['qp_high'])} "
                    f"| {again} |"
                )
            lines.append("")
        others = [
            f"`{p}` {_pct(r['at_coverage'])}"
            for p, r in stability.iterrows()
            if p not in box.index and r["at_coverage"] >= 0.3
        ]
        if others:
            lines += [
                "Other parameters restricted in at least 30% of the halves' boxes (at like "
                f"coverage): {', '.join(others)}.",
                "",
            ]
        lines += [
            "CART's leaves where the condition is most common:",
            "",
            "| leaf | runs | meeting it | density | coverage |",
            "|---|---|---|---|---|",
        ]
        for row in d.tree.head(3).itertuples():
            lines.append(
                f"| {row.rule} | {row.runs} | {row.cases} | {row.density:.2f} | "
                f"{row.coverage:.2f} |"
            )
        lines.append("")
        for kind, what, plot in (
            ("trajectory", "PRIM's peeling trajectory", plot_peeling_trajectory),
            ("box", "The box's limits against the sampled ranges", plot_box_limits),
            ("pairs", "The runs in the box's parameters", plot_box_pairs),
        ):
            name = figures.save(f"discover_{slug}_{kind}.png", plot(d, footer=footer))
            lines += [f"![{what}: {d.condition}]({name})", ""]
    return lines


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def _fmt(value: float) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"
    )


def _tipping_row(t: TippingPoint) -> str:
    slope = f"{t.slope:.3g}"
    if t.verdict == "crossing":
        where, interval = _fmt(t.estimate), f"{_fmt(t.low)} to {_fmt(t.high)}"
    elif t.verdict == "separation":
        where, interval, slope = f"separation: between {_fmt(t.low)} and {_fmt(t.high)}", "-", "-"
    elif t.verdict == "too few runs":
        where, interval, slope = f"too few runs ({t.events} of {t.runs} end so)", "-", "-"
    elif t.verdict == "not located":
        where = "not located"
        interval = f"{_fmt(t.low)} to {_fmt(t.high)} (beyond the runs' range)"
    else:
        where, interval = "not crossed where runs lie", "-"
    return f"| `{t.parameter}` | {t.outcome} | {where} | {interval} | {slope} |"


def _markdown(
    results: SweepResults,
    table: pd.DataFrame,
    tippings: list[TippingPoint],
    figures: list[tuple[str, str]],
    continuous: bool,
) -> str:
    m = results.manifest
    runs = results.runs
    failed = int((runs["status"] == "failed").sum()) if "status" in runs else 0
    lines = [
        f"# Sweep `{m.get('name')}`",
        "",
        m.get("description") or "",
        "",
        f"- experiment: `{m.get('config')}` (config hash `{str(m.get('config_hash'))[:12]}`)",
        f"- design: {m.get('design')}, {m.get('points')} points x {m.get('replicates')} "
        f"replicates = {m.get('runs')} runs; recorded {len(runs)}"
        + (f" ({failed} failed)" if failed else ""),
        f"- parameters: {', '.join(f'`{p}`' for p in results.parameters) or 'none'}",
        f"- root seed {m.get('seed')}; every run's seed is spawned from it by (point, replicate)",
        f"- dualpower_sim {m.get('version')}, git {str(m.get('git_commit'))[:12]}"
        + (" (uncommitted changes)" if m.get("git_dirty") else "")
        + f", Python {m.get('python')}, numpy {m.get('numpy')}, mesa {m.get('mesa')}",
        "",
        "## Outcomes over all runs",
        "",
        "| outcome | runs | probability | 95% interval (Wilson) |",
        "|---|---|---|---|",
    ]
    pooled = outcome_table(runs, [], m.get("outcomes") or sorted(runs["outcome"].dropna().unique()))
    for row in pooled.itertuples():
        lines.append(
            f"| {row.outcome} | {row.k} | {_fmt(row.p)} | {_fmt(row.low)} to {_fmt(row.high)} |"
        )
    if tippings:
        lines += [
            "",
            "## Tipping points",
            "",
            "Where the probability of an outcome crosses 0.5, from a logistic fit over the runs "
            "(pooled over any other parameter), with a 95% bootstrap interval. "
            + TIPPING_RULE.format(min_runs=MIN_RUNS),
            "",
            "| parameter | outcome | tipping point | 95% interval | slope |",
            "|---|---|---|---|---|",
        ]
        lines += [_tipping_row(t) for t in tippings]
    lines += ["", "## Figures", ""]
    if continuous:
        design = DESIGN_NAMES.get(str(m.get("design")), str(m.get("design")))
        lines += [
            f"A {design} gives every run its own parameter values, so each curve "
            "is drawn over quantile bins of the runs (about equal numbers of runs a bin, each "
            "bin at its runs' median, with a 95% Wilson interval); the ticks below the curves "
            "are the runs, coloured by how they ended.",
            "",
        ]
    for name, title in figures:
        lines += [f"![{title}]({name})", ""]
    lines += [
        "The probability of every outcome at every point, with intervals, is in `outcomes.csv`.",
        "",
    ]
    return "\n".join(lines)


#: Outputs whose sensitivity the report computes for a SALib design.
SENSITIVITY_OUTPUTS = ("council_power", "state_restored", "peak_council_power")


def _sensitivity(results: SweepResults) -> str:
    """Markdown tables of Sobol or Morris indices, for a sweep with a SALib design."""
    kind = results.manifest.get("design")
    if kind not in ("saltelli", "morris"):
        return ""
    from .analysis import sensitivity

    try:
        tables = {
            out: sensitivity(results.runs, results.manifest, out) for out in SENSITIVITY_OUTPUTS
        }
    except ImportError:
        return "\n## Sensitivity\n\nInstall the sensitivity extra (SALib) for the indices.\n"
    except ValueError as exc:
        return f"\n## Sensitivity\n\nNot computed: {exc}.\n"
    name = (
        "Sobol indices (first order S1, total ST)"
        if kind == "saltelli"
        else "Morris elementary effects"
    )
    lines = ["", f"## Sensitivity: {name}, with 95% intervals", ""]
    for output, table in tables.items():
        what = f"P({output})" if output != "peak_council_power" else "peak council power"
        lines += [f"### {what}", "", "| parameter | " + " | ".join(table.columns[1:]) + " |"]
        lines.append("|---" * len(table.columns) + "|")
        for row in table.itertuples(index=False):
            lines.append(f"| `{row[0]}` | " + " | ".join(_fmt(float(v)) for v in row[1:]) + " |")
        lines.append("")
    return "\n".join(lines)
