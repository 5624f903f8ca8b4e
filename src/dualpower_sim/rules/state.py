"""The state's strategy: repression, concessions, and the offensive.

Each day the state reads the balance of power (computed by the resolution rule just before) and
sets its levers for the next day:

- **repression** moves toward ``min(1, repression_weight x council power)``: more police in the
  streets (``1 + police_surge x level`` times the base density) and ``deployment x level`` of
  the loyal soldiers beside them (during an offensive, as many as the balance of force
  allows), councils broken up (daily
  probability ``dissolve_rate x level`` each), soldiers sent against crowds, and a backlash:
  legitimacy falls by ``repression_cost x level`` a day and members radicalise (debate rule);
- **concessions** move toward ``min(1, concession_weight x max(council power, mobilized
  share))``: hardship falls by
  ``concession_relief x level`` for everyone, legitimacy rises by ``concession_gain x level`` a
  day, and revolutionaries moderate (debate rule), which invites co-optation;
- the **offensive**: when councils sit and the movement hesitates (mobilization fell by
  ``hesitation_drop`` over ``hesitation_window`` days) or divides (federation cohesion below
  ``division_cohesion``), or, once, when the state's reinforcements have all arrived
  (``levels.forces_ready``, set by the soldiers' rule: an offensive prepared for its own sake,
  as Versailles's in May 1871), and the state's power is at least ``offensive_ratio`` times the
  councils', the state attacks with daily probability ``offensive_readiness``: for
  ``offensive_days`` days repression is total, the soldiers outside the city come in, and the
  offensive bites as far as the balance of force allows, ``b = r^s / (1 + r^s)``, ``r`` the
  state-to-council power ratio and ``s`` the ``offensive_steepness``: a share ``max(deployment,
  b)`` of the loyal soldiers is sent into the streets and councils are broken up at
  ``offensive_dissolve_rate x b`` a day. An offensive that ends
  with the councils still standing is logged as repelled (the debate rule's backlash).

Legitimacy also erodes by ``hardship_erosion`` per unit of mean hardship above
``hardship_tolerance`` a day, and by ``protest_cost`` per unit of mobilized share (unless the
government sits outside the city).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import ClassVar

import numpy as np

from ..kernels.power import broken_up
from ..outcomes import success_probability
from ..params import param
from ..world import World
from .base import Rule
from .councils import dissolve

__all__ = ["SEATS", "StateStrategy"]

#: Where the government sits (see :attr:`StateStrategy.seat`).
SEATS = ("city", "outside")


@dataclasses.dataclass(frozen=True)
class StateStrategy(Rule):
    """The state's answer to the councils.

    Attributes:
        repression_weight: Repression target per unit of council power.
        concession_weight: Concession target per unit of council power.
        offensive_readiness: Daily probability of attacking when the movement hesitates or
            divides, or the state's reinforcements have all arrived, and the balance allows; 0
            never attacks.
        response_rate: Share of the gap to a target level closed each day.
        police_surge: Extra police at full repression, as a multiple of the base density.
        deployment: Share of loyal soldiers sent into the streets at full repression (during
            an offensive, at least this share and up to all of them as the balance of force
            allows); deployed soldiers arrest and deter like police.
        dissolve_rate: Daily probability that a sitting council is broken up at full repression.
        offensive_dissolve_rate: The same during an offensive.
        offensive_days: Length of an offensive, in days.
        offensive_steepness: Steepness ``s`` of the offensive's success ``r^s / (1 + r^s)`` at
            state-to-council power ratio ``r``: councils are broken up at
            ``offensive_dissolve_rate`` times that a day.
        hesitation_window: Days over which a fall in mobilization is judged.
        hesitation_drop: Relative fall in mobilization over the window that counts as hesitation.
        division_cohesion: Federation cohesion below which the movement counts as divided.
        offensive_ratio: Least ratio of state to council power at which the state attacks.
        hardship_tolerance: Mean hardship above which legitimacy erodes.
        hardship_erosion: Daily legitimacy loss per unit of mean hardship above the tolerance.
        repression_cost: Daily legitimacy loss at full repression (the backlash).
        concession_gain: Daily legitimacy gain at full concessions.
        concession_relief: Hardship removed from every worker at full concessions.
        protest_cost: Daily legitimacy loss per unit of mobilized share: a crowd shows how few
            still believe in the regime (Lohmann 1994; Kuran 1991).
        successor_restraint: Days after a regime change during which the successor government
            launches no offensive on hesitation or division (it took office on the movement's
            wave; a guess).
        seat: Where the government sits: ``"city"``, or ``"outside"`` (Versailles, 1871), where
            the city's crowds and blockades do not wear away its consent.
        incorporation: Whether the state order can take the councils' moderates in: socialist
            ministers in a coalition (the Provisional Government's of May and July 1917), a
            constituent assembly the councils hand their power to (Germany, December 1918).
            Only such a state co-opts councils (the resolution rule). ``False`` for a one-party
            state that admits no organised force beside the party (Poland 1980-81: the Gdansk
            Agreement had Solidarity accept the party's "leading role in the state" and
            offered it no share of power): a moderate federation then stays an independent
            power beside it until it is crushed or melts away.
    """

    name: ClassVar[str] = "state"

    repression_weight: float = param(1.0, kind=float, low=0.0, high=10.0)
    concession_weight: float = param(0.3, kind=float, low=0.0, high=10.0)
    offensive_readiness: float = param(0.2, kind=float, low=0.0, high=1.0)
    response_rate: float = param(0.2, kind=float, low=0.0, low_open=True, high=1.0)
    police_surge: float = param(1.0, kind=float, low=0.0, high=20.0)
    deployment: float = param(0.2, kind=float, low=0.0, high=1.0)
    dissolve_rate: float = param(0.01, kind=float, low=0.0, high=1.0)
    offensive_dissolve_rate: float = param(0.15, kind=float, low=0.0, high=1.0)
    offensive_days: int = param(14, kind=int, low=1)
    offensive_steepness: float = param(2.0, kind=float, low=0.0, high=50.0)
    hesitation_window: int = param(7, kind=int, low=1)
    hesitation_drop: float = param(0.1, kind=float, low=0.0, high=1.0)
    division_cohesion: float = param(0.75, kind=float, low=0.0, high=1.0)
    offensive_ratio: float = param(0.5, kind=float, low=0.0, high=100.0)
    hardship_tolerance: float = param(0.5, kind=float, low=0.0, high=1.0)
    hardship_erosion: float = param(0.01, kind=float, low=0.0, high=1.0)
    repression_cost: float = param(0.001, kind=float, low=0.0, high=1.0)
    concession_gain: float = param(0.006, kind=float, low=0.0, high=1.0)
    concession_relief: float = param(0.2, kind=float, low=0.0, high=1.0)
    protest_cost: float = param(0.005, kind=float, low=0.0, high=1.0)
    successor_restraint: int = param(100, kind=int, low=0)
    seat: str = param("city", kind=str, choices=SEATS)
    incorporation: bool = param(True, kind=bool)

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        world.levels.base_coercion = float(world.coercion.mean()) if world.coercion.size else 0.0
        world.levels.seat_outside = self.seat == "outside"
        world.levels.incorporates = self.incorporation
        world.memory["state.mobilized"] = deque(maxlen=self.hesitation_window + 1)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        levels = world.levels
        table = world.councils
        sitting = table.count if table is not None else 0  # councils sitting: counted once
        power = world.power
        council, state = power.council_power, power.state_power
        history = world.memory["state.mobilized"]
        if (
            levels.offensive_until == world.step - 1
            and world.verdict.dual_power_began >= 0
            and world.verdict.weak_days == 0
        ):
            # The offensive ended yesterday and the councils still stand (Kornilov, 1917).
            levels.repelled = world.step
            world.log("offensive_repelled", council, "the councils still stand")
        history.append(world.mobilized_by_neighbourhood().sum() / world.population.n)

        # The offensive: strike at a hesitating or divided movement when the balance allows.
        if not levels.on_offensive(world.step) and table is not None and sitting:
            hesitating = (
                len(history) == history.maxlen
                and history[-1] < (1 - self.hesitation_drop) * history[0]
            )
            divided = (
                table.federation_founded >= 0 and world.federation.cohesion < self.division_cohesion
            )
            strong = state >= self.offensive_ratio * council
            # A government that took office on the movement's wave does not turn on it at once.
            changed = world.verdict.regime_changed
            restrained = changed >= 0 and world.step - changed < self.successor_restraint
            # Or with its forces concentrated: a state that has brought its reinforcements in
            # full attacks whatever the movement does (Versailles, May 1871), once.
            prepared = levels.prepared()
            if (
                (hesitating or divided or prepared)
                and strong
                and not restrained
                and rng.random() < self.offensive_readiness
            ):
                levels.launch(world.step, self.offensive_days)
                if hesitating or divided:
                    why = "against a movement in " + ("hesitation" if hesitating else "division")
                else:
                    why = "with its forces concentrated"
                world.log("offensive", state / max(council, 1e-9), why)

        offensive = levels.on_offensive(world.step)
        before = levels.repression
        target_r = 1.0 if offensive else min(1.0, self.repression_weight * council)
        levels.repression += self.response_rate * (target_r - levels.repression)
        if offensive:
            levels.repression = 1.0
        if before < 0.5 <= levels.repression:
            world.log("repression_wave", levels.repression, "repression above half strength")
        old_c = levels.concession
        # A state concedes to the movement in the streets, councils or not (France withdrew the
        # CPE in 2006 before any council sat): the target follows the larger of council power
        # and the mobilized share.
        target_c = min(1.0, self.concession_weight * max(council, history[-1]))
        levels.concession += self.response_rate * (target_c - levels.concession)
        if world.verdict.dual_power_began >= 0:
            levels.conceded = max(levels.conceded, levels.concession)
        if old_c < 0.25 <= levels.concession:
            world.log("concession", levels.concession, "concessions above a quarter strength")

        # An offensive bites as far as the balance of force allows: the contest function of the
        # two powers (as an insurrection succeeds), so an offensive against councils that rest on
        # a garrison gone over (1917) fails where one with a loyal army behind it (1905, 1871)
        # crushes. It sets how many of the loyal soldiers the state can bring into the streets
        # (Kornilov's troops were halted on the railways before they reached Petrograd) and how
        # fast councils are broken up.
        bite = (
            success_probability(state / max(council, 1e-9), self.offensive_steepness)
            if offensive
            else 0.0
        )
        world.coercion[:] = levels.base_coercion * (1.0 + self.police_surge * levels.repression)
        levels.deployed = (
            max(self.deployment, bite) if offensive else self.deployment * levels.repression
        )
        world.relief = self.concession_relief * levels.concession

        if table is not None and sitting:
            if offensive:
                rate = self.offensive_dissolve_rate * bite
            else:
                rate = self.dissolve_rate * levels.repression
            broken, count = broken_up(table.alive, rng.random(table.alive.size), rate)
            if count:
                dissolve(table, broken)
                world.log("councils_broken_up", count, "by the state")

        mean_hardship = float(world.hardship.sum()) / world.hardship.size  # = .mean(), cheaper
        d_legitimacy = (
            -self.hardship_erosion * max(0.0, mean_hardship - self.hardship_tolerance)
            - self.repression_cost * levels.repression
            - (self.protest_cost * history[-1] if self.seat == "city" else 0.0)
            # Concessions win back legitimacy from a movement over bread and wages, not from one
            # aimed at the regime itself, which reads them as weakness (Tocqueville).
            + self.concession_gain * levels.concession * world.strike_share
        )
        # min/max of Python floats: what np.clip gives a scalar, without its array round trip
        world.legitimacy = min(max(float(world.legitimacy + d_legitimacy), 0.0), 1.0)
