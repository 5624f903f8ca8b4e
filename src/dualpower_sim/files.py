"""Writing files safely: atomically, and only into folders meant to be written.

A run's folder (:mod:`dualpower_sim.results`) and a sweep's store
(:mod:`dualpower_sim.sweeps.store`) are written with these: a file is written beside its place
under a temporary name and renamed over it, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "atomic_parquet",
    "atomic_text",
    "json_default",
    "read_json",
    "umask",
    "writable_dir",
]


def writable_dir(folder: Path) -> bool:
    """Whether a folder is writable and meant to be (no write bit is read-only, even for root)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(folder, os.W_OK | os.X_OK)


def umask() -> int:
    """The process's file-creation mask (read without changing it for good)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default``: numpy scalars as Python numbers; anything else refused.

    Raises:
        TypeError: For a value that is not a numpy scalar.
    """
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def atomic_text(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` at once: beside it first, synced, then renamed over it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_parquet(path: Path, frame: pd.DataFrame, tmp_prefix: str | None = None) -> None:
    """Write a table to ``path`` as Parquet at once (as :func:`atomic_text`).

    Args:
        path: The file.
        frame: The table (its index is not written).
        tmp_prefix: Start of the temporary file's name (default ``.``), so that a reader can
            tell a writer's temporary files from finished ones.
    """
    # The process id in the name: two processes never write the same temporary file.
    tmp = path.with_name(f"{tmp_prefix or '.'}{path.stem}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object read from ``path``, or None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
