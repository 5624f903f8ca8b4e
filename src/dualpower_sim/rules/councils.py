"""Councils form, recruit, federate and dissolve (see :mod:`dualpower_sim.councils`).

Each day, from the mobilized workers of every unit (counted by compiled kernels, in one pass over
the workers that updates the counts from those whose state changed: see
:mod:`dualpower_sim.kernels.councils`):

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

from ..councils import CouncilTable, Federation, cohesion
from ..kernels.councils import (
    count_selected,
    division_margins,
    federated_divisions,
    join_rates,
    sit_and_form,
)
from ..params import ParameterError, param
from ..population import Allegiance, Status
from ..world import KeyCounter, World
from .base import Rule

__all__ = ["CouncilRule"]

if [int(a) for a in Allegiance] != [0, 1, 2]:  # the counting keys below rely on these codes
    raise ImportError("Allegiance codes changed: NONE, MODERATE, REVOLUTIONARY must be 0, 1, 2")
#: Counting key of workers outside the count (not mobilized; not in the federation).
_OTHER = len(Allegiance)
_MOBILIZED = int(Status.MOBILIZED)

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
        # Units' counts one after the other, firms then neighbourhoods: counts by unit and key.
        world.memory["councils.counter"] = KeyCounter(
            [(world.workplace_unit, city.n_firms), (pop.neighbourhood, city.n_neighbourhoods)],
            _OTHER + 1,
        )
        n_units = city.n_firms + city.n_neighbourhoods
        world.memory["councils.weekday"] = np.arange(n_units) % 7
        # Federated members by division (sector x union membership) and allegiance, 3 for
        # workers outside the federation.
        world.memory["councils.division_counter"] = KeyCounter(
            [(pop.sector.astype(np.int64) * 2 + pop.union, len(pop.sector_names) * 2)], _OTHER + 1
        )
        unit_workforce = np.bincount(org_firm, weights=city.firm_size, minlength=city.n_firms)
        size = np.concatenate([unit_workforce, world.residents.astype(np.float64)])
        world.councils = CouncilTable.empty(city.n_firms, city.n_neighbourhoods, size)
        weights = city_weights(world)
        world.memory["councils.unit_weight"] = np.concatenate(
            [np.full(city.n_firms, weights[0]), np.full(city.n_neighbourhoods, weights[1])]
        )
        # The whole workforce by division and allegiance: one pass over a joint key.
        n_sectors, n_allegiance = len(pop.sector_names), len(Allegiance)
        joint = np.bincount(
            (pop.sector.astype(np.int64) * 2 + pop.union) * n_allegiance + pop.allegiance,
            minlength=n_sectors * 2 * n_allegiance,
        )
        world.memory["councils.population_counts"] = list(
            division_margins(joint, n_allegiance, n_sectors, n_allegiance)
        )
        # A workplace unit's trade (its firm's sector); neighbourhoods have none (-1).
        world.memory["councils.unit_sector"] = np.concatenate(
            [city.firm_sector.astype(np.int64), np.full(city.n_neighbourhoods, -1)]
        )
        world.federation = Federation()
        # Workers whose key in the units' count changed today (see _federate).
        world.memory["councils.changed"] = np.empty(pop.n, dtype=np.int64)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        table = world.councils
        assert table is not None  # made in setup
        pop = world.population
        # Per unit, the mobilized by allegiance: each worker's key is their allegiance if
        # mobilized, 3 if not, counted per workplace unit and per neighbourhood (the workers
        # whose key changed since yesterday move from their old count to the new).
        counter: KeyCounter = world.memory["councils.counter"]
        changed = world.memory["councils.changed"]
        n_changed = count_selected(
            pop.allegiance,
            pop.status,
            _MOBILIZED,
            _OTHER,
            counter.bases,
            counter.last,
            counter.flat,
            changed,
        )
        # Councils grow out of strikes and blockades: of the mobilized, only the striking share
        # counts (crowds demonstrating against the regime go back to work).
        draws = rng.random(table.alive.size)
        fell_away, new = sit_and_form(
            counter.flat,
            counter.n_keys,
            world.strike_share,
            table.size,
            table.alive,
            table.formed,
            table.members,
            table.revolutionary,
            self.dissolve_share,
            self.formation_share,
            self.min_members,
            self.formation_rate,
            world.memory["councils.unit_weight"],
            draws,
            world.step,
        )
        for unit in fell_away:  # a handful a day, not workers
            world.log(
                "council_dissolved", table.members[unit], f"{table.kind(unit)} {unit}: fell away"
            )
        if fell_away.size:
            dissolve(table, fell_away)
        for unit in new:
            world.log("council_formed", table.members[unit], f"{table.kind(unit)} {unit}")
        self._federate(world, table, rng, changed[:n_changed])

    def _federate(
        self, world: World, table: CouncilTable, rng: np.random.Generator, changed: np.ndarray
    ) -> None:
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
        # on the week's compounded daily rate. Their members' exposure is to yesterday's
        # federated members (counted at the end of this method).
        net = world.network
        if net.mix is None:  # a complete network: the kernel reads no ties
            indptr = indices = np.zeros(1, dtype=np.int64)
            weights = np.zeros(1)
        else:
            indptr, indices, weights = net.mix.indptr, net.mix.indices, net.mix.data
        work, home = world.unit_groups, world.neighbourhood_groups
        candidates, rate = join_rates(
            world.memory["councils.weekday"],
            world.step % 7,
            table.alive,
            table.federated,
            "councils.counted_federated" in world.memory,
            table.n_firms,
            work.order,
            work.indptr,
            home.order,
            home.indptr,
            world.population.status,
            _MOBILIZED,
            world.memory["councils.division_counter"].last,
            _OTHER,
            net.kind == "complete",
            indptr,
            indices,
            weights,
            table.members,
            self.base_join_rate,
            self.join_rate,
        )
        before = int(np.count_nonzero(table.federated))
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
        after = int(np.count_nonzero(table.federated))
        for m in MILESTONES:
            if before < m <= after:
                world.log("federation_milestone", after, f"{m}+ councils")
        # Members of federated councils by division and allegiance (3 for workers outside the
        # federation), updated from the workers whose mobilization or allegiance changed and
        # the councils that joined or left (all workers the first time).
        pop = world.population
        assert world.workplace_unit is not None  # set in setup
        counted = world.memory.get("councils.counted_federated")
        full = counted is None
        if counted is None:
            counted = world.memory["councils.counted_federated"] = table.federated.copy()
        counter: KeyCounter = world.memory["councils.division_counter"]
        counts = list(
            federated_divisions(
                table.federated,
                counted,
                full,
                changed,
                table.n_firms,
                work.order,
                work.indptr,
                home.order,
                home.indptr,
                world.workplace_unit,
                pop.neighbourhood,
                pop.status,
                _MOBILIZED,
                pop.allegiance,
                _OTHER,
                counter.bases,
                counter.last,
                counter.flat,
                len(pop.sector_names),
            )
        )
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


def dissolve(table: CouncilTable, units: np.ndarray) -> None:
    """Dissolve the councils of ``units`` (a mask, or unit ids): they leave the federation too."""
    table.alive[units] = False
    table.federated[units] = False
    table.holding[units] = False
    table.formed[units] = -1
