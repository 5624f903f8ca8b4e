"""The sweep store: a folder of Parquet parts, written atomically, resumable.

A sweep's folder holds its manifest (``sweep.json``), the sweep file as given, the resolved
config, the design (every run with its seed), the finished runs in Parquet parts, and an
append-only status log. This module never imports the simulator: a sweep's results can be read
and analysed without running anything.
"""

from __future__ import annotations

import dataclasses
import glob
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

from ..files import (
    atomic_parquet,
    atomic_text,
    json_default,
    read_json,
    umask,
    writable_dir,
)
from ..provenance import now
from ..results import ResultsError

__all__ = [
    "SWEEP_FILES",
    "SWEEP_FORMAT",
    "SweepResults",
    "SweepStore",
    "load_results",
    "read_manifest",
    "release",
]

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
                f"{self.folder}: already exists and is not empty; pass resume=True to finish "
                "the sweep recorded there, or choose another folder"
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
            staging.chmod(0o777 & ~umask())
            (staging / SWEEP_FILES["parts"]).mkdir()
            atomic_text(staging / SWEEP_FILES["spec"], spec_text)
            atomic_text(staging / SWEEP_FILES["config"], config_text)
            atomic_parquet(staging / SWEEP_FILES["design"], design)
            text = json.dumps(dict(manifest), indent=2, default=json_default) + "\n"
            atomic_text(staging / SWEEP_FILES["manifest"], text)
        except OSError as exc:
            raise ResultsError(
                f"{self.folder}: cannot be written ({exc.strerror or exc})"
            ) from None
        try:
            os.rename(staging, self.folder)  # replaces an empty folder; fails on a full one
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise ResultsError(
                f"{self.folder}: was created by another process meanwhile; pass resume=True"
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
                "it is never overwritten: choose another folder"
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
        from ..locking import Claim, ClaimError, describe

        if not writable_dir(self.folder) or not writable_dir(self.parts):
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
                        info = read_json(path)
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
        from ..locking import pid_alive

        candidates = [
            *self.parts.glob(".part-*.tmp"),
            *self.folder.glob(".*.tmp"),
            *self.folder.glob(".*.tmp-*"),
            *self.folder.parent.glob(f".{glob.escape(self.folder.name)}.creating-*"),
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
            atomic_parquet(self.folder / SWEEP_FILES["design"], design)
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
            atomic_parquet(self.parts / name, _typed(pd.DataFrame(rows)), tmp_prefix=".part-")
        except OSError as exc:
            raise ResultsError(f"{self.parts}: cannot be written ({exc.strerror or exc})") from None
        failed = sum(r.get("status") == "failed" for r in rows)
        self.log("part", file=name, runs=len(rows), failed=failed)

    def log(self, event: str, **fields: Any) -> None:
        """Append one line to the status log (JSON: time, event, fields)."""
        line = json.dumps({"time": now(), "event": event, **fields}, default=json_default)
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
                "then rerun with resume=True"
            ) from None


def release(claims: list[Any]) -> None:
    """Release claims taken by :meth:`SweepStore.claim` (last taken, first released)."""
    for claim in reversed(claims):
        claim.release()
    claims.clear()


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
                "delete it and rerun the sweep with resume=True, which runs its runs again"
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
