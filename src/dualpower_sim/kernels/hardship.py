"""Hardship felt today: each worker's base hardship, plus the shocks reaching them, less relief.

The hardship rule (:class:`dualpower_sim.rules.HardshipShocks`) decides on which days hardship
must be made again (a shock starts or ends, relief moves); :func:`felt_hardship` makes it in one
pass over the workers.
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["felt_hardship"]


@jit
def _clipped(x: float) -> float:
    """``x`` clipped to [0, 1] by np.clip's rule: a value equal to a bound is kept as it is.

    Args:
        x: A hardship.

    Returns:
        ``x`` in [0, 1] (a zero keeps its sign, as np.clip leaves it).
    """
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@jit
def felt_hardship(
    base: np.ndarray,
    sector: np.ndarray,
    n_sectors: int,
    relief: float,
    magnitudes: np.ndarray,
    sectors: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each worker's hardship: ``base - relief + the shocks reaching them``, clipped to [0, 1].

    The shocks are added one after another in their order, so a worker's sum is the one numpy
    formed shock by shock; it depends only on the worker's sector, so it is formed once per
    sector (once for all when every shock hits everyone).

    Args:
        base: Each worker's base hardship (a trait) in [0, 1].
        sector: Each worker's sector code, below ``n_sectors``.
        n_sectors: Number of sectors.
        relief: Hardship removed from every worker by the state's concessions.
        magnitudes: Change in hardship of each active shock, in [-1, 1].
        sectors: Sector code each active shock hits, or -1 for a shock that hits every worker.
        out: Each worker's hardship today (written).
    """
    if np.all(sectors < 0):
        # The common case: one offset for all, a loop the compiler vectorises (a gather of a
        # sector's offset per worker is several times slower).
        total = -relief
        for k in range(magnitudes.size):
            total += magnitudes[k]
        for i in range(base.size):
            out[i] = _clipped(base[i] + total)
        return
    offset = np.empty(n_sectors)
    for code in range(n_sectors):
        total = -relief
        for k in range(magnitudes.size):
            if sectors[k] < 0 or sectors[k] == code:
                total += magnitudes[k]
        offset[code] = total
    for i in range(base.size):
        out[i] = _clipped(base[i] + offset[sector[i]])
