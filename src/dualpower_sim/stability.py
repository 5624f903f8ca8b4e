"""When a run is stable: nothing changed for some days and nothing is due to change it.

:meth:`DualPowerModel.run(until="stable") <dualpower_sim.model.DualPowerModel.run>` takes a
:func:`fingerprint` of the model after each day and counts the days in a row whose fingerprint
is :func:`unchanged`; the run is stable after enough of them unless something is
:func:`scheduled`. The fingerprint is what can be seen of a run: every worker's status and
allegiance, the party cadres, and the day's indicators (legitimacy, repression, concessions,
councils, both powers, the soldiers' loyalty and defections...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .population import Status

if TYPE_CHECKING:
    from .model import DualPowerModel

__all__ = ["fingerprint", "scheduled", "unchanged"]

#: A model's state as far as stability is judged: arrays (or None), then the indicator row.
Fingerprint = tuple[np.ndarray, np.ndarray, "np.ndarray | None", dict[str, Any]]


def fingerprint(model: DualPowerModel) -> Fingerprint:
    """What a quiet day leaves as it was: statuses, allegiances, cadres, the day's indicators.

    Args:
        model: The model, after its latest step.

    Returns:
        Copies of the worker arrays, and the latest indicator row by column.
    """
    pop, cadre = model.city.population, model.world.cadre
    return (
        pop.status.copy(),
        pop.allegiance.copy(),
        None if cadre is None else cadre.copy(),
        model._record.last(),
    )


def unchanged(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether two fingerprints are equal: arrays element by element, indicators exactly.

    An indicator that is NaN in both (a share of an empty group) counts as unchanged.
    """
    for x, y in zip(a[:3], b[:3], strict=True):
        if x is None or y is None:
            if x is not y:
                return False
        elif not np.array_equal(x, y):
            return False
    row_a, row_b = a[3], b[3]
    return all(
        row_a[k] == row_b[k] or (row_a[k] != row_a[k] and row_b[k] != row_b[k]) for k in row_a
    )


def scheduled(model: DualPowerModel) -> bool:
    """Whether something is due to change the run after today, whatever the workers do.

    A hardship shock still to start or to lift, a lever event with days still to come, a
    worker in jail (released on a set day), an offensive under way (it ends on a set day).

    Args:
        model: The model.

    Returns:
        True if any of these is pending.
    """
    day = model.steps
    shocks = getattr(model.pipeline.hardship, "shocks", ())
    if any(s.start + s.duration > day for s in shocks):  # still to start, or to lift
        return True
    events = getattr(model.pipeline.lever_events, "events", ())
    if any(e.end > day for e in events):
        return True
    if (model.city.population.status == Status.JAILED).any():
        return True
    return model.world.levels.on_offensive(day + 1)
