"""Kernels of policing: releases from jail, the officers' arrests, and jail terms.

A day of policing draws three batches of uniforms in the rule (one per officer on duty, one per
mobilized worker when some officer makes an arrest, one per arrested worker), and between them
these kernels do the rest: release today's cohort, count the mobilized per neighbourhood and the
arrests the officers can make, thin the mobilized, and hand out the terms. The mobilized counts
are the world's :class:`~dualpower_sim.world.MaskCounter`'s, kept up to date as workers are
arrested.
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["arrest", "forces", "jail", "plan_arrests", "release"]

PASSIVE, MOBILIZED, JAILED = 0, 1, 2


@jit
def forces(
    coercion: np.ndarray,
    residents: np.ndarray,
    barracks: np.ndarray,
    defected: np.ndarray,
    outside: np.ndarray,
    count_outside: bool,
    deployed: float,
) -> np.ndarray:
    """The state's forces in each neighbourhood: officers, and the loyal soldiers sent out.

    Officers are the police density times the residents, rounded; a share ``deployed`` of the
    loyal soldiers quartered in a neighbourhood join them, rounded (pass no soldiers, or a zero
    share, for the officers alone).

    Args:
        coercion: Police per resident in each neighbourhood.
        residents: Residents of each neighbourhood (count).
        barracks: Each soldier's neighbourhood.
        defected: Whether each soldier has gone over to the councils (bool).
        outside: Whether each soldier stands outside the city (bool).
        count_outside: Whether soldiers outside the city count (on an offensive).
        deployed: Share of the loyal soldiers sent into the streets.

    Returns:
        Forces per neighbourhood (whole numbers, float64).
    """
    out = np.empty(residents.size)
    for j in range(residents.size):
        out[j] = np.rint(coercion[j] * residents[j])
    if barracks.size and deployed > 0:
        loyal = np.zeros(residents.size)
        for i in range(barracks.size):
            if not defected[i] and (count_outside or not outside[i]):
                loyal[barracks[i]] += 1.0
        for j in range(residents.size):
            out[j] += np.rint(deployed * loyal[j])
    return out


@jit
def release(status: np.ndarray, jail_release: np.ndarray, step: int) -> None:
    """Send home (passive) the jailed workers whose term ends on ``step``.

    Args:
        status: Each worker's ``Status`` code (int8); updated in place.
        jail_release: Each worker's release day (step; meaningless unless jailed).
        step: Today.
    """
    for i in range(status.size):
        if jail_release[i] == step and status[i] == JAILED:
            status[i] = PASSIVE


@jit
def _recount(
    status: np.ndarray, neighbourhood: np.ndarray, counts: np.ndarray, count_marked: np.ndarray
) -> None:
    """Bring the mobilized counts up to date with the statuses (a MaskCounter's state)."""
    for i in range(status.size):
        m = status[i] == MOBILIZED
        if m != count_marked[i]:
            count_marked[i] = m
            counts[neighbourhood[i]] += 1.0 if m else -1.0


@jit
def plan_arrests(
    status: np.ndarray,
    jail_release: np.ndarray,
    step: int,
    releasing: bool,
    neighbourhood: np.ndarray,
    counts: np.ndarray,
    count_marked: np.ndarray,
    officers: np.ndarray,
    u: np.ndarray,
    arrest_rate: float,
    take: np.ndarray,
) -> int:
    """Releases, today's mobilized per neighbourhood, and the share of them the police take.

    Officer by officer, neighbourhood after neighbourhood, an officer makes an arrest when their
    uniform falls below ``arrest_rate``; a neighbourhood's ``A`` mobilized lose ``min(arrests,
    A)`` of them on average, each taken with probability ``min(arrests, A) / A``.

    Args:
        status: Each worker's ``Status`` code (int8); today's cohort released in place.
        jail_release: Each worker's release day (step).
        step: Today.
        releasing: Whether some term may end today (else the release check is skipped).
        neighbourhood: Each worker's neighbourhood id (the MaskCounter's groups).
        counts: Mobilized residents per neighbourhood (float64, the MaskCounter's); brought up
            to date with the statuses.
        count_marked: The mobilized marks ``counts`` counts (bool, the MaskCounter's).
        officers: Officers on duty in each neighbourhood (int64).
        u: One uniform in [0, 1) per officer on duty, neighbourhood after neighbourhood.
        arrest_rate: Probability that an officer makes an arrest today.
        take: Written with the probability that each neighbourhood's mobilized is taken (float64).

    Returns:
        The number of mobilized workers, or 0 when the police make no arrest today.
    """
    # One pass without branches (the compiler vectorizes it): releases, the mobilized, and
    # whether any mark the counter holds is out of date (none after a mobilization kernel).
    n_mobilized = 0
    stale = False
    for i in range(status.size):
        s = status[i]
        due = releasing & (s == JAILED) & (jail_release[i] == step)
        s = np.int8(PASSIVE) if due else s
        status[i] = s
        m = s == MOBILIZED
        n_mobilized += m
        stale |= m != count_marked[i]
    if stale:
        _recount(status, neighbourhood, counts, count_marked)
    any_arrest = False
    first = 0
    for j in range(officers.size):
        capacity = 0
        for p in range(first, first + officers[j]):
            capacity += u[p] < arrest_rate
        first += officers[j]
        arrests = min(float(capacity), counts[j])
        take[j] = arrests / counts[j] if counts[j] > 0 else 0.0
        any_arrest |= arrests > 0
    return n_mobilized if any_arrest else 0


@jit
def arrest(
    status: np.ndarray,
    neighbourhood: np.ndarray,
    u: np.ndarray,
    take: np.ndarray,
    counts: np.ndarray,
    count_marked: np.ndarray,
) -> np.ndarray:
    """Jail each mobilized worker with their neighbourhood's probability ``take``.

    Args:
        status: Each worker's ``Status`` code (int8); the arrested become jailed, in place.
        neighbourhood: Each worker's neighbourhood id (the MaskCounter's groups).
        u: One uniform in [0, 1) per mobilized worker, in id order (float32).
        take: Probability that a mobilized resident of each neighbourhood is taken.
        counts: Mobilized residents per neighbourhood (float64, the MaskCounter's); the
            arrested are taken off.
        count_marked: The mobilized marks ``counts`` counts (bool, the MaskCounter's).

    Returns:
        The arrested workers' ids, in id order (int64).
    """
    arrested = np.empty(u.size, dtype=np.int64)
    n_arrested = 0
    rank = 0
    for i in range(status.size):
        if status[i] == MOBILIZED:
            j = neighbourhood[i]
            # float32 against float64: compared in float64, as numpy does.
            if u[rank] < take[j]:
                status[i] = JAILED
                arrested[n_arrested] = i
                n_arrested += 1
                if count_marked[i]:
                    count_marked[i] = False
                    counts[j] -= 1.0
            rank += 1
    return arrested[:n_arrested]


@jit
def jail(
    jail_release: np.ndarray,
    arrested: np.ndarray,
    u: np.ndarray,
    step: int,
    max_jail_term: int,
) -> int:
    """Hand the arrested their terms, uniform on 1..max_jail_term days (floor of a uniform).

    Args:
        jail_release: Each worker's release day (step); written for the arrested.
        arrested: The arrested workers' ids.
        u: One uniform in [0, 1) per arrested worker.
        step: Today.
        max_jail_term: Longest term (days).

    Returns:
        The last release day handed out today (``step`` when nobody was arrested).
    """
    last = step
    for r in range(arrested.size):
        day = step + int(u[r] * max_jail_term) + 1
        jail_release[arrested[r]] = day
        last = max(last, day)
    return last
