"""Scheduled changes to the state's and the workers' levers: legitimacy lost, a war, a coup.

A :class:`~dualpower_sim.rules.HardshipShock` raises hardship for a while and then lifts. A
:class:`LeverEvent` changes another lever on a given day (or spreads the change over several
days) and leaves it there: from then on the model's own dynamics move it, as they move it every
day (the state's strategy moves legitimacy, repression and concessions; crowds erode the
soldiers' loyalty). Events are the modeller's hand on the run, where writing into
``model.world`` between steps was the only way before: Epstein's (2002) experiments lower
legitimacy at once or little by little; a war lost costs the state legitimacy and its
soldiers' loyalty; a coup raises repression and the police.

Events run first each day, before the hardship shocks and the workers' decisions, so the
workers of that day act on the changed lever and the day's indicators show it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ..params import ParameterError, ParamGroup, param
from ..world import World
from .base import Rule

__all__ = ["LEVERS", "MODES", "LeverEvent", "LeverEvents", "checked_events", "lever_problem"]

#: The levers an event can move and their bounds (a changed value is clipped to them).
LEVERS: dict[str, tuple[float, float]] = {
    "legitimacy": (0.0, 1.0),
    "coercion": (0.0, 1.0),
    "repression": (0.0, 1.0),
    "concession": (0.0, 1.0),
    "loyalty": (0.0, 1.0),
    "risk_aversion": (0.0, 1.0),
    "threshold": (0.0, math.inf),
}

#: Levers that exist only in the struggle for power (``dual_power=True``): the state's strategy
#: sets repression and concessions, and the soldiers rule keeps the garrison.
STRUGGLE_LEVERS = ("repression", "concession", "loyalty")

#: Levers held per worker, which an event may restrict to one sector.
WORKER_LEVERS = ("risk_aversion", "threshold")

#: How an event's value changes its lever: ``add`` it, ``set`` the lever to it, ``multiply``
#: the lever by it.
MODES = ("add", "set", "multiply")

#: Largest factor of a ``multiply`` event, and largest threshold a ``set`` event may give.
_MOST = 100.0


@dataclasses.dataclass(frozen=True)
class LeverEvent(ParamGroup):
    """A scheduled change to one of the state's or the workers' levers.

    The change is made on day ``start``, or spread evenly over ``over_days`` days from it:
    ``add`` adds ``value / over_days`` a day, ``multiply`` multiplies by
    ``value ** (1 / over_days)`` a day, and ``set`` closes an equal share of the remaining gap
    each day, so the lever stands at ``value`` at the end of the last day whatever else moved
    it meanwhile. The result is clipped to the lever's bounds ([0, 1]; a threshold only below,
    at 0). The lever is not restored afterwards (a hardship rise that lifts is a
    :class:`~dualpower_sim.rules.HardshipShock`).

    Attributes:
        start: First day (step) of the change (steps count from 1).
        lever: What changes: ``"legitimacy"`` (the state's legitimacy L, in [0, 1]),
            ``"coercion"`` (police per resident before the state's surge), ``"repression"``
            and ``"concession"`` (the state's levels, in [0, 1]; the state's strategy moves
            them toward its targets from the same day, and police and soldiers follow its
            repression from the next), ``"loyalty"`` (every soldier's loyalty; defected
            soldiers stay defected, and reinforcements that arrive later bring their own),
            ``"risk_aversion"`` (each worker's R) or ``"threshold"`` (each worker's threshold
            under the threshold rule). Repression, concession and loyalty need the struggle
            for power (``dual_power=True``); threshold needs the threshold rule.
        mode: ``"add"`` (value is a change, in [-1, 1]), ``"set"`` (value is the new level,
            within the lever's bounds; a threshold up to 100) or ``"multiply"`` (value is a
            factor, in [0, 100]).
        value: The change, the new level or the factor, as ``mode`` says.
        over_days: Days over which the change is spread (1: all on day ``start``).
        sector: For a worker's lever, the name of the one sector whose workers it changes, or
            None for every worker; None for the state's levers.
    """

    start: int = param(1, kind=int, low=1)
    lever: str = param("legitimacy", kind=str, choices=tuple(LEVERS))
    mode: str = param("add", kind=str, choices=MODES)
    value: float = param(0.0, kind=float, low=-_MOST, high=_MOST)
    over_days: int = param(1, kind=int, low=1)
    sector: str | None = param(None, kind=str, optional=True)

    def validate(self) -> None:  # noqa: D102
        low, high = LEVERS[self.lever]
        if self.mode == "add":
            lo, hi, what = -1.0, 1.0, "a change"
        elif self.mode == "multiply":
            lo, hi, what = 0.0, _MOST, "a factor"
        else:
            lo, hi, what = low, min(high, _MOST), f"the new {self.lever}"
        if not lo <= self.value <= hi:
            raise ParameterError(
                "LeverEvent.value",
                self.value,
                f"allowed with mode = {self.mode!r} ({what}): {lo} <= value <= {hi}",
            )
        if self.sector is not None and self.lever not in WORKER_LEVERS:
            raise ParameterError(
                "LeverEvent.sector",
                self.sector,
                "allowed: no sector for the state's lever "
                f"{self.lever!r}; a sector only with " + " or ".join(map(repr, WORKER_LEVERS)),
            )

    @property
    def end(self) -> int:
        """Last day of the change."""
        return self.start + self.over_days - 1

    def due(self, step: int) -> bool:
        """Whether the event changes its lever on ``step``."""
        return self.start <= step <= self.end

    def changed(self, x: float, step: int) -> float:
        """A lever's value on ``step`` after today's share of the change.

        Args:
            x: The lever's value before today's share.
            step: A day on which the event is due.

        Returns:
            The new value, clipped to the lever's bounds.
        """
        low, high = LEVERS[self.lever]
        return min(max(float(self._share(x, step)), low), high)

    def changed_array(self, x: np.ndarray, step: int) -> np.ndarray:
        """The same for a lever held per worker or per soldier (a new array)."""
        return np.clip(self._share(x, step), *LEVERS[self.lever])

    def _share(self, x, step: int):
        n = self.over_days
        if self.mode == "add":
            return x + self.value / n
        if self.mode == "multiply":
            return x * self.value ** (1.0 / n)
        if step >= self.end:  # exactly the value on the last day
            return np.full_like(x, self.value) if isinstance(x, np.ndarray) else self.value
        return x + (self.value - x) / (self.end - step + 1)

    def describe(self) -> str:
        """One line for the event log, e.g. ``"legitimacy set to 0.3 over 50 days"``."""
        what = {
            "add": f"{self.value:+g}",
            "set": f"set to {self.value:g}",
            "multiply": f"x {self.value:g}",
        }[self.mode]
        where = f" in {self.sector}" if self.sector is not None else ""
        days = f" over {self.over_days} days" if self.over_days > 1 else ""
        return f"{self.lever}{where} {what}{days} (scheduled)"


def lever_problem(
    event: LeverEvent, *, dual_power: bool, rule: str, sectors: Sequence[str]
) -> tuple[str, str] | None:
    """What makes an event impossible in a model, if anything.

    The model and a config both ask, so they refuse the same events in the same words.

    Args:
        event: The event.
        dual_power: Whether the model runs the struggle for power.
        rule: The name of the model's mobilization rule.
        sectors: The names of the city's sectors.

    Returns:
        None, or the event's field at fault and what is allowed (``"allowed: ..."``).
    """
    if event.lever in STRUGGLE_LEVERS and not dual_power:
        allowed = ", ".join(repr(k) for k in LEVERS if k not in STRUGGLE_LEVERS)
        return "lever", f"allowed without the struggle for power (dual_power = false): {allowed}"
    if event.lever == "threshold" and rule != "threshold":
        allowed = ", ".join(repr(k) for k in LEVERS if k != "threshold")
        return "lever", f"allowed under the {rule!r} rule (thresholds need 'threshold'): {allowed}"
    if event.sector is not None and event.sector not in sectors:
        names = ", ".join(map(repr, sectors))
        return "sector", f"allowed: one of the city's sectors ({names}) or none"
    return None


def checked_events(
    events: LeverEvent | Sequence[LeverEvent], dual_power: bool, rule: str, sectors: Sequence[str]
) -> tuple[LeverEvent, ...]:
    """A model's ``lever_events`` argument as a tuple, each event possible in that model.

    Args:
        events: A :class:`LeverEvent` or a sequence of them.
        dual_power: Whether the model runs the struggle for power.
        rule: The name of the model's mobilization rule.
        sectors: The names of the city's sectors.

    Returns:
        The events.

    Raises:
        ParameterError: Naming the first event at fault (``lever_events[i].lever``) and what is
            allowed.
    """
    if isinstance(events, LeverEvent):
        events = (events,)
    try:
        out = tuple(events)
    except TypeError:
        out = None
    if out is None or not all(isinstance(e, LeverEvent) for e in out):
        raise ParameterError("lever_events", events, "allowed: a LeverEvent or a list of them")
    for i, event in enumerate(out):
        problem = lever_problem(event, dual_power=dual_power, rule=rule, sectors=sectors)
        if problem is not None:
            field, allowed = problem
            raise ParameterError(f"lever_events[{i}].{field}", getattr(event, field), allowed)
    return out


@dataclasses.dataclass(frozen=True)
class LeverEvents(Rule):
    """Apply the scheduled lever events due today (first in the day's pipeline).

    Attributes:
        events: The events, in the order they apply when several fall on one day.
    """

    name: ClassVar[str] = "lever_events"

    events: tuple[LeverEvent, ...] = ()

    def validate(self) -> None:  # noqa: D102
        events = tuple(e if isinstance(e, LeverEvent) else LeverEvent(**e) for e in self.events)
        object.__setattr__(self, "events", events)

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        # The police density before any surge, as the state's strategy also reads it at its
        # set-up (which comes after this one and finds the same number).
        world.levels.base_coercion = float(world.coercion.mean()) if world.coercion.size else 0.0

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        for event in self.events:  # a few events: plain Python
            if event.due(world.step):
                now = self._apply(event, world)
                if world.step == event.start:
                    world.log("lever_event", now, event.describe())

    @staticmethod
    def _apply(event: LeverEvent, world: World) -> float:
        """Make today's share of ``event``'s change; returns the lever's (mean) value after."""
        step, lever, levels = world.step, event.lever, world.levels
        if lever == "legitimacy":
            world.legitimacy = event.changed(world.legitimacy, step)
            return world.legitimacy
        if lever == "coercion":
            old = levels.base_coercion
            levels.base_coercion = event.changed(old, step)
            # Today's police follow at once, keeping the state's surge over the base.
            if old > 0:
                world.coercion *= levels.base_coercion / old
            else:
                world.coercion[:] = levels.base_coercion
            return levels.base_coercion
        if lever in ("repression", "concession"):
            setattr(levels, lever, event.changed(getattr(levels, lever), step))
            return getattr(levels, lever)
        if lever == "loyalty":
            soldiers = world.soldiers
            if soldiers is None or not soldiers.n:
                return 0.0
            soldiers.loyalty[:] = event.changed_array(soldiers.loyalty, step)
            return float(soldiers.loyalty.mean())
        pop = world.population
        values = pop.risk_aversion if lever == "risk_aversion" else pop.threshold
        if values is None:
            raise RuntimeError("a threshold event needs the threshold rule")
        if event.sector is None:
            values[:] = event.changed_array(values, step)
            return float(values.mean())
        who = pop.sector == pop.sector_names.index(event.sector)
        values[who] = event.changed_array(values[who], step)
        return float(values[who].mean()) if who.any() else 0.0
