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
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .files import json_default, umask, writable_dir

__all__ = [
    "RUN_FILES",
    "ResultsError",
    "RunRecord",
    "check_out_dir",
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
        raise ResultsError(f"out={out}: exists and is not a folder")
    _check_writable(out)
    if out.is_dir() and not writable_dir(out):
        # Renaming a new folder over it would work (the parent is writable) and lose its mode.
        raise ResultsError(
            f"out={out}: the folder is not writable (read-only); it is never replaced: "
            "choose another folder with out=..."
        )
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / RUN_FILES["summary"]).is_file():
        raise ResultsError(
            f"out={out}: the folder holds files that are not a dualpower run; "
            "choose another folder (it is never overwritten)"
        )
    if not overwrite:
        raise ResultsError(
            f"out={out}: the folder already holds a run; pass overwrite=True to replace it, "
            "or choose another folder with out=..."
        )


def claim_out_dir(out: Path) -> Any:
    """Claim ``out`` for one run until its folder is written (a lock file beside it).

    A second run to the same folder is refused with one line naming the first (its process,
    host and start time). Once claimed, what a killed run left beside the folder (its hidden
    ``.NAME.partial-*`` folder) is deleted: only the claim's holder writes there.

    Args:
        out: The run's folder.

    Returns:
        The claim (a :class:`~dualpower_sim.locking.Claim`); call its ``release()`` when done.

    Raises:
        ResultsError: If another live process holds the claim, or the lock cannot be written.
    """
    from .locking import Claim, ClaimError

    if out.exists() and not out.is_dir():
        raise ResultsError(f"out={out}: exists and is not a folder")
    _check_name_length(out)
    _check_writable(out)
    claim = Claim(out.parent / f".{out.name}.lock", f"out={out}", remove=True)
    try:
        claim.acquire()
    except ClaimError as exc:
        raise ResultsError(str(exc)) from None
    except OSError as exc:
        raise ResultsError(f"out={out}: cannot be written ({exc.strerror or exc})") from None
    for pattern in (".partial-*", ".old-*", ".probe-*"):
        for leftover in out.parent.glob(f".{glob.escape(out.name)}{pattern}"):
            shutil.rmtree(leftover, ignore_errors=True)
    return claim


def _check_name_length(out: Path) -> None:
    if len(os.fsencode(out.name)) > 200:  # room for the hidden .partial- and .lock names
        raise ResultsError(f"out={out}: the folder's name is too long (at most 200 bytes)")


def _check_writable(out: Path) -> None:
    """Make sure a folder can be created at ``out`` (before a long run, not after)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=out.parent))
        probe.rmdir()
    except OSError as exc:
        raise ResultsError(
            f"out={out}: cannot be written ({exc.strerror or exc}"
            + (f": {exc.filename}" if exc.filename else "")
            + ")"
        ) from None


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
        tmp.chmod(0o777 & ~umask())  # mkdtemp makes it private; a results folder is not
    except OSError as exc:
        raise ResultsError(f"out={out}: cannot be written ({exc.strerror or exc})") from None
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
        raise ResultsError(f"out={out}: cannot be written ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return names


def _write_files(
    record: RunRecord, folder: Path, figures: Mapping[str, Any], figure_format: str
) -> list[str]:
    summary_text = json.dumps(record.summary, indent=2, default=json_default) + "\n"
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
    metadata: dict[str, str | None]
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
    for key, kinds, allowed in (
        ("outcome", str, "text (an outcome's name)"),
        ("seed", int, "a whole number"),
        ("steps", int, "a whole number"),
        ("config_hash", str, "text"),
        ("version", str, "text"),
    ):
        value = summary[key]
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise ResultsError(
                f"{paths['summary']}: {key} = {value!r} is not allowed; allowed: {allowed} "
                "(the folder is damaged: rerun with `dualpower run`)"
            )
    for role in ("indicators", "events"):
        try:
            with open(paths[role], "rb") as f:
                size = f.seek(0, os.SEEK_END)
                if size:
                    f.seek(-1, os.SEEK_END)
                whole = size == 0 or f.read(1) == b"\n"
        except OSError as exc:
            raise ResultsError(f"{paths[role]}: cannot be read ({exc.strerror})") from None
        if not whole:
            raise ResultsError(
                f"{paths[role]}: cut short (its last line is incomplete); the folder is "
                "damaged: rerun with `dualpower run`"
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
    if len(indicators) != summary["steps"] + 1:
        raise ResultsError(
            f"{paths['indicators']}: {len(indicators)} rows, but the run took "
            f"{summary['steps']} steps ({summary['steps'] + 1} rows); the folder is damaged: "
            "rerun with `dualpower run`"
        )
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
