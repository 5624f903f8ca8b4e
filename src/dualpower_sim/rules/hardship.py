"""Hardship shocks: price rises, layoffs, war, which raise workers' hardship for a while.

The current hardship of a worker is their base hardship (a trait) plus the magnitudes of all
shocks active today that reach them, less the relief the state's concessions give
(``world.relief``), clipped to [0, 1].
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..kernels.hardship import felt_hardship
from ..params import ParameterError, ParamGroup, param
from ..world import World
from .base import Rule

__all__ = ["HardshipShock", "HardshipShocks"]

#: Relief is applied in steps of at least this much hardship (a full pass over the workers each
#: day for a change of a thousandth would be wasted work); any change reaches it within days.
RELIEF_STEP = 0.002

#: What a shock's grievance is aimed at (see :attr:`HardshipShock.aim`).
AIMS = ("economic", "political")


@dataclasses.dataclass(frozen=True)
class HardshipShock(ParamGroup):
    """One shock to hardship.

    Attributes:
        start: First day (step) on which the shock is felt (steps count from 1).
        duration: Number of days it lasts.
        magnitude: Change in hardship, in [-1, 1] (negative for relief).
        sector: Name of the one sector it hits, or None for every worker.
        aim: What the grievance is aimed at: ``"economic"`` (prices, wages, bread: workers
            strike and blockade) or ``"political"`` (the regime itself: they demonstrate and go
            back to work; Leipzig's Monday demonstrations, 1989).
    """

    start: int = param(1, kind=int, low=1)
    duration: int = param(1, kind=int, low=1)
    magnitude: float = param(0.2, kind=float, low=-1.0, high=1.0)
    sector: str | None = param(None, kind=str, optional=True)
    aim: str = param("economic", kind=str, choices=AIMS)

    def active(self, step: int) -> bool:
        """Whether the shock is felt on ``step``."""
        return self.start <= step < self.start + self.duration


@dataclasses.dataclass(frozen=True)
class HardshipShocks(Rule):
    """Apply the scheduled hardship shocks.

    Attributes:
        shocks: The shocks, in any order.
    """

    name: ClassVar[str] = "hardship_shocks"

    shocks: tuple[HardshipShock, ...] = ()

    def validate(self) -> None:  # noqa: D102
        shocks = tuple(
            s if isinstance(s, HardshipShock) else HardshipShock(**s) for s in self.shocks
        )
        object.__setattr__(self, "shocks", shocks)

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        names = world.population.sector_names
        for shock in self.shocks:
            if shock.sector is not None and shock.sector not in names:
                raise ParameterError(
                    "HardshipShock.sector",
                    shock.sector,
                    "allowed: None or one of " + ", ".join(map(repr, names)),
                )
        world.memory["hardship_shocks.active"] = [False] * len(self.shocks)
        world.hardship[:] = world.population.hardship

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        # Plain Python over the few shocks: numpy calls would cost more than they save here.
        active = [s.active(world.step) for s in self.shocks]
        felt = [abs(s.magnitude) for s, on in zip(self.shocks, active, strict=True) if on]
        economic = [
            abs(s.magnitude)
            for s, on in zip(self.shocks, active, strict=True)
            if on and s.aim == "economic"
        ]
        world.strike_share = sum(economic) / sum(felt) if sum(felt) > 0 else 1.0
        same_shocks = active == world.memory["hardship_shocks.active"]
        applied = world.memory.get("hardship_shocks.relief", 0.0)
        if same_shocks and abs(world.relief - applied) < RELIEF_STEP:
            return  # nothing started or ended today and relief moved too little: keep hardship
        world.memory["hardship_shocks.active"] = active
        world.memory["hardship_shocks.relief"] = world.relief
        pop = world.population
        # The active shocks in their order: the one pass over the workers adds them in it.
        on = [shock for shock, now in zip(self.shocks, active, strict=True) if now]
        felt_hardship(
            pop.hardship,
            pop.sector,
            len(pop.sector_names),
            world.relief,  # the state's concessions relieve everyone
            np.array([shock.magnitude for shock in on], dtype=np.float64),
            np.array(
                [-1 if s.sector is None else pop.sector_names.index(s.sector) for s in on],
                dtype=np.int64,
            ),
            world.hardship,
        )
