"""The balance of power, dual power, and resolution (formulas in :mod:`dualpower_sim.outcomes`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..outcomes import Power, power_balance, success_probability
from ..params import ParameterError, param
from ..world import World
from .base import Rule

__all__ = ["Resolution"]


@dataclasses.dataclass(frozen=True)
class Resolution(Rule):
    """Measure both powers, track dual power, attempt insurrections, and resolve the run.

    Attributes:
        production_weight: Weight of production paralysed in council power.
        territory_weight: Weight of territorial control (blockades).
        arms_weight: Weight of armed strength (defected soldiers); the three sum to 1.
        action_quorum: Mobilized share of a unit at which its council holds production or
            territory (a strike, a blockade).
        blockade_effect: Share of the state's supply cut at full territorial control.
        council_threshold: Council power at or above which the councils count as a power.
        state_threshold: State power at or above which the state still counts as a power.
        insurrection_ratio: Council-to-state power ratio needed to attempt an insurrection.
        insurrection_steepness: Steepness ``s`` of the success probability ``r^s / (1 + r^s)``.
        insurrection_cooldown: Days after a failed insurrection before another attempt.
        majority: Revolutionary share of the federation needed to move to take power.
        coopt_share: Revolutionary share below which a sitting federation counts as co-opted.
        settle_days: Days a resolving condition must hold before the run resolves.
        counter_offensive_days: Length of the offensive that follows a failed insurrection.
    """

    name: ClassVar[str] = "resolution"

    production_weight: float = param(0.5, kind=float, low=0.0, high=1.0)
    territory_weight: float = param(0.3, kind=float, low=0.0, high=1.0)
    arms_weight: float = param(0.2, kind=float, low=0.0, high=1.0)
    action_quorum: float = param(0.5, kind=float, low=0.0, low_open=True, high=1.0)
    blockade_effect: float = param(0.5, kind=float, low=0.0, high=1.0)
    council_threshold: float = param(0.2, kind=float, low=0.0, low_open=True, high=1.0)
    state_threshold: float = param(0.1, kind=float, low=0.0, low_open=True, high=1.0)
    insurrection_ratio: float = param(1.0, kind=float, low=0.0, high=100.0)
    insurrection_steepness: float = param(2.0, kind=float, low=0.0, high=50.0)
    insurrection_cooldown: int = param(30, kind=int, low=1)
    majority: float = param(0.5, kind=float, low=0.0, high=1.0)
    coopt_share: float = param(0.1, kind=float, low=0.0, high=1.0)
    settle_days: int = param(14, kind=int, low=1)
    counter_offensive_days: int = param(14, kind=int, low=1)

    def validate(self) -> None:  # noqa: D102
        total = self.production_weight + self.territory_weight + self.arms_weight
        if abs(total - 1.0) > 1e-6:
            raise ParameterError(
                "Resolution.production_weight",
                (self.production_weight, self.territory_weight, self.arms_weight),
                f"allowed: production, territory and arms weights summing to 1 (got {total:.6g})",
            )

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        self._measure(world)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        verdict = world.verdict
        if verdict.outcome is not None:
            return
        power = self._measure(world)
        council, state = power.council_power, power.state_power
        dual = council >= self.council_threshold and state >= self.state_threshold
        if dual and not verdict.dual_power:
            if verdict.dual_power_began < 0:
                verdict.dual_power_began = world.step
            world.log("dual_power_began", council / max(state, 1e-9), "both powers above threshold")
        elif verdict.dual_power and not dual:
            world.log(
                "dual_power_ended",
                council / max(state, 1e-9),
                f"last held on day {verdict.dual_power_ended}",
            )
        verdict.dual_power = dual
        if dual:
            verdict.dual_power_ended = world.step
        if verdict.dual_power_began < 0:
            return

        table = world.councils
        revolutionary = world.federation.revolutionary
        founded = table is not None and table.federation_founded >= 0 and table.federated.any()
        ratio = council / state if state > 0 else np.inf
        ready = world.step - verdict.last_insurrection >= self.insurrection_cooldown
        # The councils move to take power when they stand (dual power, or the state has already
        # fallen below its threshold), their federation has a revolutionary majority and the
        # balance allows.
        strong = council >= self.council_threshold
        if (
            strong
            and founded
            and revolutionary > self.majority
            and ratio >= self.insurrection_ratio
            and ready
        ):
            p = success_probability(ratio, self.insurrection_steepness)
            if rng.random() < p:
                world.log("insurrection", p, "succeeded")
                return self._resolve(world, "council_power")
            world.log("insurrection", p, "failed")
            verdict.last_insurrection = world.step
            levels = world.levels
            levels.offensive_until = world.step + self.counter_offensive_days
            levels.offensives += 1
            world.log("offensive", state / max(council, 1e-9), "after a failed insurrection")

        sitting = table is not None and table.federated.any()
        coopted = sitting and revolutionary < self.coopt_share
        verdict.coopted_days = verdict.coopted_days + 1 if coopted else 0
        verdict.weak_days = verdict.weak_days + 1 if council < self.council_threshold else 0
        if verdict.coopted_days >= self.settle_days:
            return self._resolve(world, "co_opted")
        if verdict.weak_days >= self.settle_days:
            # The councils no longer stand as a power: absorbed if their federation still sits
            # with its revolutionaries gone, crushed or melted away otherwise.
            return self._resolve(world, "co_opted" if coopted else "state_restored")
        return None

    def _measure(self, world: World) -> Power:
        table = world.councils
        n = world.population.n
        if table is None:
            production = territory = 0.0
        else:
            holding = table.alive & (table.members >= self.action_quorum * table.size)
            held = np.where(holding, table.size, 0.0)
            production = float(held[: table.n_firms].sum()) / n
            territory = float(held[table.n_firms :].sum()) / n
        s = world.soldiers
        police = float(world.officers().sum())  # soldiers are counted once, below
        if s is not None and s.n:
            loyal = s.n - int(s.defected.sum())
            coercion_share = (police + loyal) / (police + s.n)
            loyalty, defected = s.loyal_mean(), s.defected_share()
        else:
            coercion_share, loyalty, defected = (1.0 if police > 0 else 0.0), 1.0, 0.0
        world.power = power_balance(
            (self.production_weight, self.territory_weight, self.arms_weight),
            self.blockade_effect,
            production,
            territory,
            defected,
            coercion_share,
            loyalty,
            world.legitimacy,
        )
        return world.power

    def close(self, world: World) -> None:
        """Settle the outcome at the horizon.

        A run whose dual power has arisen but whose councils no longer stand as a power at the
        horizon (still inside the ``settle_days`` window) is settled as it would have been:
        co-opted or restored. Only a run with dual power still standing ends ``unresolved``.
        """
        verdict = world.verdict
        if verdict.outcome is not None or verdict.dual_power_began < 0:
            return
        if verdict.weak_days > 0:
            self._resolve(world, "co_opted" if verdict.coopted_days > 0 else "state_restored")

    @staticmethod
    def _resolve(world: World, outcome: str) -> None:
        verdict = world.verdict
        verdict.outcome = outcome
        verdict.resolved_step = world.step
        world.log("outcome", 1.0, outcome)
