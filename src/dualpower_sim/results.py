"""What a run leaves on disk, and how to read it back.

A run's folder holds ``summary.json`` (outcome, seed, steps, config hash, version...), the
indicators and the event log as CSV tables, the resolved config as TOML, and the figures. A
folder is written whole or not at all: everything goes into a hidden temporary folder beside
it, which is renamed into place at the end, so a crash or Ctrl-C never leaves half a run.

This module never imports the simulator (nor matplotlib: figures arrive as objects to save), so
old results can be read and redrawn without running anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "RUN_FILES",
    "ResultsError",
    "RunRecord",
    "check_out_dir",
    "explain_outcome",
    "load_run",
    "write_run",
]

#: The files of a run's folder, by role.
RUN_FILES = {
    "summary": "summary.json",
    "indicators": "indicators.csv",
    "events": "events.csv",
    "config": "config.toml",
}

#: Keys every ``summary.json`` holds.
SUMMARY_KEYS = ("outcome", "seed", "steps", "config_hash", "version")


class ResultsError(Exception):
    """A results folder cannot be used: the message names the folder or file and the problem."""


@dataclasses.dataclass
class RunRecord:
    """Everything a run leaves behind, in memory.

    Attributes:
        summary: The run's summary (``summary.json``).
        indicators: Per-step indicators, indexed by step.
        events: The event log: ``step``, ``event``, ``magnitude``, ``detail``.
        config_toml: The resolved config, as TOML text.
    """

    summary: dict[str, Any]
    indicators: pd.DataFrame
    events: pd.DataFrame
    config_toml: str


def check_out_dir(out: Path, overwrite: bool = False) -> None:
    """Refuse an output folder that would lose something.

    Args:
        out: The folder a run will be written to.
        overwrite: Replace a folder that holds an earlier run.

    Raises:
        ResultsError: If ``out`` is a file, or a non-empty folder that is not an earlier run
            (never replaced), or an earlier run and ``overwrite`` is false.
    """
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out}: exists and is not a folder")
    _check_writable(out)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / RUN_FILES["summary"]).is_file():
        raise ResultsError(
            f"--out {out}: the folder holds files that are not a dualpower run; "
            "choose another folder (it is never overwritten)"
        )
    if not overwrite:
        raise ResultsError(
            f"--out {out}: the folder already holds a run; pass --overwrite to replace it, "
            "or choose another folder with --out"
        )


def _check_writable(out: Path) -> None:
    """Make sure a folder can be created at ``out`` (before a long run, not after)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=out.parent))
        probe.rmdir()
    except OSError as exc:
        raise ResultsError(
            f"--out {out}: cannot be written ({exc.strerror or exc}"
            + (f": {exc.filename}" if exc.filename else "")
            + ")"
        ) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_run(
    record: RunRecord,
    out: Path,
    figures: Mapping[str, Any] | None = None,
    *,
    overwrite: bool = False,
    figure_format: str = "png",
) -> list[str]:
    """Write a run's folder, atomically.

    Args:
        record: The run.
        out: The folder to create (or replace, with ``overwrite``).
        figures: ``matplotlib`` figures by file stem, saved as ``<stem>.<figure_format>``.
        overwrite: Replace an earlier run in ``out``.
        figure_format: Image format of the figures (``png``, ``pdf``, ``svg``).

    Returns:
        The names of the files written.

    Raises:
        ResultsError: If ``out`` cannot be used (see :func:`check_out_dir`).
    """
    check_out_dir(out, overwrite)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a results folder is not
    except OSError as exc:
        raise ResultsError(f"--out {out}: cannot be written ({exc.strerror or exc})") from None
    try:
        names = _write_files(record, tmp, figures or {}, figure_format)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ResultsError(f"--out {out}: cannot be written ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return names


def _write_files(
    record: RunRecord, folder: Path, figures: Mapping[str, Any], figure_format: str
) -> list[str]:
    summary_text = json.dumps(record.summary, indent=2, default=_json_default) + "\n"
    (folder / RUN_FILES["summary"]).write_text(summary_text, encoding="utf-8")
    record.indicators.to_csv(folder / RUN_FILES["indicators"], index_label="step")
    record.events.to_csv(folder / RUN_FILES["events"], index=False)
    (folder / RUN_FILES["config"]).write_text(record.config_toml, encoding="utf-8")
    names = list(RUN_FILES.values())
    names += save_figures(figures, folder, record.summary, figure_format)
    return names


def save_figures(
    figures: Mapping[str, Any],
    folder: Path,
    summary: Mapping[str, Any],
    figure_format: str = "png",
) -> list[str]:
    """Save figures into a run's folder, with the run's identity in the files' metadata.

    Args:
        figures: ``matplotlib`` figures by file stem.
        folder: The run's folder.
        summary: The run's summary (its name, seed, config hash and version are recorded).
        figure_format: ``png``, ``pdf`` or ``svg``.

    Returns:
        The file names written.
    """
    described = ", ".join(
        f"{key}={summary[key]}" for key in ("name", "seed", "config_hash") if key in summary
    )
    software = f"dualpower_sim {summary.get('version', '')}".strip()
    if figure_format == "png":
        metadata = {"Software": software, "Description": described}
    elif figure_format == "pdf":
        metadata = {"Creator": software, "Subject": described, "CreationDate": None}
    else:
        metadata = {"Creator": software, "Description": described, "Date": None}
    names = []
    for stem, fig in figures.items():
        name = f"{stem}.{figure_format}"
        fig.savefig(folder / name, dpi=120, metadata=metadata)
        names.append(name)
    return names


def load_run(folder: str | Path) -> RunRecord:
    """Read a run's folder.

    Args:
        folder: A folder written by ``dualpower run``.

    Returns:
        The run.

    Raises:
        ResultsError: If the folder or one of its files is missing or unreadable; the message
            names the file.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder (a run's results folder is expected)")
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    paths = {role: folder / name for role, name in RUN_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise ResultsError(
            f"{folder}: not a complete dualpower run (missing {', '.join(missing)}); "
            "runs are written by `dualpower run`"
        )
    try:
        summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{paths['summary']}: not valid JSON ({exc})") from None
    if not isinstance(summary, dict) or any(k not in summary for k in SUMMARY_KEYS):
        raise ResultsError(
            f"{paths['summary']}: not a run summary; it must hold {', '.join(SUMMARY_KEYS)}"
        )
    indicators = _read_csv(paths["indicators"], index_col="step")
    events = _read_csv(paths["events"])
    for name, table, needed in (
        ("indicators", indicators, ("council_power", "state_power", "mobilized")),
        ("events", events, ("step", "event")),
    ):
        absent = [c for c in needed if c not in table.columns]
        if absent:
            raise ResultsError(f"{paths[name]}: missing columns {', '.join(absent)}")
    numeric = indicators.select_dtypes("number").columns
    bad_steps = not events.empty and events["step"].dtype.kind not in "iuf"
    if indicators.empty or len(numeric) < len(indicators.columns) or bad_steps:
        raise ResultsError(
            f"{folder}: the indicators or events table is empty or holds non-numbers; "
            "the folder is damaged (rerun with `dualpower run`)"
        )
    events["detail"] = events.get("detail", pd.Series(dtype=str)).fillna("")
    return RunRecord(summary, indicators, events, paths["config"].read_text(encoding="utf-8"))


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: not a readable table ({e})") from None


def explain_outcome(summary: Mapping[str, Any], indicators: pd.DataFrame) -> str:
    """One sentence on why a run ended as it did, from its summary and indicators.

    Args:
        summary: The run's summary (outcome, thresholds, majority).
        indicators: Its per-step indicators.

    Returns:
        The sentence.
    """
    outcome = summary.get("outcome")
    council_t, state_t = summary.get("thresholds") or (0.2, 0.1)
    majority = summary.get("majority", 0.5)
    peak_council = float(indicators["council_power"].max())
    last = indicators.iloc[-1]
    rev = float(indicators.get("revolutionary_share", pd.Series([0.0])).max())
    if outcome == "no_dual_power":
        if not summary.get("dual_power", True):
            return "the mobilization model alone (dual_power = false) has no councils or outcome"
        if peak_council < council_t:
            return (
                f"the councils never stood as a power (peak council power {peak_council:.2f}, "
                f"below its threshold of {council_t})"
            )
        return (
            f"the councils rose (peak council power {peak_council:.2f}) only after the state's "
            f"power had fallen below its threshold of {state_t}: the model counts no dual power "
            "and has no rule for a state that collapses without being overthrown"
        )
    if outcome == "unresolved":
        state_now = float(last["state_power"])
        no_majority = (
            f"the federation's revolutionary share peaked at {rev:.2f}, short of the "
            f"{majority} majority needed to move to take power"
        )
        if state_now < state_t:
            return (
                f"the state's power fell below its threshold ({state_now:.2f} < {state_t}) but "
                f"{no_majority}"
            )
        if rev <= majority:
            return f"dual power still stood at the horizon; {no_majority}"
        return (
            "dual power still stood at the horizon: the councils had a revolutionary majority "
            "but never enough power over the state to attempt an insurrection"
        )
    if outcome == "council_power":
        return "an insurrection succeeded: the councils took power"
    if outcome == "state_restored":
        return "council power fell below its threshold and stayed there: crushed or melted away"
    if outcome == "co_opted":
        return (
            "the federation sat on with its revolutionaries gone: a reformist body inside the "
            "state order"
        )
    return ""
