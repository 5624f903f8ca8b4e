"""Council kernels: counting units' workers, sitting and forming councils, federating them.

The council rule (:class:`~dualpower_sim.rules.CouncilRule`) keeps, for every organising unit
(firms, then neighbourhoods), its workers counted by a small key: their allegiance if mobilized,
3 if not; and, for every division of the class (sector x union membership), the members of
federated councils by allegiance, 3 for everyone else. Each day only a few workers' keys change,
so a counter (:class:`~dualpower_sim.world.KeyCounter`, whose arrays these kernels update in
place) keeps every worker's last counted key: :func:`count_selected` computes the keys and lists
the workers whose key changed in one pass over the workers, then moves them from their old
count to the new; :func:`federated_divisions` looks only at those workers and at the workers of
councils that joined or left the federation. Per unit, :func:`sit_and_form` derives members,
dissolutions and formations, and :func:`join_rates` the councils' exposure to the federation.

Counts are integers, so the order in which workers are counted does not matter; the neighbour
shares behind a council's exposure are summed tie by tie in each row's order, as scipy's sparse
product sums them, and the Blau indices category by category, as Python's ``sum`` did.
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = [
    "blau_of",
    "cohesion_of",
    "council_members",
    "count_keys",
    "count_selected",
    "division_margins",
    "federated_divisions",
    "join_rates",
    "neighbour_shares_of",
    "sit_and_form",
]


@jit
def count_keys(key: np.ndarray, bases: np.ndarray, last: np.ndarray, flat: np.ndarray) -> None:
    """Update the counts per group from each worker's key (in place).

    Args:
        key: Each worker's key now, in ``0..n_keys - 1``.
        bases: For each worker and grouping, the offset of its group's counts in ``flat``.
        last: Each worker's last counted key (-1: never counted); updated.
        flat: Counts by group and key, one grouping after the other; updated.
    """
    for i in range(key.size):
        new, old = key[i], last[i]
        if new != old:
            # Move the worker from its old key's counts to its new one's (written out in each
            # kernel: numba does not inline one kernel into another, and the call would cost
            # ten times the move).
            for j in range(bases.shape[1]):
                flat[bases[i, j] + new] += 1
                if old >= 0:
                    flat[bases[i, j] + old] -= 1
            last[i] = new


@jit
def count_selected(
    values: np.ndarray,
    codes: np.ndarray,
    code: int,
    other: int,
    bases: np.ndarray,
    last: np.ndarray,
    flat: np.ndarray,
    changed: np.ndarray,
) -> int:
    """Count each worker under its value if its code is ``code``, under ``other`` if not.

    The council rule counts allegiance (``values``) among the mobilized (``codes`` the status,
    ``code`` mobilized): the keys computed and compared with the last ones in one pass, the
    few changed workers moved in a second.

    Args:
        values: Each worker's value (a key below ``other``).
        codes: Each worker's code.
        code: The code of the workers counted under their value.
        other: Key of every other worker.
        bases: For each worker and grouping, the offset of its group's counts in ``flat``.
        last: Each worker's last counted key (-1: never counted); updated.
        flat: Counts by group and key, one grouping after the other; updated.
        changed: Written: the workers whose key changed, in increasing order, first (room for
            every worker).

    Returns:
        The number of workers whose key changed.
    """
    # Arithmetic, not branches: which workers are selected, or changed, follows no pattern the
    # processor could predict. The changed workers are listed first, then moved: their counts'
    # offsets are read from memory far apart, faster one after the other in a loop of their own.
    n_changed = 0
    for i in range(values.size):
        new = other + (np.int64(values[i]) - other) * np.int64(codes[i] == code)
        changed[n_changed] = i
        n_changed += int(new != last[i])
    for c in range(n_changed):
        i = changed[c]
        new = other + (np.int64(values[i]) - other) * np.int64(codes[i] == code)
        old = last[i]
        for j in range(bases.shape[1]):  # move the worker's counts, as in count_keys
            flat[bases[i, j] + new] += 1
            if old >= 0:
                flat[bases[i, j] + old] -= 1
        last[i] = new
    return n_changed


@jit
def sit_and_form(
    counts: np.ndarray,
    n_keys: int,
    strike_share: float,
    size: np.ndarray,
    alive: np.ndarray,
    formed: np.ndarray,
    members: np.ndarray,
    revolutionary: np.ndarray,
    dissolve_share: float,
    formation_share: float,
    min_members: int,
    formation_rate: float,
    unit_weight: np.ndarray,
    draws: np.ndarray,
    step: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's members and revolutionary share; councils that fall away, councils formed.

    Keys 0, 1, 2 of ``counts`` are the unit's mobilized workers without allegiance, moderate
    and revolutionary; key 3 (the rest) is not read.

    Args:
        counts: Workers of each unit by key, unit after unit (``n_keys`` counts each).
        n_keys: Keys per unit.
        strike_share: Share of the mobilized who strike or blockade today.
        size: Workers (workplaces) or residents (neighbourhoods) of each unit.
        alive: A council sits in the unit; councils formed today are set.
        formed: Step at which each sitting council formed; set for councils formed today.
        members: Mobilized workers of each unit (float counts); written.
        revolutionary: Revolutionary share among each unit's members with an allegiance (0
            without any); written.
        dissolve_share: Striking share of the unit below which its council falls away.
        formation_share: Striking share of the unit from which a council can form.
        min_members: Fewest members a council needs to form.
        formation_rate: Daily formation probability before the unit's layer weight.
        unit_weight: Layer weight of each unit.
        draws: One uniform draw in [0, 1) per unit (the rule's generator).
        step: Today's step.

    Returns:
        The units whose council fell away (still marked alive: the caller dissolves them) and
        the units that formed one, each in increasing order.
    """
    n = members.size
    fell = np.empty(n, dtype=np.int64)
    new = np.empty(n, dtype=np.int64)
    n_fell = 0
    n_new = 0
    for u in range(n):
        at = u * n_keys
        aligned = np.float64(counts[at + 1] + counts[at + 2])
        members[u] = aligned + np.float64(counts[at])
        share = members[u] * strike_share / max(size[u], 1.0)
        if alive[u]:
            if share < dissolve_share:
                fell[n_fell] = u
                n_fell += 1
        elif (
            share >= formation_share
            and members[u] >= min_members
            and draws[u] < formation_rate * unit_weight[u]
        ):
            alive[u] = True
            formed[u] = step
            new[n_new] = u
            n_new += 1
        revolutionary[u] = np.float64(counts[at + 2]) / aligned if aligned > 0 else 0.0
    return fell[:n_fell], new[:n_new]


@jit
def neighbour_shares_of(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Rows ``rows`` of the product of a CSR matrix with ``x``.

    Args:
        indptr: The matrix's row pointers (the workers' mixed ties).
        indices: Its column indices.
        data: Its weights.
        rows: Worker ids.
        x: Per-worker values in [0, 1].

    Returns:
        One weighted share per id in ``rows`` (float64).
    """
    out = np.empty(rows.size)
    for r in range(rows.size):
        i = rows[r]
        # Summed tie by tie in the row's order from 0.0, as scipy's csr_matvec sums.
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * x[indices[k]]
        out[r] = total
    return out


@jit
def join_rates(
    weekday: np.ndarray,
    day: int,
    alive: np.ndarray,
    federated: np.ndarray,
    counted: bool,
    n_firms: int,
    work_order: np.ndarray,
    work_indptr: np.ndarray,
    home_order: np.ndarray,
    home_indptr: np.ndarray,
    status: np.ndarray,
    mobilized: int,
    fed_key: np.ndarray,
    other: int,
    complete: bool,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    members: np.ndarray,
    base_join_rate: float,
    join_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The councils that decide today whether to join the federation, and their weekly rates.

    A sitting council outside the federation decides on its weekday, at the rate
    ``7 (base_join_rate + join_rate x e)``, ``e`` its exposure: the mean share of its members'
    ties that reach members of federated councils. A council's members are its unit's
    mobilized workers; each one's share is summed in the order of the unit's workers (by id),
    then divided by the unit's members.

    Args:
        weekday: Each unit's meeting day (0 to 6).
        day: Today's weekday.
        alive: A council sits in the unit.
        federated: The council is in the federation.
        counted: Federated members were counted (``fed_key`` holds yesterday's count); if not,
            every exposure is 0.
        n_firms: Units below this are workplaces; the rest neighbourhoods (``unit - n_firms``).
        work_order: Workers listed workplace unit by workplace unit (by id within a unit).
        work_indptr: Where each workplace unit's workers start in ``work_order``.
        home_order: Workers listed neighbourhood by neighbourhood.
        home_indptr: Where each neighbourhood's residents start in ``home_order``.
        status: Each worker's status.
        mobilized: The status code of mobilized workers.
        fed_key: Each worker's key in the count of federated members by division (``other``
            for workers who are not members, see :func:`federated_divisions`).
        other: That key.
        complete: The network is complete (every pair tied with equal weight; the CSR arrays
            are then not read).
        indptr: Row pointers of the workers' mixed ties (CSR).
        indices: Their column indices.
        data: Their weights.
        members: Members of each unit's council.
        base_join_rate: Daily joining rate without ties to the federation.
        join_rate: Daily joining rate per unit of exposure.

    Returns:
        The units whose council decides today (a mask), and every unit's weekly rate (that of
        an exposure of 0 for the others).
    """
    n_units = alive.size
    candidates = np.zeros(n_units, dtype=np.bool_)
    rate = np.empty(n_units)
    n = status.size
    marked = -1.0  # federated members, for a complete network (counted when first needed)
    for u in range(n_units):
        candidates[u] = alive[u] and not federated[u] and weekday[u] == day
        exposure = 0.0
        if candidates[u] and counted:
            if u < n_firms:
                order, start, end = work_order, work_indptr[u], work_indptr[u + 1]
            else:
                order = home_order
                start, end = home_indptr[u - n_firms], home_indptr[u - n_firms + 1]
            if complete and marked < 0:
                marked = 0.0
                for i in range(n):
                    marked += np.float64(fed_key[i] != other)
            total = 0.0
            for p in range(start, end):
                i = order[p]
                if status[i] != mobilized:
                    continue
                if complete:
                    # neighbour_share of a complete network: the others' marks over n - 1.
                    if n >= 2:
                        total += (marked - np.float64(fed_key[i] != other)) / (n - 1)
                else:
                    # neighbour_shares_of's row sum, written out (a kernel called per member
                    # would not be inlined).
                    share = 0.0
                    for k in range(indptr[i], indptr[i + 1]):
                        share += data[k] * np.float64(fed_key[indices[k]] != other)
                    total += share
            if members[u] > 0:
                exposure = total / members[u]
        rate[u] = 7.0 * (base_join_rate + join_rate * exposure)
    return candidates, rate


@jit
def council_members(
    sitting: np.ndarray,
    n_firms: int,
    workplace_unit: np.ndarray,
    neighbourhood: np.ndarray,
    mobilized: np.ndarray,
) -> np.ndarray:
    """Mask of mobilized workers whose workplace unit or neighbourhood has a council.

    Args:
        sitting: Units with a council (sitting, or federated).
        n_firms: Units below this are workplaces, the rest neighbourhoods.
        workplace_unit: Each worker's workplace unit.
        neighbourhood: Each worker's neighbourhood.
        mobilized: Mobilized mask.

    Returns:
        Boolean mask over workers.
    """
    out = np.empty(mobilized.size, dtype=np.bool_)
    for i in range(mobilized.size):
        # Bitwise, not short-circuit: branches would be mispredicted worker after worker.
        out[i] = mobilized[i] & (sitting[workplace_unit[i]] | sitting[n_firms + neighbourhood[i]])
    return out


@jit
def federated_divisions(
    federated: np.ndarray,
    counted_federated: np.ndarray,
    full: bool,
    changed: np.ndarray,
    n_firms: int,
    work_order: np.ndarray,
    work_indptr: np.ndarray,
    home_order: np.ndarray,
    home_indptr: np.ndarray,
    workplace_unit: np.ndarray,
    neighbourhood: np.ndarray,
    status: np.ndarray,
    mobilized: int,
    allegiance: np.ndarray,
    other: int,
    bases: np.ndarray,
    last: np.ndarray,
    flat: np.ndarray,
    n_sectors: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count the members of federated councils by division and allegiance; their margins.

    A worker's key is their allegiance if they are a mobilized worker whose workplace council
    or assembly is federated, ``other`` if not. It can change only if the worker's key in the
    units' count (allegiance if mobilized) changed, or if one of their two units joined or left
    the federation: only those workers are looked at, unless ``full``.

    Args:
        federated: Units whose council is in the federation now.
        counted_federated: The same when the counts were last updated; updated.
        full: Look at every worker (the first count).
        changed: Workers whose key in the units' count changed since the last update.
        n_firms: Units below this are workplaces, the rest neighbourhoods.
        work_order: Workers listed workplace unit by workplace unit.
        work_indptr: Where each workplace unit's workers start in ``work_order``.
        home_order: Workers listed neighbourhood by neighbourhood.
        home_indptr: Where each neighbourhood's residents start in ``home_order``.
        workplace_unit: Each worker's workplace unit.
        neighbourhood: Each worker's neighbourhood.
        status: Each worker's status.
        mobilized: The status code of mobilized workers.
        allegiance: Each worker's allegiance code (below ``other``).
        other: Key of workers outside the federation.
        bases: For each worker, the offset of its division's (sector x 2 + union) counts in
            ``flat`` (one column).
        last: Each worker's last counted key (-1: never counted); updated.
        flat: Counts by division and key; updated.
        n_sectors: Number of sectors.

    Returns:
        Federated members (float64) by sector, by union membership and by allegiance.
    """
    # (Plain loops rather than slice assignments throughout: they compile seconds faster.)
    if full:
        todo = np.empty(status.size, dtype=np.int64)
        for worker in range(status.size):
            todo[worker] = worker
    else:
        # The changed workers, then the workers of every unit that joined or left.
        n_todo = changed.size
        for u in range(federated.size):
            if federated[u] != counted_federated[u]:
                if u < n_firms:
                    n_todo += work_indptr[u + 1] - work_indptr[u]
                else:
                    n_todo += home_indptr[u - n_firms + 1] - home_indptr[u - n_firms]
        todo = np.empty(n_todo, dtype=np.int64)
        for c in range(changed.size):
            todo[c] = changed[c]
        at = changed.size
        for u in range(federated.size):
            if federated[u] != counted_federated[u]:
                if u < n_firms:
                    order, start, end = work_order, work_indptr[u], work_indptr[u + 1]
                else:
                    order = home_order
                    start, end = home_indptr[u - n_firms], home_indptr[u - n_firms + 1]
                for p in range(start, end):
                    todo[at] = order[p]
                    at += 1
    for u in range(federated.size):
        counted_federated[u] = federated[u]
    # A worker listed twice is counted once: the second time its key has not changed.
    for i in todo:
        # Bitwise and arithmetic rather than branches, as in count_selected.
        member = (status[i] == mobilized) & (
            federated[workplace_unit[i]] | federated[n_firms + neighbourhood[i]]
        )
        new = other + (np.int64(allegiance[i]) - other) * np.int64(member)
        old = last[i]
        if new != old:  # move the worker's counts, as in count_keys (one grouping here)
            flat[bases[i, 0] + new] += 1
            if old >= 0:
                flat[bases[i, 0] + old] -= 1
            last[i] = new
    return division_margins(flat, other + 1, n_sectors, other)


@jit
def division_margins(
    joint: np.ndarray, stride: int, n_sectors: int, n_allegiance: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sector, union and allegiance margins of counts by division (sector x 2 + union).

    Args:
        joint: Counts by division and key, ``stride`` keys per division.
        stride: Keys per division (keys from ``n_allegiance`` on are not read).
        n_sectors: Number of sectors.
        n_allegiance: Number of allegiances.

    Returns:
        Counts (float64) by sector, by union membership (0, 1) and by allegiance.
    """
    by_sector = np.zeros(n_sectors)
    by_union = np.zeros(2)
    by_allegiance = np.zeros(n_allegiance)
    for s in range(n_sectors):
        for union in range(2):
            at = (s * 2 + union) * stride
            for a in range(n_allegiance):
                # Integer counts: exact in float64 in any order.
                c = np.float64(joint[at + a])
                by_sector[s] += c
                by_union[union] += c
                by_allegiance[a] += c
    return by_sector, by_union, by_allegiance


@jit
def blau_of(counts: np.ndarray, square: float) -> float:
    """Gini-Simpson (Blau) diversity ``1 - sum p_k^2`` of category counts (0 if empty).

    Sums are taken category by category from 0, as Python's ``sum`` of floats takes them.

    Args:
        counts: Count of each category (float64).
        square: 2.0. Passed in, not written as a literal: numba compiles ``p ** 2`` to
            ``p * p``, which rounds differently (in about 1 case in 1,200) from the C library's
            ``pow`` that Python's ``**`` calls; with a variable exponent the kernel calls
            ``pow`` as well.

    Returns:
        The diversity in [0, 1).
    """
    total = 0.0
    for c in counts:
        total += c
    if total <= 0:
        return 0.0
    sum_sq = 0.0
    for c in counts:
        sum_sq += (c / total) ** square
    return 1.0 - sum_sq


@jit
def cohesion_of(member_counts, population_counts, square: float) -> float:
    """Mean over divisions of the members' Blau diversity relative to the workforce's.

    See :func:`dualpower_sim.councils.cohesion`.

    Args:
        member_counts: For each division, members per category (a tuple of float64 arrays).
        population_counts: The same for the whole workforce (as many divisions).
        square: 2.0 (see :func:`blau_of`).

    Returns:
        Cohesion in [0, 1]; 0 when there are no members.
    """
    members = 0.0
    for c in member_counts[0]:
        members += c
    if members == 0:
        return 0.0
    ratios = 0.0
    n_ratios = 0
    for k in range(len(member_counts)):
        base = blau_of(population_counts[k], square)
        if base > 0:
            ratio = blau_of(member_counts[k], square) / base
            ratios += ratio if ratio < 1.0 else 1.0  # min(1.0, ratio), NaN -> 1.0 as min gives
            n_ratios += 1
    return ratios / n_ratios if n_ratios else 0.0
