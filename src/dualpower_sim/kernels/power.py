"""The councils' hold on production and territory: which units' strikes and blockades stand.

The resolution rule measures the balance of power each day (:mod:`dualpower_sim.outcomes`);
:func:`hold_units` updates which councils hold their unit, over every unit at once. The state's
strategy breaks councils up (:func:`broken_up`).
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["broken_up", "hold_units"]


@jit
def hold_units(
    members: np.ndarray,
    size: np.ndarray,
    alive: np.ndarray,
    holding: np.ndarray,
    strike_share: float,
    quorum: float,
    release: float,
    n_firms: int,
) -> float:
    """Which sitting councils hold their unit today; updates ``holding`` in place.

    A council holds its unit (a strike, a blockade) once the share of the unit out on that
    action, ``members x strike_share / size``, reaches ``quorum``, and keeps holding it until
    that share falls below ``release``.

    Args:
        members: Mobilized workers of each unit (float64 counts).
        size: Workers or residents of each unit (float64 counts).
        alive: Whether a council sits in each unit.
        holding: Whether each unit's council held it yesterday (updated to today).
        strike_share: Share of the mobilized who strike or blockade rather than demonstrate.
        quorum: Share of a unit out at which its council takes hold of it.
        release: Share below which a council that holds its unit lets it go.
        n_firms: Units ``0 .. n_firms - 1`` are workplaces; the rest are neighbourhoods.

    Returns:
        Residents of the neighbourhoods held (a float64 count).
    """
    territory = 0.0
    for u in range(members.size):
        share = members[u] * strike_share / max(size[u], 1.0)
        held = alive[u] and (share >= quorum or (holding[u] and share >= release))
        holding[u] = held
        if held and u >= n_firms:
            territory += size[u]  # whole numbers: exact in any order, as numpy's dot took them
    return territory


@jit
def broken_up(alive: np.ndarray, u: np.ndarray, rate: float) -> tuple[np.ndarray, int]:
    """The sitting councils the state breaks up today.

    Args:
        alive: Whether a council sits in each unit.
        u: One uniform draw in [0, 1) per unit.
        rate: Daily probability that a sitting council is broken up.

    Returns:
        A mask of the units whose council is broken up (``alive & (u < rate)``), and how many.
    """
    broken = np.empty(alive.size, dtype=np.bool_)
    count = 0
    for i in range(alive.size):
        broken[i] = alive[i] and u[i] < rate
        if broken[i]:
            count += 1
    return broken, count
