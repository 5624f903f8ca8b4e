"""The debate inside the councils: who meets today, who takes a side, who changes it.

The debate rule (:class:`dualpower_sim.rules.Debate`) finds the day's meeting cohort
(:func:`meeting_members`), draws its uniforms, and runs the meeting (:func:`debate`). Allegiance
codes are :class:`dualpower_sim.population.Allegiance`'s.
"""

from __future__ import annotations

import math

import numpy as np

from ..population import Allegiance, Status
from . import jit

__all__ = ["debate", "meeting_members"]

# The codes as plain ints: a kernel compiles them in as constants.
_NONE, _MOD, _REV = int(Allegiance.NONE), int(Allegiance.MODERATE), int(Allegiance.REVOLUTIONARY)
_MOBILIZED = int(Status.MOBILIZED)


@jit
def meeting_members(
    status: np.ndarray,
    workplace_unit: np.ndarray,
    neighbourhood: np.ndarray,
    alive: np.ndarray,
    n_firms: int,
    first: int,
    interval: int,
) -> np.ndarray:
    """Today's meeting: members of a sitting council among workers ``first, first + interval...``.

    A member is a mobilized worker whose workplace unit's council or neighbourhood assembly
    sits.

    Args:
        status: Each worker's :class:`~dualpower_sim.population.Status` code.
        workplace_unit: Each worker's workplace organising unit (a unit index below ``n_firms``).
        neighbourhood: Each worker's neighbourhood (unit ``n_firms + neighbourhood``).
        alive: Whether each unit's council sits.
        n_firms: Units ``0 .. n_firms - 1`` are workplaces; the rest are neighbourhoods.
        first: First worker of today's cohort.
        interval: Days between a member's meetings (the cohort's stride).

    Returns:
        The members' worker ids, ascending (int64).
    """
    out = np.empty((status.size - first + interval - 1) // interval, dtype=np.int64)
    m = 0
    for w in range(first, status.size, interval):
        if status[w] == _MOBILIZED and (
            alive[workplace_unit[w]] or alive[n_firms + neighbourhood[w]]
        ):
            out[m] = w
            m += 1
    return out[:m]


@jit
def debate(
    members: np.ndarray,
    allegiance: np.ndarray,
    cadre: np.ndarray,
    exposure: np.ndarray,
    workplace_unit: np.ndarray,
    neighbourhood: np.ndarray,
    alive: np.ndarray,
    revolutionary: np.ndarray,
    n_firms: int,
    u: np.ndarray,
    u_join: np.ndarray,
    p_side: float,
    side_scale: float,
    interval: int,
    persuasion: float,
    repression_hazard: float,
    backlash_on: bool,
    backlash: float,
    down: float,
    join_rate: float,
) -> None:
    """One meeting of the members; changes ``allegiance`` and ``cadre`` in place.

    Each member uses one uniform ``u`` for every change of side (the hazards are compounded
    over the ``interval`` days since their last meeting):

    - with no allegiance, they take a side when ``u < p_side``: revolutionary when
      ``u / side_scale`` is below the revolutionary share of their workplace council (their
      neighbourhood assembly's if none sits there), moderate otherwise;
    - a moderate turns revolutionary when ``u < 1 - exp(-interval x (persuasion x c +
      repression_hazard))``, ``c`` their exposure to cadres; in a backlash (``backlash_on``) and
      if ``c > 0``, that probability ``p`` rises to ``1 - (1 - p)(1 - backlash)``;
    - a revolutionary who is not a cadre turns moderate when ``u < down``.

    Then a revolutionary who is not a cadre is recruited when ``u_join < 1 - exp(join_rate x
    c)`` (if ``u_join`` is not empty).

    Args:
        members: Worker ids of the members meeting today.
        allegiance: Each worker's :class:`~dualpower_sim.population.Allegiance` code (updated).
        cadre: Whether each worker is a party cadre (updated by recruitment).
        exposure: Each worker's share of ties that are cadres.
        workplace_unit: Each worker's workplace organising unit.
        neighbourhood: Each worker's neighbourhood (unit ``n_firms + neighbourhood``).
        alive: Whether each unit's council sits.
        revolutionary: Revolutionary share of each unit's council.
        n_firms: Units ``0 .. n_firms - 1`` are workplaces; the rest are neighbourhoods.
        u: One uniform in [0, 1) per member (taking and changing sides).
        u_join: One uniform in [0, 1) per member (recruitment), or empty for none.
        p_side: Probability that a member with no allegiance takes a side.
        side_scale: ``u`` is divided by this to draw the side (``max(p_side, 1e-12)``).
        interval: Days between a member's meetings.
        persuasion: Daily conversion hazard of a moderate per unit exposure to cadres.
        repression_hazard: Daily conversion hazard of a moderate from repression.
        backlash_on: Whether the members meet in the days after a repelled offensive.
        backlash: Probability that the backlash turns a moderate who hears a cadre.
        down: Probability that a revolutionary member turns moderate.
        join_rate: ``-interval x recruitment``: recruitment's exponent per unit exposure.
    """
    recruiting = u_join.size > 0
    # Most members have no cadre among their ties: their conversion probability is the same for
    # all (the formula below at c = 0, to the bit), and their recruitment probability is 0.
    up_unheard = 1.0 - math.exp(-(interval * (persuasion * 0.0 + repression_hazard)))
    for j in range(members.size):
        w = members[j]
        now = allegiance[w]
        new = now
        if now == _NONE:
            if u[j] < p_side:
                unit = workplace_unit[w]
                if not alive[unit]:
                    unit = n_firms + neighbourhood[w]
                new = _REV if u[j] / side_scale < revolutionary[unit] else _MOD
        elif now == _MOD:
            c = exposure[w]
            if c == 0.0:
                up = up_unheard
            else:
                up = 1.0 - math.exp(-(interval * (persuasion * c + repression_hazard)))
                if backlash_on and c > 0:
                    # The party that called for the defence turns those who hear a cadre.
                    up = 1.0 - (1.0 - up) * (1.0 - backlash)
            if u[j] < up:
                new = _REV
        elif now == _REV and u[j] < down and not cadre[w]:
            new = _MOD
        allegiance[w] = new
        # Revolutionaries who stayed so are recruited, on a draw of their own.
        if recruiting and new == _REV and not cadre[w] and exposure[w] != 0.0:
            if u_join[j] < 1.0 - math.exp(join_rate * exposure[w]):
                cadre[w] = True
