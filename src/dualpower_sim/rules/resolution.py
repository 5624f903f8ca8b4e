"""The balance of power, dual power, and resolution (formulas in :mod:`dualpower_sim.outcomes`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..councils import CouncilTable
from ..kernels.power import hold_units
from ..outcomes import Power, power_balance, success_probability
from ..params import ParameterError, param
from ..world import World
from .base import Rule

__all__ = ["Resolution"]


@dataclasses.dataclass(frozen=True)
class Resolution(Rule):
    """Measure both powers, track dual power, attempt insurrections, and resolve the run.

    A state whose power stays below its threshold for ``settle_days`` days without being
    overthrown gives way to a successor government (a regime change, logged as
    ``regime_change``): before dual power has arisen this ends the run ``no_dual_power`` (the
    revolutions of 1989 "changed only the political regime", the article); after, the councils
    stand beside the new government (the Provisional Government beside the Soviet), and if they
    then melt away without an offensive they count as ``co_opted``, as do councils that melt away
    never attacked while the state concedes at least ``bought_off``. Councils are co-opted only
    by a state that can take them in (``StateStrategy.incorporation``); under one that
    cannot, councils that melt away leave the old order restored.

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
        coopt_share: Revolutionary share below which a sitting federation counts as co-opted,
            unless an offensive since dual power began has broken its councils (council power
            under its threshold): what is left of a crushed federation is not co-opted; nor is
            a federation beside a state that cannot take it in (``state.incorporation``).
        settle_days: Days a resolving condition must hold before the run resolves.
        counter_offensive_days: Length of the offensive that follows a failed insurrection.
        consent_weight: Weight of legitimacy (consent) against armed force (coercion x loyalty)
            in state power (Gramsci's consent armoured by coercion; our guess of its size).
        quorum_hysteresis: A council that holds its unit keeps holding it until the mobilized
            share falls below ``action_quorum - quorum_hysteresis``.
        successor_legitimacy: Least legitimacy of the government that takes office when the
            old one gives way (a new government's credit; a guess).
        bought_off: Concession level which, once reached during dual power, makes councils that
            melt away without ever being attacked count as co-opted (their demands were
            conceded) rather than as a restored order.
        leverage_size: Workers at which a workplace's strike carries half its full weight in
            production held: a unit of ``N`` workers counts ``N x N / (N + leverage_size)``.
            A stoppage in a workshop of a dozen weighs less in a city's economy than one in an
            integrated plant of thousands (workers' structural power: Wright 2000; Silver
            2003; the article's soviets of "giant industrial factories, increasingly based on
            assembly line production"). 0 weighs every striker alike. A guess: plausible 20
            to 200 workers.
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
    consent_weight: float = param(0.5, kind=float, low=0.0, high=1.0)
    quorum_hysteresis: float = param(0.1, kind=float, low=0.0, high=1.0)
    successor_legitimacy: float = param(0.5, kind=float, low=0.0, high=1.0)
    bought_off: float = param(0.25, kind=float, low=0.0, high=1.0)
    leverage_size: float = param(50.0, kind=float, low=0.0, high=1e6)

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
        # The government can no longer rule when the state's power, or its consent (legitimacy
        # times the supply still reaching it), is below the threshold.
        consent = world.legitimacy * (1.0 if world.levels.seat_outside else power.supply)
        ruling = state >= self.state_threshold and consent >= self.state_threshold
        verdict.fallen_days = 0 if ruling else verdict.fallen_days + 1

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
            verdict.dual_power_began >= 0
            and strong
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
            world.levels.launch(world.step, self.counter_offensive_days)
            world.log("offensive", state / max(council, 1e-9), "after a failed insurrection")

        if verdict.fallen_days >= self.settle_days:
            # Nobody took power from a state that can no longer rule: the government gives way.
            self._change_regime(world)
            if verdict.dual_power_began < 0:
                return self._resolve(world, "no_dual_power")
        if verdict.dual_power_began < 0:
            return None

        sitting = table is not None and table.federated.any()
        # What is left of a federation the state's offensive has broken is crushed, not a
        # reformist body inside the state order, even when its revolutionaries are gone (to
        # jail): co-optation is judged only while the councils stand or were never attacked.
        crushed = (
            world.levels.offensive_began >= verdict.dual_power_began
            and council < self.council_threshold
        )
        # Only a state order that can take the moderates in co-opts them: under a one-party
        # state a moderate federation stays a power beside it (Solidarity, 1980-81).
        coopted = (
            world.levels.incorporates
            and sitting
            and revolutionary < self.coopt_share
            and not crushed
        )
        verdict.coopted_days = verdict.coopted_days + 1 if coopted else 0
        verdict.weak_days = verdict.weak_days + 1 if council < self.council_threshold else 0
        if verdict.coopted_days >= self.settle_days:
            return self._resolve(world, "co_opted")
        if verdict.weak_days >= self.settle_days:
            # The councils no longer stand as a power: absorbed if their federation still sits
            # with its revolutionaries gone or they melted away under a new government they did
            # not make, crushed or melted away under the old order otherwise.
            return self._resolve(world, "co_opted" if self._absorbed(world) else "state_restored")
        return None

    def _change_regime(self, world: World) -> None:
        """The government gives way to a successor (1989; El Alto's presidents; February 1917).

        The successor takes office with at least ``successor_legitimacy`` and calls off the old
        government's repression and offensive; the soldiers, police and the councils stay.
        """
        verdict = world.verdict
        verdict.regime_changed = world.step
        verdict.regime_changes += 1
        verdict.fallen_days = 0
        world.log(
            "regime_change",
            world.power.state_power,
            f"the government gave way (legitimacy {world.legitimacy:.2f} -> "
            f"{max(world.legitimacy, self.successor_legitimacy):.2f})",
        )
        world.legitimacy = max(world.legitimacy, self.successor_legitimacy)
        levels = world.levels
        levels.repression = 0.0
        levels.offensive_until = -1

    def _absorbed(self, world: World) -> bool:
        """Whether councils that no longer stand as a power were co-opted rather than crushed."""
        verdict, levels = world.verdict, world.levels
        if not levels.incorporates:
            return False  # nothing to be absorbed into: they melted away under the old order
        if verdict.coopted_days > 0:
            return True
        # Melted away under a new government they did not make, with no offensive since.
        if verdict.regime_changed >= 0 and levels.offensive_began < verdict.regime_changed:
            return True
        # Bought off: melted away with their demands conceded, never attacked.
        return (
            levels.offensive_began < verdict.dual_power_began and levels.conceded >= self.bought_off
        )

    def _measure(self, world: World) -> Power:
        table = world.councils
        n = world.population.n
        if table is None:
            production = territory = 0.0
        else:
            # A council holds its unit once a quorum is out, and keeps holding until the unit
            # falls below the quorum less the hysteresis: a strike or blockade, once called,
            # is not called off and on again by a day's headcount.
            held_residents = hold_units(
                table.members,
                table.size,
                table.alive,
                table.holding,
                world.strike_share,
                self.action_quorum,
                self.action_quorum - self.quorum_hysteresis,
                table.n_firms,
            )
            # The held units' weights summed by numpy (pairwise, in the same order on every CPU),
            # not by a dot product: BLAS adds in the order of the kernel it picks for the CPU
            # (OpenBLAS's SkylakeX kernel on an AVX-512 machine, its Haswell one elsewhere), so
            # a dot product made the last bit of council power, and so a run, depend on the
            # machine.
            held = table.holding[: table.n_firms]
            production = float(self._weights(world, table)[held].sum()) / n
            territory = held_residents / n
        s = world.soldiers
        police = float(world.officers().sum())  # soldiers are counted once, below
        supply = 1.0 - self.blockade_effect * territory
        if s is not None and s.n:
            loyal, outside, loyalty = s.loyal()
            inside = loyal - outside
            # Blockades starve the forces in the city; an army outside it is supplied from the
            # rest of the country (Versailles, 1871).
            coercion_share = ((police + inside) * supply + outside) / (police + s.n)
            defected = (s.n - loyal) / s.n
        else:
            coercion_share, loyalty, defected = (supply if police > 0 else 0.0), 1.0, 0.0
        world.power = power_balance(
            (self.production_weight, self.territory_weight, self.arms_weight),
            self.blockade_effect,
            production,
            territory,
            defected,
            coercion_share,
            loyalty,
            world.legitimacy,
            self.consent_weight,
        )
        return world.power

    def _weights(self, world: World, table: CouncilTable) -> np.ndarray:
        """Each workplace unit's weight in production when held (its size times its leverage)."""
        weights = world.memory.get("resolution.leverage")
        if weights is None or weights.size != table.n_firms:
            size = table.size[: table.n_firms]
            leverage = size / (size + self.leverage_size) if self.leverage_size > 0 else 1.0
            weights = world.memory["resolution.leverage"] = size * leverage
        return weights

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
            self._resolve(world, "co_opted" if self._absorbed(world) else "state_restored")

    @staticmethod
    def _resolve(world: World, outcome: str) -> None:
        verdict = world.verdict
        verdict.outcome = outcome
        verdict.resolved_step = world.step
        world.log("outcome", 1.0, outcome)
