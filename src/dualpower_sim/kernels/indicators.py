"""The worker-level indicators of a day, in one pass over the workers.

:class:`~dualpower_sim.indicators.Indicators` measures a world each day: how many workers are
mobilized, jailed or removed, which firms strike, which neighbourhoods blockade, which campuses
are occupied, how many workers sit in councils, how many are cadres, and the mobilized share of
each firm-size band and sector. :func:`worker_counts` does all of it in one pass; the shares it
returns equal those of the numpy code it replaced, because every sum it takes is a sum of whole
numbers (exact in float64).
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["WORKER_COLUMNS", "worker_counts"]

#: The first values :func:`worker_counts` writes, in order; the band shares, then the sector
#: shares, follow them.
WORKER_COLUMNS = (
    "mobilized",
    "passive",
    "jailed",
    "removed",
    "striking",
    "blockading",
    "occupying",
    "council_members",
    "cadres",
)


@jit
def worker_counts(
    out: np.ndarray,
    status: np.ndarray,
    firm_start: np.ndarray,
    firm_size: np.ndarray,
    firm_quorum: np.ndarray,
    firm_band: np.ndarray,
    firm_sector: np.ndarray,
    neighbourhood: np.ndarray,
    residents: np.ndarray,
    nb_quorum: np.ndarray,
    student_ids: np.ndarray,
    student_campus: np.ndarray,
    campus_size: np.ndarray,
    campus_quorum: np.ndarray,
    inv_band: np.ndarray,
    inv_sector: np.ndarray,
    sitting: np.ndarray,
    workplace_unit: np.ndarray,
    cadre: np.ndarray,
) -> None:
    """Write a day's worker-level indicators into ``out`` (see :data:`WORKER_COLUMNS`).

    Args:
        out: Output, ``len(WORKER_COLUMNS) + n_bands + n_sectors`` floats: shares of all
            workers (``striking`` of the workforce, ``occupying`` of students), then the
            mobilized share of each firm-size band and of each sector (NaN for an empty one).
        status: Each worker's status code (0 passive, 1 mobilized, 2 jailed, 3 removed).
        firm_start: First worker of each firm (firms hold consecutive worker ids).
        firm_size: Workers of each firm.
        firm_quorum: Mobilized workers at which a firm counts as striking.
        firm_band: Size band of each firm.
        firm_sector: Sector of each firm.
        neighbourhood: Each worker's neighbourhood.
        residents: Residents of each neighbourhood.
        nb_quorum: Mobilized residents at which a neighbourhood counts as blockading (inf for
            an empty one).
        student_ids: The students' worker ids.
        student_campus: Each student's campus.
        campus_size: Students of each campus.
        campus_quorum: Mobilized students at which a campus counts as occupied (inf if empty).
        inv_band: 1 / workers of each band (NaN for an empty band).
        inv_sector: 1 / workers of each sector (NaN for an empty sector).
        sitting: Whether each unit's council sits: the firms' (workplace units') first, then the
            neighbourhoods'; empty before the councils exist (then nobody is a member).
        workplace_unit: Each worker's workplace organising unit (empty without councils).
        cadre: Mask of party cadres (empty before the debate rule set up).
    """
    n = status.size
    n_firms = firm_start.size
    n_bands = inv_band.size
    counted = len(WORKER_COLUMNS)
    band_mob = np.zeros(n_bands)
    sector_mob = np.zeros(inv_sector.size)
    nb_mob = np.zeros(residents.size, dtype=np.int64)
    n_mob = 0
    n_jailed = 0
    n_removed = 0
    striking = 0
    members = 0
    has_councils = sitting.size > 0
    offset = sitting.size - residents.size  # the workplace units come first
    for f in range(n_firms):
        start = firm_start[f]
        end = firm_start[f + 1] if f + 1 < n_firms else n
        mob = 0
        for i in range(start, end):
            s = status[i]
            if s == 1:
                mob += 1
                home = neighbourhood[i]
                nb_mob[home] += 1
                if has_councils and (sitting[workplace_unit[i]] or sitting[offset + home]):
                    members += 1
            elif s == 2:
                n_jailed += 1
            elif s == 3:
                n_removed += 1
        n_mob += mob
        if mob >= firm_quorum[f]:
            striking += firm_size[f]
        band_mob[firm_band[f]] += mob
        sector_mob[firm_sector[f]] += mob
    blockading = 0
    for b in range(residents.size):
        if nb_mob[b] >= nb_quorum[b]:
            blockading += residents[b]
    occupying = 0.0
    if student_ids.size:
        campus_mob = np.zeros(campus_size.size, dtype=np.int64)
        for j in range(student_ids.size):
            if status[student_ids[j]] == 1:
                campus_mob[student_campus[j]] += 1
        occupied = 0
        for c in range(campus_size.size):
            if campus_mob[c] >= campus_quorum[c]:
                occupied += campus_size[c]
        occupying = occupied / student_ids.size
    cadres = 0
    for i in range(cadre.size):
        if cadre[i]:
            cadres += 1
    out[0] = n_mob / n
    out[1] = (n - n_mob - n_jailed - n_removed) / n
    out[2] = n_jailed / n
    out[3] = n_removed / n
    out[4] = striking / n
    out[5] = blockading / n
    out[6] = occupying
    out[7] = members / n
    out[8] = cadres / n
    for b in range(n_bands):
        out[counted + b] = band_mob[b] * inv_band[b]
    for s in range(inv_sector.size):
        out[counted + n_bands + s] = sector_mob[s] * inv_sector[s]
