"""How much memory a run will take, and whether the machine has it, before the city is built.

A city's memory is almost all its workers' arrays and its network's ties, so it is estimated as

    BASE_BYTES + n_workers x (BYTES_PER_WORKER + BYTES_PER_TIE x mean degree)

where the mean degree (ties per worker, all layers together) is read from a small pilot city
drawn with the same parameters (local units keep their size as a city grows, so the degree does
not depend on the city's size). The constants are peak resident memory measured on Linux with
Python 3.11 and numpy 2 (building the city and a few steps), and round up what was measured:

====================  =======  ==========  ======================
city                  degree   workers     bytes per worker
====================  =======  ==========  ======================
default               23.1     10^5, 10^6  1,045 and 916
petrograd_1917        24.2     10^5, 10^6  1,031 and 943
el_alto_2003          18.2     10^5        837
Erdos-Renyi           10, 40   10^5        586 and 2,085 (1,915 at 10^6)
complete              -        10^5        174
====================  =======  ==========  ======================

so the estimate is high by at most about a third. It is compared with what the machine has
available (``MemAvailable`` of ``/proc/meminfo``, the cgroup's ``memory.max`` less what it uses,
and ``RLIMIT_AS`` where set), and ``dualpower run`` refuses a run that would not fit (exit 2)
unless told ``--no-memory-check``; ``dualpower sweep`` runs at most as many processes as fit.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Any

__all__ = [
    "MemoryEstimate",
    "available_memory",
    "estimate_memory",
    "human_bytes",
]

#: Interpreter, numpy, scipy, pandas, Mesa and matplotlib, before any city.
BASE_BYTES = 150 * 2**20
#: Per worker: the population's arrays, the counters and the indicators' work arrays.
BYTES_PER_WORKER = 200
#: Per tie of a worker (one entry of the mixed network and its layer): indices, weights and
#: the transposed copy the share tracker keeps.
BYTES_PER_TIE = 48
#: Workers of the pilot city whose mean degree stands for the real one's.
PILOT_WORKERS = 20_000
#: Below this many workers a run is never refused (it needs well under a gigabyte).
SMALL = 100_000


class MemoryEstimate(dict):
    """``bytes`` (peak, one run), ``mean_degree``, ``n_workers``; a dict for easy printing."""

    @property
    def bytes(self) -> int:  # noqa: D102
        return int(self["bytes"])


def estimate_memory(n_workers: int, city: Any = None) -> MemoryEstimate:
    """Estimate the peak memory of one run of ``n_workers`` workers in ``city``.

    Args:
        n_workers: Workers of the city.
        city: Its :class:`~dualpower_sim.city.CityParams` (default: the default city).

    Returns:
        The estimate: ``bytes``, ``mean_degree`` (from a pilot city), ``n_workers``.
    """
    degree = _mean_degree(city, n_workers)
    total = BASE_BYTES + n_workers * (BYTES_PER_WORKER + BYTES_PER_TIE * degree)
    return MemoryEstimate(bytes=int(total), mean_degree=degree, n_workers=n_workers)


def _mean_degree(city: Any, n_workers: int) -> float:
    import numpy as np

    from .city import CityParams, build_city
    from .params import ParameterError

    city = CityParams() if city is None else city
    if city.topology == "complete":
        return 0.0
    if city.topology == "erdos_renyi":
        return float(city.mean_degree)
    for pilot in (min(n_workers, PILOT_WORKERS), min(n_workers, 5 * PILOT_WORKERS)):
        try:
            built = build_city(city, pilot, np.random.default_rng(0))
        except ParameterError:  # too few workers for the firm-size bands: a bigger pilot
            continue
        mix = built.network.mix
        assert mix is not None  # only a complete network has none
        return mix.nnz / max(pilot, 1)
    return 60.0  # a dense city; the real build will say what is wrong with it


def available_memory() -> tuple[int | None, str]:
    """The memory a new run can use, and where that limit comes from.

    Returns:
        ``(bytes, source)``: the smallest of MemAvailable, the cgroup's room and the address
        space limit; ``(None, "")`` if none can be read (not Linux).
    """
    limits: list[tuple[int, str]] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append((int(line.split()[1]) * 1024, "MemAvailable in /proc/meminfo"))
    except (OSError, ValueError, IndexError):
        pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        cap = (cgroup / "memory.max").read_text().strip()
        if cap != "max":
            used = int((cgroup / "memory.current").read_text())
            limits.append((int(cap) - used, "the cgroup's memory.max"))
    except (OSError, ValueError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        limits.append((soft - _virtual_size(), "the address-space limit (ulimit -v)"))
    if not limits:
        return None, ""
    return min(limits)


def _virtual_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def human_bytes(n: float) -> str:
    """``1.5 GB`` and the like (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def processes_that_fit(per_run: int, wanted: int) -> tuple[int, int | None, str]:
    """How many runs of ``per_run`` bytes fit at once (at most ``wanted``, at least 0)."""
    room, source = available_memory()
    if room is None:
        return wanted, None, ""
    extra = max(per_run - BASE_BYTES, 1)  # each process has its own interpreter too
    fit = int(room // max(per_run, extra))
    return max(0, min(wanted, fit)), room, source


def cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
