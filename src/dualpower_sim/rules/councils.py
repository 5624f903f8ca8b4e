"""Councils form, recruit, federate and dissolve (see :mod:`dualpower_sim.councils`).

Each day, from the mobilized workers of every unit (vectorised over units, never over workers):

1. members of a sitting council are the unit's mobilized workers; a council dissolves when they
   fall below ``dissolve_share`` of the unit ("members fall away");
2. a unit without a council forms one with daily probability ``formation_rate x layer weight``
   when its mobilized share reaches ``formation_share`` and it has ``min_members`` mobilized;
3. once ``founding_councils`` sit, they found the federation; a sitting council outside it
   decides at its weekly meeting and joins with probability ``1 - exp(-7 (base_join_rate +
   join_rate x e))``, ``e`` the mean share of its members' ties that reach members of federated
   councils (delegates and the ties of their members);
4. the federation's size, revolutionary share and cohesion are recorded.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..councils import CouncilTable, Federation, cohesion, member_mask
from ..params import ParameterError, param
from ..population import Allegiance
from ..world import KeyCounter, World
from .base import Rule

__all__ = ["CouncilRule"]

_NONE, _MOD, _REV = (int(a) for a in Allegiance)
if [int(a) for a in Allegiance] != [0, 1, 2]:  # the counting keys below rely on these codes
    raise ImportError("Allegiance codes changed: NONE, MODERATE, REVOLUTIONARY must be 0, 1, 2")

#: Federation sizes (councils) logged as milestones.
MILESTONES = (1, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


@dataclasses.dataclass(frozen=True)
class CouncilRule(Rule):
    """How councils form, federate and dissolve.

    Attributes:
        formation_share: Mobilized share of a unit at which a council can form.
        min_members: Fewest mobilized workers a council needs; a workshop of three cannot hold a
            soviet on its own.
        formation_rate: Daily probability that an eligible unit forms a council, before the
            layer weight (workplace councils ``1 - territorial_share``, assemblies
            ``territorial_share``: a city organises as its traditions allow).
        dissolve_share: A council dissolves when its members fall below this share of the unit.
        delegate_ratio: Members per delegate (St Petersburg 1905: one deputy per 500 workers).
        founding_councils: Sitting councils needed to found the federation.
        join_rate: Daily joining rate per unit of member exposure to the federation.
        base_join_rate: Daily joining rate without such ties (word of the press or the street).
        sectionalism: How far councils fail to cut across trades (0: they federate whatever
            their trade, as the article says councils did; 1: the federation is founded by one
            trade's councils and others join only as far as theirs is already in it, and
            neighbourhood assemblies, which mix trades, do not join).
        chains_organise: If true, the workers of small firms that subcontract for a lead firm
            organise in the lead firm's council; if false (the default), each firm is its own
            unit. Harvey, quoted in the article, has the employers keep such workshops
            "perpetually in competition for work", controlled "at a distance": the chain ties
            their workers to the lead firm's (the workplace network), but gives them no common
            council. (Versions before 0.2 organised chains together.)
    """

    name: ClassVar[str] = "councils"

    formation_share: float = param(0.5, kind=float, low=0.0, low_open=True, high=1.0)
    min_members: int = param(20, kind=int, low=1)
    formation_rate: float = param(0.3, kind=float, low=0.0, high=1.0)
    dissolve_share: float = param(0.05, kind=float, low=0.0, high=1.0)
    delegate_ratio: int = param(500, kind=int, low=1)
    founding_councils: int = param(3, kind=int, low=1)
    join_rate: float = param(2.0, kind=float, low=0.0, high=100.0)
    base_join_rate: float = param(0.01, kind=float, low=0.0, high=1.0)
    sectionalism: float = param(0.0, kind=float, low=0.0, high=1.0)
    chains_organise: bool = param(False, kind=bool)

    def validate(self) -> None:  # noqa: D102
        if self.dissolve_share >= self.formation_share:
            raise ParameterError(
                "CouncilRule.dissolve_share",
                self.dissolve_share,
                f"allowed: below formation_share = {self.formation_share}",
            )

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        city = world.city
        pop = world.population
        # Subcontractors kept in competition for work organise on their own (Harvey, in the
        # article), unless chains are asked to organise together.
        org_firm = np.arange(city.n_firms)
        if self.chains_organise:
            org_firm = np.where(city.firm_lead >= 0, city.firm_lead, org_firm)
        world.workplace_unit = org_firm[pop.firm]
        world.memory["councils.counter"] = KeyCounter(
            [(world.workplace_unit, city.n_firms), (pop.neighbourhood, city.n_neighbourhoods)], 4
        )
        n_units = city.n_firms + city.n_neighbourhoods
        world.memory["councils.weekday"] = np.arange(n_units) % 7
        # Federated members by division (sector x union membership) and allegiance, 3 for
        # workers outside the federation.
        world.memory["councils.division_counter"] = KeyCounter(
            [(pop.sector.astype(np.int64) * 2 + pop.union, len(pop.sector_names) * 2)], 4
        )
        unit_workforce = np.bincount(org_firm, weights=city.firm_size, minlength=city.n_firms)
        size = np.concatenate([unit_workforce, world.residents.astype(np.float64)])
        world.councils = CouncilTable.empty(city.n_firms, city.n_neighbourhoods, size)
        weights = city_weights(world)
        world.memory["councils.unit_weight"] = np.concatenate(
            [np.full(city.n_firms, weights[0]), np.full(city.n_neighbourhoods, weights[1])]
        )
        world.memory["councils.population_counts"] = _division_counts(pop, np.ones(pop.n, bool))
        # A workplace unit's trade (its firm's sector); neighbourhoods have none (-1).
        world.memory["councils.unit_sector"] = np.concatenate(
            [city.firm_sector.astype(np.int64), np.full(city.n_neighbourhoods, -1)]
        )
        world.federation = Federation()

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        table = world.councils
        assert table is not None  # made in setup
        pop = world.population
        mob = pop.mobilized()
        # Per unit, the mobilized by allegiance: each worker's key is their allegiance if
        # mobilized, 3 if not, counted per workplace unit and per neighbourhood (updated from
        # the workers whose key changed since yesterday).
        # (arithmetic rather than np.where, which is twenty times slower on int8 here)
        key = pop.allegiance + (np.int8(3) - pop.allegiance) * ~mob
        by_work, by_home = world.memory["councils.counter"](key)
        counts = np.concatenate([by_work, by_home])
        aligned_sum = (counts[:, _MOD] + counts[:, _REV]).astype(np.float64)
        rev_sum = counts[:, _REV].astype(np.float64)
        table.members[:] = aligned_sum + counts[:, _NONE]
        # Councils grow out of strikes and blockades: of the mobilized, only the striking share
        # counts (crowds demonstrating against the regime go back to work).
        share = table.members * world.strike_share / np.maximum(table.size, 1.0)

        fell_away = table.alive & (share < self.dissolve_share)
        for unit in fell_away.nonzero()[0]:  # a handful a day, not workers
            world.log(
                "council_dissolved", table.members[unit], f"{table.kind(unit)} {unit}: fell away"
            )
        dissolve(table, fell_away)

        eligible = (
            (~table.alive) & (share >= self.formation_share) & (table.members >= self.min_members)
        )
        p = self.formation_rate * world.memory["councils.unit_weight"]
        new = eligible & (rng.random(eligible.size) < p)
        table.alive |= new
        table.formed[new] = world.step
        for unit in new.nonzero()[0]:
            world.log("council_formed", table.members[unit], f"{table.kind(unit)} {unit}")

        table.revolutionary[:] = np.divide(
            rev_sum, aligned_sum, out=np.zeros_like(rev_sum), where=aligned_sum > 0
        )
        self._federate(world, table, mob, rng)

    def _exposure(
        self, world: World, table: CouncilTable, mob: np.ndarray, waiting: np.ndarray
    ) -> np.ndarray:
        """Mean share of each waiting council's members' ties that reach federated members.

        Computed only for members of the councils in ``waiting`` (those outside the federation
        meeting today), from yesterday's federated members.
        """
        exposure = np.zeros(table.alive.size)
        fed_member = world.memory.get("councils.fed_member")
        if fed_member is None or not waiting.any():
            return exposure
        # The waiting councils' mobilized members, listed from the councils (a few hundred
        # councils meet a day) rather than found by a pass over every worker.
        x = fed_member.astype(np.float64)
        total = np.zeros(exposure.size)
        assert world.workplace_unit is not None  # set in setup
        nf = table.n_firms
        for groups, unit_of, offset, units in (
            (world.unit_groups, world.workplace_unit, 0, waiting[:nf]),
            (world.neighbourhood_groups, world.population.neighbourhood, nf, waiting[nf:]),
        ):  # two kinds of council, not workers
            if not units.any():  # no council of this kind meets today
                continue
            who = groups.members(units)
            who = who[mob[who]]
            share = world.network.neighbour_share_of(who, x)
            total += np.bincount(offset + unit_of[who], weights=share, minlength=total.size)
        np.divide(total, table.members, out=exposure, where=table.members > 0)
        return exposure

    def _federate(self, world: World, table: CouncilTable, mob, rng) -> None:
        sector = world.memory["councils.unit_sector"]
        if table.federation_founded < 0:
            if table.alive.sum() < self.founding_councils:
                return
            founders = table.alive.copy()
            if self.sectionalism > 0:
                # A sectional movement is founded by the largest council and those of its trade.
                workplace = table.alive & (sector >= 0)
                if not workplace.any():
                    return
                biggest = int(np.argmax(np.where(workplace, table.members, -1.0)))
                founders &= sector == sector[biggest]
            table.federation_founded = world.step
            table.federated[:] = founders
            world.log("federation_founded", int(founders.sum()), "councils")
        # Councils decide whether to join at their weekly meeting (each on its own weekday),
        # on the week's compounded daily rate.
        meeting = world.memory["councils.weekday"] == world.step % 7
        candidates = table.alive & ~table.federated & meeting
        mean_exposure = self._exposure(world, table, mob, candidates)
        before = int(table.federated.sum())
        rate = 7.0 * (self.base_join_rate + self.join_rate * mean_exposure)
        if self.sectionalism > 0:
            fed_sector = np.bincount(
                sector[table.federated & (sector >= 0)],
                weights=table.members[table.federated & (sector >= 0)],
                minlength=world.population.sector_names.__len__(),
            )
            similar = np.where(sector >= 0, fed_sector[sector] / max(fed_sector.sum(), 1.0), 0.0)
            rate = rate * (1.0 - self.sectionalism * (1.0 - similar))
        join = candidates & (rng.random(candidates.size) < 1.0 - np.exp(-rate))
        table.federated |= join
        after = int(table.federated.sum())
        for m in MILESTONES:
            if before < m <= after:
                world.log("federation_milestone", after, f"{m}+ councils")
        fed_member = federated_members(world, mob)
        world.memory["councils.fed_member"] = fed_member
        pop = world.population
        key = pop.allegiance + (np.int8(3) - pop.allegiance) * ~fed_member
        (by_division,) = world.memory["councils.division_counter"](key)
        counts = _margins(by_division[:, : len(Allegiance)], len(pop.sector_names))
        allegiance = counts[2]
        # Soldiers who went over bring their arms (council power), not a majority: the soldiers'
        # section of the Petrograd Soviet followed the moderate socialists until the autumn of
        # 1917, so they are counted as the workers beside them vote.
        revolutionary = allegiance[2]
        aligned = allegiance[1] + revolutionary
        world.federation = Federation(
            members=float(allegiance.sum()),
            revolutionary=float(revolutionary / aligned) if aligned else 0.0,
            cohesion=cohesion(counts, world.memory["councils.population_counts"]),
        )


def city_weights(world: World) -> tuple[float, float]:
    """Workplace and territorial layer weights of the city (1 and 1 for validation topologies)."""
    weights = world.network.weights
    if "workplace" not in weights:
        return 1.0, 1.0
    return weights["workplace"], weights["territorial"]


def federated_members(world: World, mobilized: np.ndarray) -> np.ndarray:
    """Mask of mobilized workers whose workplace council or assembly is federated."""
    assert world.councils is not None and world.workplace_unit is not None  # the council rule's
    return member_mask(
        world.councils, world.workplace_unit, world.population.neighbourhood, mobilized, True
    )


def dissolve(table: CouncilTable, units: np.ndarray) -> None:
    """Dissolve the councils of ``units`` (a mask): they leave the federation too."""
    table.alive[units] = False
    table.federated[units] = False
    table.holding[units] = False
    table.formed[units] = -1


def _division_counts(pop, mask: np.ndarray) -> list[np.ndarray]:
    """Counts by sector, union membership and allegiance among the workers in ``mask``."""
    n_sectors, n_allegiance = len(pop.sector_names), len(Allegiance)
    # One pass over a joint key (sector, union, allegiance); the margins are the divisions.
    key = (pop.sector.astype(np.int64) * 2 + pop.union) * n_allegiance + pop.allegiance
    joint = np.bincount(key, weights=mask, minlength=n_sectors * 2 * n_allegiance)
    return _margins(joint.reshape(-1, n_allegiance), n_sectors)


def _margins(joint: np.ndarray, n_sectors: int) -> list[np.ndarray]:
    """Sector, union and allegiance margins of (sector x 2 + union) x allegiance counts."""
    joint = np.asarray(joint, dtype=np.float64).reshape(n_sectors, 2, -1)
    return [joint.sum(axis=(1, 2)), joint.sum(axis=(0, 2)), joint.sum(axis=(0, 1))]
