"""The councils' hold on production and territory: which units' strikes and blockades stand.

The resolution rule measures the balance of power each day (:mod:`dualpower_sim.outcomes`);
:func:`hold_units` updates which councils hold their unit, over every unit at once.
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["hold_units"]


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
