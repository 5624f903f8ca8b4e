"""The debate inside the councils: who is a moderate and who a revolutionary.

Only council members debate (mobilized workers of a unit whose council sits), at their council's
meetings, every ``meeting_interval`` days (the rates below are per day, compounded over the
interval). At a meeting:

- members with no allegiance take a side with probability ``politicisation`` (joining a soviet
  politicises), revolutionary with the probability of their council's revolutionary share,
  moderate otherwise;
- moderates become revolutionaries with probability ``1 - exp(-(persuasion x c +
  radicalisation x repression))``, ``c`` the share of the member's ties that are party cadres
  ("the Bolshevik party ... won the debate within the soviets", the article) and ``repression``
  the state's repression level (repression radicalises);
- revolutionaries become moderates with probability ``1 - exp(-moderation x concession)``
  (concessions moderate);
- after an offensive that the councils survived (``levels.repelled``), moderates meeting within
  the next ``meeting_interval`` days who have a cadre among their ties turn revolutionary with
  probability ``backlash`` (Kornilov's failed coup of late August 1917 turned the Petrograd
  Soviet Bolshevik within days: the party that had called for the defence and armed the Red
  Guards gained from it, Rabinowitch 1976); with no party to hear, the backlash turns no one;
- the party recruits: a revolutionary member becomes a cadre with probability
  ``1 - exp(-recruitment x c)`` per day (the Bolsheviks' Petrograd membership grew roughly
  tenfold between February and the summer of 1917), so that the party's reach grows with the
  movement rather than hanging on its size in February.

Party cadres are revolutionaries who argue inside councils; ``cadres`` of them are placed in the
largest workplaces (``placement="workplace"``), in a few neighbourhoods (``"territorial"``) or
anywhere (``"random"``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..kernels.debate import debate, meeting_members
from ..params import ParameterError, param
from ..population import Allegiance
from ..world import World
from .base import Rule

__all__ = ["Debate"]

_REV = int(Allegiance.REVOLUTIONARY)


@dataclasses.dataclass(frozen=True)
class Debate(Rule):
    """Party cadres, repression and concessions move members between moderate and revolutionary.

    Attributes:
        cadres: Number of party cadres.
        cadre_share: Party cadres as a share of the workers, or None to use ``cadres``; a
            share keeps a scenario's party the same size when the city is scaled up.
        placement: Where cadres work or live: ``"workplace"`` (the largest firms, like the
            Bolsheviks at the Putilov works), ``"territorial"`` (a tenth of the neighbourhoods)
            or ``"random"``.
        persuasion: Daily conversion hazard of a moderate member per unit cadre share of ties.
        radicalisation: Daily conversion hazard of a moderate member at full repression.
        moderation: Daily hazard that a revolutionary member turns moderate at full concessions.
        politicisation: Daily probability that a member with no allegiance takes a side.
        meeting_interval: Days between a member's council meetings; each day a different
            cohort of members meets and the hazards are compounded over the interval (weekly
            meetings by default, which also spares a full pass over the workers every day).
        backlash: Probability that a moderate member with a party cadre among their ties,
            meeting in the days after a repelled offensive, turns revolutionary (the party
            reaps the backlash; members with no cadre to hear are not turned by it).
        recruitment: Daily hazard that a revolutionary member becomes a party cadre, per unit
            cadre share of their ties.
    """

    name: ClassVar[str] = "debate"

    cadres: int = param(0, kind=int, low=0)
    cadre_share: float | None = param(None, kind=float, low=0.0, high=1.0, optional=True)
    placement: str = param("workplace", kind=str, choices=("workplace", "territorial", "random"))
    persuasion: float = param(0.1, kind=float, low=0.0, high=100.0)
    radicalisation: float = param(0.005, kind=float, low=0.0, high=10.0)
    moderation: float = param(0.05, kind=float, low=0.0, high=10.0)
    politicisation: float = param(0.05, kind=float, low=0.0, high=1.0)
    meeting_interval: int = param(7, kind=int, low=1, high=365)
    backlash: float = param(0.5, kind=float, low=0.0, high=1.0)
    recruitment: float = param(0.1, kind=float, low=0.0, high=100.0)

    def validate(self) -> None:  # noqa: D102
        if self.cadre_share is not None and self.cadres:
            raise ParameterError(
                "Debate.cadre_share",
                self.cadre_share,
                f"allowed: unset when cadres is set (cadres = {self.cadres}); give one of the two",
            )

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        pop = world.population
        wanted = self.cadres if self.cadre_share is None else round(self.cadre_share * pop.n)
        k = min(wanted, pop.n)
        if self.placement == "workplace":
            # The largest firms first, as many as it takes to hold 20 workers per cadre.
            city = world.city
            order = np.argsort(-city.firm_size, kind="stable")
            covered = np.cumsum(city.firm_size[order])
            firms = order[: int(np.searchsorted(covered, 20 * k)) + 1]
            pool = np.flatnonzero(np.isin(pop.firm, firms))
        elif self.placement == "territorial":
            n_nb = world.city.n_neighbourhoods
            chosen = rng.choice(n_nb, size=max(1, n_nb // 10), replace=False)
            pool = np.flatnonzero(np.isin(pop.neighbourhood, chosen))
        else:
            pool = np.arange(pop.n)
        cadre = np.zeros(pop.n, dtype=bool)
        if k:
            cadre[rng.choice(pool, size=min(k, pool.size), replace=False)] = True
        pop.allegiance[cadre] = _REV
        world.cadre = cadre
        world.memory["debate.exposure"] = world.network.share_tracker()

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        pop = world.population
        # Councils meet every ``meeting_interval`` days; each day one cohort of workers (by id)
        # (first, first + k, ...) attends, and the day's hazards are compounded over the interval.
        k = self.meeting_interval
        first = world.step % k
        table = world.councils
        assert table is not None and world.workplace_unit is not None  # the council rule's
        assert world.cadre is not None  # made in setup
        members = meeting_members(
            pop.status,
            world.workplace_unit,
            pop.neighbourhood,
            table.alive,
            table.n_firms,
            first,
            k,
        )
        if not members.size:
            return
        u = rng.random(members.size)  # one uniform per member for taking and changing sides
        # Recruitment's own draw (drawn here, before the meeting changes anyone: no other draw
        # comes between the two).
        u_join = rng.random(members.size) if self.recruitment > 0 else np.empty(0)
        levels = world.levels
        p_side = 1.0 - (1.0 - self.politicisation) ** k
        debate(
            members,
            pop.allegiance,
            world.cadre,
            world.memory["debate.exposure"](world.cadre),
            world.workplace_unit,
            pop.neighbourhood,
            table.alive,
            table.revolutionary,
            table.n_firms,
            u,
            u_join,
            p_side,
            # The same uniform, rescaled to [0, 1) within the taking-side band, draws the side.
            max(p_side, 1e-12),
            k,
            self.persuasion,
            self.radicalisation * levels.repression,  # repression radicalises
            # The backlash after a failed attack goes to the party that called for the defence:
            # it turns those who hear a cadre, and no one where there is no party to turn to.
            levels.repelled >= 0 and world.step - levels.repelled <= k,
            self.backlash,
            1.0 - np.exp(-k * self.moderation * levels.concession),  # concessions moderate
            -k * self.recruitment,
        )
