"""Where a result came from: the package's and libraries' versions, the source's commit, the time.

Both a run's ``summary.json`` and a sweep's ``sweep.json`` record these facts; this module is the
one place they are gathered.
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["library_versions", "now", "provenance"]


def now() -> str:
    """The time now in UTC, to the second, as ISO 8601 (``2026-12-02T02:06:15+00:00``)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    """Python's version and those of the libraries a run's numbers depend on.

    Returns:
        ``python``, ``numpy``, ``scipy``, ``pandas``, ``mesa`` and ``numba`` (which compiles
        the rules' kernels) versions.
    """
    import mesa
    import numba
    import numpy
    import pandas
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "mesa": mesa.__version__,
        "numba": numba.__version__,
    }


def provenance() -> dict[str, Any]:
    """The package's version, the libraries' (:func:`library_versions`) and the source's commit.

    Returns:
        ``version``, the library versions, ``git_commit`` (None unless the package runs from a
        git checkout) and ``git_dirty`` (whether tracked files differ from that commit).
    """
    from . import __version__

    info: dict[str, Any] = {
        "version": __version__,
        **library_versions(),
        "git_commit": None,
        "git_dirty": None,
    }
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            status = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=source,
                capture_output=True,
                text=True,
                timeout=10,
            )
            info["git_dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info
