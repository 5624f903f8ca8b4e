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
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .provenance import now

__all__ = [
    "RUN_FILES",
    "SWEEP_FILES",
    "ResultsError",
    "RunRecord",
    "SweepResults",
    "SweepStore",
    "check_out_dir",
    "load_results",
    "load_run",
    "read_manifest",
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
    if out.is_dir() and not _writable_dir(out):
        # Renaming a new folder over it would work (the parent is writable) and lose its mode.
        raise ResultsError(
            f"--out {out}: the folder is not writable (read-only); it is never replaced: "
            "choose another folder with --out"
        )
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


def _writable_dir(folder: Path) -> bool:
    """Whether a folder is writable and meant to be (no write bit is read-only, even for root)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(folder, os.W_OK | os.X_OK)


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
        raise ResultsError(f"--out {out}: exists and is not a folder")
    _check_name_length(out)
    _check_writable(out)
    claim = Claim(out.parent / f".{out.name}.lock", f"--out {out}", remove=True)
    try:
        claim.acquire()
    except ClaimError as exc:
        raise ResultsError(str(exc)) from None
    except OSError as exc:
        raise ResultsError(f"--out {out}: cannot be written ({exc.strerror or exc})") from None
    for pattern in (".partial-*", ".old-*", ".probe-*"):
        for leftover in out.parent.glob(f".{_glob_escape(out.name)}{pattern}"):
            shutil.rmtree(leftover, ignore_errors=True)
    return claim


def _glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)


def _check_name_length(out: Path) -> None:
    if len(os.fsencode(out.name)) > 200:  # room for the hidden .partial- and .lock names
        raise ResultsError(f"--out {out}: the folder's name is too long (at most 200 bytes)")


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


# --------------------------------------------------------------------------------------------
# The sweep store: a folder of Parquet parts, written atomically, resumable
# --------------------------------------------------------------------------------------------

#: Version of the sweep folder's layout (``sweep.json``'s ``format``).
SWEEP_FORMAT = 1

#: A sweep folder's files: the manifest, the sweep file as given, the resolved config, the
#: runs of the design (with seeds), the finished runs' parts, and the status log.
SWEEP_FILES = {
    "manifest": "sweep.json",
    "spec": "sweep.toml",
    "config": "config.toml",
    "design": "design.parquet",
    "parts": "runs",
    "log": "status.log",
}


@dataclasses.dataclass
class SweepResults:
    """A sweep's results, as pandas tables.

    Attributes:
        runs: One row per recorded run: the design's columns (``run``, ``point``,
            ``replicate``, ``seed``, the parameters) and the run's summary (``status``,
            ``outcome``, ``steps``, peaks, kept indicators, ``error`` for a failed run).
        design: Every run of the design, recorded or not.
        manifest: Provenance and the sweep's description (``sweep.json``).
        folder: Where the results are.
    """

    runs: pd.DataFrame
    design: pd.DataFrame
    manifest: dict[str, Any]
    folder: Path

    @property
    def parameters(self) -> list[str]:
        """The swept parameters (dotted config keys)."""
        return list(self.manifest.get("parameters", []))

    @property
    def missing(self) -> pd.DataFrame:
        """Runs of the design not recorded yet."""
        return self.design[~self.design["run"].isin(self.runs["run"])]


class SweepStore:
    """A sweep's folder: create it, append finished runs in atomic parts, resume it.

    Every batch of finished runs is written to ``runs/.part-*.tmp`` and renamed to
    ``runs/part-*.parquet`` (an atomic rename), then noted in the append-only ``status.log``.
    A kill at any moment leaves whole parts only. A process that writes takes a claim on the
    folder first (:meth:`claim`: exclusive for a whole sweep, shared between shards, exclusive
    per shard), so two copies of one sweep never run at once; once it holds the claim it
    deletes the temporary files that dead processes left (all of them when its claim is
    exclusive, those whose process has gone when shards run beside it). A resumed sweep reads
    the parts and skips every recorded run.

    Args:
        folder: The sweep's folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / SWEEP_FILES["parts"]
        self._counter = 0
        self._tag = f"{os.getpid()}"

    # -- creating and opening -----------------------------------------------------------------

    def create(
        self,
        manifest: Mapping[str, Any],
        spec_text: str,
        config_text: str,
        design: pd.DataFrame,
    ) -> None:
        """Create the folder (refusing one that exists and is not empty).

        Args:
            manifest: Provenance and the sweep's identity (written to ``sweep.json``).
            spec_text: The sweep file as given.
            config_text: The resolved config of the experiment swept.
            design: Every run (``run``, ``point``, ``replicate``, ``seed``, parameters).

        Raises:
            ResultsError: If the folder exists and is not empty, or cannot be written.
        """
        if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise ResultsError(
                f"{self.folder}: already exists and is not empty; pass --resume to finish the "
                "sweep recorded there, or choose another folder with --out"
            )
        # Everything is written into a hidden folder beside it, then renamed into place: a
        # crash while creating leaves no half-made sweep folder, and of shards starting at once
        # exactly one creates it (the others find it whole and open it).
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.folder.name}.creating-{os.getpid()}-", dir=self.folder.parent
                )
            )
            staging.chmod(0o777 & ~_umask())
            (staging / SWEEP_FILES["parts"]).mkdir()
            _atomic_text(staging / SWEEP_FILES["spec"], spec_text)
            _atomic_text(staging / SWEEP_FILES["config"], config_text)
            _atomic_parquet(staging / SWEEP_FILES["design"], design)
            text = json.dumps(dict(manifest), indent=2, default=_json_default) + "\n"
            _atomic_text(staging / SWEEP_FILES["manifest"], text)
        except OSError as exc:
            raise ResultsError(
                f"{self.folder}: cannot be written ({exc.strerror or exc})"
            ) from None
        try:
            os.rename(staging, self.folder)  # replaces an empty folder; fails on a full one
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise ResultsError(
                f"{self.folder}: was created by another process meanwhile; pass --resume"
            ) from None
        self.log("created", runs=len(design))

    def open(self, sweep_hash: str) -> dict[str, Any]:
        """Open an existing sweep folder to resume it.

        Args:
            sweep_hash: The hash of the sweep about to run; it must be the recorded one.

        Returns:
            The manifest.

        Raises:
            ResultsError: If the folder is missing, foreign, damaged or holds another sweep.
        """
        manifest = read_manifest(self.folder)
        if manifest.get("sweep_hash") != sweep_hash:
            raise ResultsError(
                f"{self.folder}: holds a different sweep (its sweep_hash "
                f"{str(manifest.get('sweep_hash'))[:12]} is not this one's {sweep_hash[:12]}); "
                "it is never overwritten: choose another folder with --out"
            )
        return manifest

    def claim(self, shard: tuple[int, int] | None = None) -> list[Any]:
        """Claim the folder for writing, then clear what killed writers left behind.

        Args:
            shard: ``(i, N)`` to claim one shard (shards of the sweep run side by side);
                None claims the whole sweep.

        Returns:
            The claims held (release them with :func:`release`).

        Raises:
            ResultsError: If a live process holds a conflicting claim (the message names it),
                or the folder cannot be written (read-only, full).
        """
        from .locking import Claim, ClaimError, describe

        if not _writable_dir(self.folder) or not _writable_dir(self.parts):
            raise ResultsError(
                f"{self.folder}: the sweep folder is read-only; copy it somewhere writable "
                "and resume there (its results can be read as they are)"
            )
        what = f"sweep folder {self.folder}"
        claims: list[Any] = []
        try:
            claims.append(Claim(self.folder / ".lock", what, shared=shard is not None).acquire())
            if shard is not None:
                i, n = shard
                path = self.folder / f".lock-shard-{i}-of-{n}"
                claims.append(Claim(path, f"{what} (shard {i}/{n})").acquire())
        except ClaimError as exc:
            release(claims)
            if shard is None:  # name a running shard, if that is what holds it
                for path in sorted(self.folder.glob(".lock-shard-*")):
                    probe = Claim(path, what)
                    try:
                        probe.acquire()
                        probe.release()
                    except (ClaimError, OSError):
                        info = _read_json(path)
                        raise ResultsError(
                            f"{what}: in use by {describe(info)} (a shard: "
                            f"{path.name[len('.lock-shard-') :].replace('-of-', '/')}); wait "
                            "for the shards to finish"
                        ) from None
            raise ResultsError(str(exc)) from None
        except OSError as exc:
            release(claims)
            raise ResultsError(f"{what}: cannot be written ({exc.strerror or exc})") from None
        self._clear_leftovers(everything=shard is None)
        return claims

    def _clear_leftovers(self, everything: bool) -> None:
        """Delete temporary files of writers that are gone (all of them, with ``everything``)."""
        from .locking import pid_alive

        candidates = [
            *self.parts.glob(".part-*.tmp"),
            *self.folder.glob(".*.tmp"),
            *self.folder.glob(".*.tmp-*"),
            *self.folder.parent.glob(f".{_glob_escape(self.folder.name)}.creating-*"),
        ]
        for leftover in candidates:
            # The writer's process id: .x.PID.tmp, .x.tmp-PID, .NAME.creating-PID-xxxx
            found = re.search(r"\.(\d+)\.tmp$|\.tmp-(\d+)$|\.creating-(\d+)-", leftover.name)
            pid = next((int(g) for g in found.groups() if g), None) if found else None
            gone = pid is None or not pid_alive(pid)
            if everything and ".creating-" not in leftover.name:
                gone = True  # under an exclusive claim no one else writes inside the folder
            if not gone:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                try:
                    leftover.unlink()
                except OSError:
                    pass

    def design(self) -> pd.DataFrame:
        """The recorded design (the sweep's runs, and any added by refinement)."""
        try:
            return pd.read_parquet(self.folder / SWEEP_FILES["design"])
        except Exception as exc:  # pyarrow raises several kinds on a damaged file
            raise ResultsError(
                f"{self.folder / SWEEP_FILES['design']}: not readable ({exc})"
            ) from None

    # -- writing ------------------------------------------------------------------------------

    def replace_design(self, design: pd.DataFrame) -> None:
        """Write the design anew (atomically), e.g. with runs added by refinement."""
        try:
            _atomic_parquet(self.folder / SWEEP_FILES["design"], design)
        except OSError as exc:
            raise ResultsError(
                f"{self.folder}: cannot be written ({exc.strerror or exc})"
            ) from None

    def recorded(self, failed: bool = True) -> set[int]:
        """Ids of the runs already recorded: done or failed, or done only (``failed=False``)."""
        parts = _read_parts(self.parts, columns=["run", "status"])
        if not failed and "status" in parts:
            parts = parts[parts["status"] != "failed"]
        return set(int(r) for r in parts["run"])

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Record a batch of finished runs as one new part (atomic)."""
        if not rows:
            return
        self._counter += 1
        name = f"part-{self._tag}-{time.time_ns()}-{self._counter:06d}.parquet"
        try:
            _atomic_parquet(self.parts / name, _typed(pd.DataFrame(rows)), tmp_prefix=".part-")
        except OSError as exc:
            raise ResultsError(f"{self.parts}: cannot be written ({exc.strerror or exc})") from None
        failed = sum(r.get("status") == "failed" for r in rows)
        self.log("part", file=name, runs=len(rows), failed=failed)

    def log(self, event: str, **fields: Any) -> None:
        """Append one line to the status log (JSON: time, event, fields)."""
        line = json.dumps({"time": now(), "event": event, **fields}, default=_json_default)
        path = self.folder / SWEEP_FILES["log"]
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise ResultsError(
                f"{path}: cannot be written ({exc.strerror or exc}); every run recorded in "
                f"{SWEEP_FILES['parts']}/ is kept: make room or fix the file's permissions, "
                "then rerun with --resume"
            ) from None


def release(claims: list[Any]) -> None:
    """Release claims taken by :meth:`SweepStore.claim` (last taken, first released)."""
    for claim in reversed(claims):
        claim.release()
    claims.clear()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


#: Column types of a run's row, the same in every part whatever its runs hold (a part of
#: failed runs only, or of runs that never saw dual power, has all-missing columns).
_INTEGER_COLUMNS = (
    "run",
    "point",
    "replicate",
    "steps",
    "resolved_step",
    "dual_power_began",
    "dual_power_ended",
    "offensives",
    "regime_changed",
)
_TEXT_COLUMNS = ("status", "outcome", "error")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if column in _INTEGER_COLUMNS:
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        elif column in _TEXT_COLUMNS:
            frame[column] = frame[column].astype("string")
        elif column != "seed":
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
    if "seed" in frame:
        frame["seed"] = frame["seed"].astype("uint64")
    return frame


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _atomic_parquet(path: Path, frame: pd.DataFrame, tmp_prefix: str | None = None) -> None:
    # The process id in the name: two processes never write the same temporary file.
    tmp = path.with_name(f"{tmp_prefix or '.'}{path.stem}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_parts(parts: Path, columns: list[str] | None = None) -> pd.DataFrame:
    files = sorted(parts.glob("part-*.parquet"))
    if not files:
        return pd.DataFrame({"run": pd.Series(dtype="int64")})
    frames = []
    for file in files:
        try:
            frames.append(pd.read_parquet(file, columns=columns))
        except Exception as exc:  # pyarrow raises several kinds on a damaged file
            raise ResultsError(
                f"{file}: not a readable Parquet part ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}); it was cut short or damaged: "
                "delete it and rerun the sweep with --resume, which runs its runs again"
            ) from None
    return pd.concat(frames, ignore_index=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check a sweep folder's manifest.

    Args:
        folder: A sweep folder.

    Returns:
        The manifest.

    Raises:
        ResultsError: If the folder is missing, is not a sweep folder, or is damaged.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultsError(
            f"{folder}: a file, not a sweep folder (give the folder a sweep wrote, "
            "e.g. sweeps/NAME)"
        )
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    path = folder / SWEEP_FILES["manifest"]
    if not path.is_file():
        raise ResultsError(
            f"{folder}: not a sweep folder (no {SWEEP_FILES['manifest']}); sweep folders are "
            "written by `dualpower sweep`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SWEEP_FORMAT:
        raise ResultsError(
            f"{path}: not a sweep manifest of format {SWEEP_FORMAT} "
            f"(format = {manifest.get('format') if isinstance(manifest, dict) else None!r})"
        )
    for name in ("design", "parts"):
        if not (folder / SWEEP_FILES[name]).exists():
            raise ResultsError(f"{folder}: damaged sweep folder (missing {SWEEP_FILES[name]})")
    return manifest


def load_results(folder: str | Path) -> SweepResults:
    """Read a sweep's results (finished or not) as pandas tables.

    Args:
        folder: A folder written by ``dualpower sweep``.

    Returns:
        The results: recorded runs joined with the design, the whole design, the manifest.

    Raises:
        ResultsError: If the folder is not a readable sweep folder.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    try:
        design = pd.read_parquet(folder / SWEEP_FILES["design"])
    except Exception as exc:  # pyarrow raises several kinds on a damaged file
        raise ResultsError(f"{folder / SWEEP_FILES['design']}: not readable ({exc})") from None
    parts = _read_parts(folder / SWEEP_FILES["parts"])
    if parts.empty:
        runs = design.iloc[0:0].copy()
    else:
        # A run recorded twice (a part written, then the sweep killed before it knew) keeps
        # its first record: runs are deterministic, so the records are the same.
        # A failed run retried (--retry-failed) keeps its successful record.
        if "status" in parts:
            order = (parts["status"] == "failed").astype(int)
            parts = parts.iloc[order.argsort(kind="stable")]
        parts = parts.drop_duplicates("run", keep="first").sort_index()
        extra = [c for c in parts.columns if c not in design.columns or c == "run"]
        runs = design.merge(parts[extra], on="run", how="inner")
    return SweepResults(runs=runs, design=design, manifest=manifest, folder=folder)
