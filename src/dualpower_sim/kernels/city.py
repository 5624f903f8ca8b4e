"""Drawing a city's ties: workers grouped by a key, and random ties inside groups.

:func:`~dualpower_sim.city.build_city` groups workers by sector, neighbourhood, market or campus
in a random order (:func:`group_order`, a counting sort of a random permutation: what numpy's
stable argsort of the permuted keys gave, in one pass), and
:func:`~dualpower_sim.networks.random_pairs_within` sends each member's random ties to others
of its group (:func:`tie_counts`, then :func:`random_ties` once the draws are made); casual
workers lose some workplace ties (:func:`drop_casual_ties`). The random numbers are drawn by
numpy, in the same calls as before, and passed in.
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["drop_casual_ties", "group_order", "random_ties", "tie_counts"]


@jit
def group_order(keys: np.ndarray, perm: np.ndarray, counts: np.ndarray, order: np.ndarray) -> None:
    """Ids grouped by key, in the order of a permutation inside each group.

    Args:
        keys: Each id's group (0 to ``counts.size - 1``).
        perm: A permutation of the ids.
        counts: Output, zeros on entry: the size of each group.
        order: Output, as long as ``keys``: the ids of group 0 in the order they come in
            ``perm``, then those of group 1, and so on.
    """
    for p in range(keys.size):
        counts[keys[p]] += 1
    place = np.empty(counts.size, dtype=np.int64)
    running = 0
    for g in range(counts.size):
        place[g] = running
        running += counts[g]
    for q in range(perm.size):
        p = perm[q]
        g = keys[p]
        order[place[g]] = p
        place[g] += 1


@jit
def tie_counts(
    sizes: np.ndarray, whole: int, draws: np.ndarray, fraction: float, n_ties: np.ndarray
) -> int:
    """How many random ties each member of each group sends.

    Each member sends ``whole`` ties, plus one if its draw is below ``fraction``; a member of
    a group of one sends none.

    Args:
        sizes: Size of each group (groups are contiguous runs of members).
        whole: Ties every member sends.
        draws: One uniform [0, 1) draw per member, or none (then no member sends more).
        fraction: Probability of the extra tie.
        n_ties: Output, one entry per member: its number of ties.

    Returns:
        The number of ties sent in all.
    """
    total = 0
    p = 0
    for g in range(sizes.size):
        for _ in range(sizes[g]):
            t = 0
            if sizes[g] >= 2:
                t = whole
                if draws.size and draws[p] < fraction:
                    t += 1
            n_ties[p] = t
            total += t
            p += 1
    return total


@jit
def random_ties(
    members: np.ndarray,
    sizes: np.ndarray,
    n_ties: np.ndarray,
    draws: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
) -> int:
    """Random ties from each member to members of its own group (ties to oneself dropped).

    Args:
        members: Worker ids ordered so that each group is a contiguous run.
        sizes: Size of each run, in order.
        n_ties: Ties each member sends (:func:`tie_counts`).
        draws: One uniform [0, 1) draw per tie, in order of the sending member: tie ``k`` goes
            to member ``floor(draws[k] * size)`` of the group.
        rows: Output, at least ``draws.size`` entries: the sender of each tie kept.
        cols: Output, as long: its receiver.

    Returns:
        The number of ties kept.
    """
    k = 0
    w = 0
    start = 0
    for g in range(sizes.size):
        size = sizes[g]
        for p in range(start, start + size):
            for _ in range(n_ties[p]):
                d = start + np.int64(draws[k] * size)
                k += 1
                if d != p:
                    rows[w] = members[p]
                    cols[w] = members[d]
                    w += 1
        start += size
    return w


@jit
def drop_casual_ties(
    rows: np.ndarray, cols: np.ndarray, precarious: np.ndarray, draws: np.ndarray, loss: float
) -> int:
    """Drop the ties of a casual worker whose draw is below ``loss``, keeping the rest in place.

    Args:
        rows: One end of each tie (worker ids); the kept ties move to the front.
        cols: Other end of each tie, moved likewise.
        precarious: Whether each worker does casual or informal work.
        draws: One uniform [0, 1) draw per tie.
        loss: Probability that a tie with a casual worker at either end is missing.

    Returns:
        The number of ties kept (the first entries of ``rows`` and ``cols``).
    """
    w = 0
    for k in range(rows.size):
        r = rows[k]
        c = cols[k]
        if not ((precarious[r] or precarious[c]) and draws[k] < loss):
            rows[w] = r
            cols[w] = c
            w += 1
    return w
