"""A sweep's report: outcome tables, tipping points, figures and a Markdown summary.

``dualpower report DIR`` writes ``DIR/report/``: ``report.md`` (paste it into a paper),
``outcomes.csv`` (the probability of every outcome at every point, with intervals), and the
figures: outcome curves against each swept parameter (with the tipping points) and, for two or
more parameters on a grid, phase diagrams of the first two. Never imports the simulator.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from .analysis import TippingPoint, outcome_table, tipping_point
from .results import ResultsError, SweepResults, load_results

__all__ = ["write_report"]

#: Outcomes whose tipping points the report looks for.
TIPPING_OUTCOMES = ("council_power", "state_restored", "co_opted")


def write_report(folder: str | Path, out: str | Path | None = None, n_boot: int = 300) -> Path:
    """Analyse a sweep folder and write its report.

    Args:
        folder: The sweep's results folder.
        out: Where to write (default ``folder/report``).
        n_boot: Bootstrap resamples per tipping point.

    Returns:
        The report folder.

    Raises:
        ResultsError: If the folder is not a readable sweep, or holds no finished run.
    """
    results = load_results(folder)
    out = Path(out) if out is not None else results.folder / "report"
    runs = results.runs
    if runs.empty:
        raise ResultsError(f"{results.folder}: no run recorded yet; nothing to report")
    if "status" in runs and not (runs["status"] == "done").any():
        raise ResultsError(
            f"{results.folder}: no finished run ({len(runs)} failed: see the error column of "
            f"load_results); nothing to report. Retry them with `dualpower sweep FILE --resume "
            "--retry-failed --out DIR`"
        )
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _write_report(results, out, n_boot)
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


def _write_report(results: SweepResults, out: Path, n_boot: int) -> Path:
    from .plots import plot_outcome_curves, plot_phase_diagram

    runs = results.runs
    manifest = results.manifest
    outcomes = manifest.get("outcomes") or sorted(runs["outcome"].dropna().unique())
    params = [p for p in results.parameters if p in runs and _numeric(runs[p])]
    footer = (
        f"{manifest.get('name')} · {len(runs)} runs · sweep {str(manifest.get('sweep_hash'))[:12]}"
        f" · dualpower_sim {manifest.get('version')}"
    )
    table = outcome_table(runs, list(results.parameters), outcomes)
    _save(out / "outcomes.csv", lambda tmp: table.to_csv(tmp, index=False))
    figures: list[str] = []
    tippings: list[TippingPoint] = []
    for param in params:
        marginal = outcome_table(runs, [param], outcomes)
        found = [
            tipping_point(runs, param, outcome, n_boot=n_boot)
            for outcome in TIPPING_OUTCOMES
            if outcome in set(runs["outcome"])
        ]
        tippings += found
        others = len(params) > 1
        title = f"Outcomes against {param}" + (
            " (pooled over the other parameters)" if others else ""
        )
        fig = plot_outcome_curves(marginal, param, found, title=title, footer=footer)
        name = f"curves_{_slug(param)}.png"
        _save(out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
        figures.append(name)
    if len(params) >= 2 and manifest.get("design") == "grid":
        x, y = params[:2]
        pair = outcome_table(runs, [x, y], outcomes)
        fig = plot_phase_diagram(pair, x, y, footer=footer)
        name = f"phase_{_slug(x)}_{_slug(y)}.png"
        _save(out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
        figures.append(name)
    sensitivity_tables = _sensitivity(results)
    text = _markdown(results, table, tippings, figures) + sensitivity_tables
    _save(out / "report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return out


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def _fmt(value: float) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"
    )


def _markdown(
    results: SweepResults, table: pd.DataFrame, tippings: list[TippingPoint], figures: list[str]
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
            "(pooled over any other parameter), with a 95% bootstrap interval over replicates.",
            "",
            "| parameter | outcome | tipping point | 95% interval | slope |",
            "|---|---|---|---|---|",
        ]
        for t in tippings:
            where = _fmt(t.estimate) if t.found else "not crossed in the swept range"
            interval = f"{_fmt(t.low)} to {_fmt(t.high)}" if t.found else "-"
            lines.append(
                f"| `{t.parameter}` | {t.outcome} | {where} | {interval} | {t.slope:.3g} |"
            )
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in figures]
    lines += [
        "",
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
