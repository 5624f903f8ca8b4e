"""Soldiers: loyalty eroded by fraternisation and by orders to repress crowds; defection.

Each day, in one pass over the soldiers (:func:`dualpower_sim.kernels.soldiers.erode_loyalty`): a
soldier quartered in a neighbourhood whose assembly sits, or where most residents are mobilized,
loses ``fraternisation x m`` of loyalty, ``m`` the neighbourhood's mobilized share; the share the
state has deployed (``levels.deployed``: during an offensive, as many as the balance of force
allows) is ordered against crowds and loses ``crowd_erosion x m``. A soldier whose loyalty is
below ``defection`` goes over to the councils with its arms (the Petrograd Soviet rested "on the
armed people and soldiers") once there is a crowd in its neighbourhood to go over to: one
disaffected from the start waits in its barracks until the movement comes.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..distributions import Beta, Distribution
from ..kernels.soldiers import erode_loyalty
from ..params import ParameterError, param
from ..state import Soldiers
from ..world import World
from .base import Rule

__all__ = ["SoldierRule"]


@dataclasses.dataclass(frozen=True)
class SoldierRule(Rule):
    """The garrison and its loyalty.

    Attributes:
        per_worker: Soldiers per worker (a guess; Petrograd's garrison of 1917 was large against
            its 392,000 industrial workers).
        loyalty: Distribution of initial loyalty in [0, 1] of the soldiers in the city.
        outside_share: Share of the garrison standing outside the city (Versailles, 1871):
            out of reach of the crowds, sent in only on an offensive.
        outside_loyalty: Distribution of their loyalty (None: the same as ``loyalty``).
        reinforcement: Soldiers the state brings from the rest of the country each day dual
            power stands, as a share of the initial garrison; they stand outside the city with
            the outside loyalty (the guards sent to Moscow in December 1905, Versailles's army
            rebuilt in April and May 1871, Kornilov's march in August 1917, martial law in
            1981). A guess: plausible 0 to 0.03.
        reinforcement_cap: Most reinforcements, as a multiple of the initial garrison.
        fraternisation: Daily loyalty loss per unit mobilized share where councils are near.
        crowd_erosion: Daily loyalty loss per unit mobilized share when ordered against crowds.
        defection: Loyalty below which a soldier defects.
    """

    name: ClassVar[str] = "soldiers"

    per_worker: float = param(0.1, kind=float, low=0.0, high=10.0)
    loyalty: Distribution = dataclasses.field(default_factory=lambda: Beta(8.0, 2.0))
    outside_share: float = param(0.0, kind=float, low=0.0, high=1.0)
    outside_loyalty: Distribution | None = None
    reinforcement: float = param(0.01, kind=float, low=0.0, high=1.0)
    reinforcement_cap: float = param(1.0, kind=float, low=0.0, high=100.0)
    fraternisation: float = param(0.002, kind=float, low=0.0, high=1.0)
    crowd_erosion: float = param(0.06, kind=float, low=0.0, high=1.0)
    defection: float = param(0.3, kind=float, low=0.0, high=1.0)

    def validate(self) -> None:  # noqa: D102
        if not isinstance(self.loyalty, Distribution):
            raise ParameterError("SoldierRule.loyalty", self.loyalty, "allowed: a Distribution")
        if self.outside_loyalty is not None and not isinstance(self.outside_loyalty, Distribution):
            raise ParameterError(
                "SoldierRule.outside_loyalty",
                self.outside_loyalty,
                "allowed: a Distribution, or None for the same as loyalty",
            )

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        n = round(self.per_worker * world.population.n)
        world.soldiers = Soldiers.draw(
            n,
            self.loyalty,
            world.city.n_neighbourhoods,
            rng,
            outside=round(self.outside_share * n),
            outside_loyalty=self.outside_loyalty,
        )

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        s = world.soldiers
        assert s is not None  # made in setup
        if not s.n:
            return
        if self.reinforcement > 0 and world.verdict.dual_power:
            # The state, a national power, concentrates forces against a rival power in one city.
            garrison = round(self.per_worker * world.population.n)
            wanted = min(
                self.reinforcement * garrison * (world.step - world.verdict.dual_power_began + 1),
                self.reinforcement_cap * garrison,
            )
            new = int(wanted) - world.memory.get("soldiers.reinforced", 0)
            if new > 0:
                loyalty = self.loyalty if self.outside_loyalty is None else self.outside_loyalty
                s.reinforce(new, loyalty, world.city.n_neighbourhoods, rng)
                world.memory["soldiers.reinforced"] = int(wanted)
            full = int(self.reinforcement_cap * garrison)
            if full > 0 and int(wanted) >= full and world.levels.forces_ready < 0:
                # Thiers's army stood at 130,000 by 16 April 1871; he attacked on 21 May.
                world.levels.forces_ready = world.step
                world.log("forces_ready", full, "the state's reinforcements have all arrived")
        table = world.councils
        n_nb = world.city.n_neighbourhoods
        assembly = table.alive[table.n_firms :] if table is not None else np.zeros(n_nb, bool)
        u = rng.random(s.n)  # who is deployed against the crowds today
        going = erode_loyalty(
            s.loyalty,
            s.defected,
            s.barracks,
            s.outside,
            world.mobilized_by_neighbourhood(),
            world.residents,
            assembly,
            u,
            world.levels.deployed,
            # Soldiers outside the city meet no crowds until they are sent in.
            not world.levels.on_offensive(world.step),
            self.fraternisation,
            self.crowd_erosion,
            self.defection,
        )
        if going:
            world.log(
                "defections",
                going,
                f"went over today; {s.defected_share():.1%} of all soldiers have gone over",
            )
