"""The garrison: loyalty worn down by the crowds, defection, and the loyal soldiers' tally.

Soldiers are arrays, like the workers (:class:`dualpower_sim.state.Soldiers`): one pass over
them does each day's erosion and defection (:func:`erode_loyalty`), another counts what the
state still holds (:func:`tally`). Where its loyal soldiers stand is counted with the police
(:func:`dualpower_sim.kernels.policing.forces`).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .summation import pairwise_sum

__all__ = ["erode_loyalty", "tally"]


@jit
def erode_loyalty(
    loyalty: np.ndarray,
    defected: np.ndarray,
    barracks: np.ndarray,
    outside: np.ndarray,
    mobilized: np.ndarray,
    residents: np.ndarray,
    assembly: np.ndarray,
    u: np.ndarray,
    deployed: float,
    sheltered: bool,
    fraternisation: float,
    crowd_erosion: float,
    defection: float,
) -> int:
    """One day of the crowds' pull on the soldiers; changes ``loyalty`` and ``defected`` in place.

    A soldier still with the state, in a neighbourhood with mobilized share ``m``, loses
    ``fraternisation x m`` of loyalty where the neighbourhood's assembly sits or ``m > 0.5``,
    and ``crowd_erosion x m`` more if it is deployed against the crowds (``u < deployed``);
    loyalty is clipped to [0, 1]. It defects once its loyalty is below ``defection`` and there is
    a crowd (``m > 0``) in its neighbourhood to go over to. A soldier outside the city meets no
    crowd while ``sheltered``.

    Args:
        loyalty: Each soldier's loyalty in [0, 1] (updated).
        defected: Whether each soldier has gone over to the councils (updated).
        barracks: Each soldier's neighbourhood.
        outside: Whether each soldier stands outside the city.
        mobilized: Mobilized residents of each neighbourhood (float64 counts).
        residents: Residents of each neighbourhood (int).
        assembly: Whether each neighbourhood's assembly sits.
        u: One uniform draw in [0, 1) per soldier (deployment).
        deployed: Share of soldiers deployed against crowds today.
        sheltered: Whether soldiers outside the city are kept out of reach today (no offensive).
        fraternisation: Daily loyalty loss per unit mobilized share where councils are near.
        crowd_erosion: Daily loyalty loss per unit mobilized share when deployed.
        defection: Loyalty below which a soldier defects.

    Returns:
        Number of soldiers who defected today.
    """
    n_nb = mobilized.size
    share = np.empty(n_nb)
    for b in range(n_nb):
        share[b] = mobilized[b] / max(residents[b], 1)
    going = 0
    for i in range(loyalty.size):
        if defected[i]:
            continue
        local = share[barracks[i]]
        away = sheltered and outside[i]
        near = (assembly[barracks[i]] or local > 0.5) and not away
        deploy = u[i] < deployed and not away
        # The loss as numpy formed it (a product with a 0/1 factor), so the bits agree.
        loss = fraternisation * local * (1.0 if near else 0.0) + crowd_erosion * local * (
            1.0 if deploy else 0.0
        )
        x = loyalty[i] - loss
        # np.clip's rule: a value equal to a bound is kept as it is (a zero keeps its sign).
        if x < 0.0:
            x = 0.0
        elif x > 1.0:
            x = 1.0
        loyalty[i] = x
        # A soldier goes over when there is a crowd to go over to, not before.
        if x < defection and local > 0 and not away:
            defected[i] = True
            going += 1
    return going


@jit
def tally(loyalty: np.ndarray, defected: np.ndarray, outside: np.ndarray) -> tuple[int, int, float]:
    """The soldiers still with the state: how many, how many outside the city, their loyalty.

    Args:
        loyalty: Each soldier's loyalty in [0, 1].
        defected: Whether each soldier has gone over to the councils.
        outside: Whether each soldier stands outside the city.

    Returns:
        Loyal soldiers, loyal soldiers outside the city, and the sum of the loyal soldiers'
        loyalty (in numpy's order: ``loyalty[~defected].sum()``).
    """
    stay = np.empty(loyalty.size)
    n = 0
    n_outside = 0
    for i in range(loyalty.size):
        if not defected[i]:
            stay[n] = loyalty[i]
            n += 1
            if outside[i]:
                n_outside += 1
    return n, n_outside, pairwise_sum(stay, n)
