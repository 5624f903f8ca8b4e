"""Councils (soviets, factory committees, neighbourhood assemblies) and their federation.

Every organising *unit* of the city can hold one council: a workplace unit is a firm (small
firms subcontracting for a lead firm organise on their own, kept "perpetually in competition for
work": Harvey, in the article; ``CouncilRule.chains_organise`` puts them in the lead firm's
unit); a territorial unit is a neighbourhood (El Alto's barrio assemblies). Council state lives
in arrays indexed by unit (units ``0..n_firms-1`` are workplaces, the rest neighbourhoods), so the
rules never loop over councils; :class:`Council` is the Mesa agent a user inspects, created when
a council forms and removed when it dissolves.

Members are the mobilized workers of the unit. Each council sends one delegate per
``delegate_ratio`` members (the St Petersburg Soviet of 1905: one deputy per 500 workers). The
city-wide federation (the Petrograd Soviet; El Alto's Federation of Neighbourhood Assemblies) is
founded by the first councils and grows as councils whose members are tied to federated
members join it.

Cohesion measures how far the federation cuts across the divisions of craft or industry
(sector), union membership and political allegiance: for each division, the Gini-Simpson (Blau)
diversity ``1 - sum p_k^2`` of the federated members divided by that of the whole workforce,
capped at 1, then averaged over the divisions. A federation whose members are a cross-section of
the class scores 1; one drawn from one sector, union status and allegiance scores 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .agents import CityAgent
from .kernels.councils import blau_of, cohesion_of, council_members

__all__ = ["Council", "CouncilTable", "Federation", "blau", "cohesion", "member_mask"]

WORKPLACE, TERRITORIAL = 0, 1
KIND_NAMES = ("workplace", "territorial")


#: The exponent of the Blau index's squares, passed to the kernels (see ``blau_of``).
_SQUARE = 2.0


def blau(counts) -> float:
    """Gini-Simpson (Blau) diversity ``1 - sum p_k^2`` of category counts (0 if empty)."""
    return float(blau_of(_floats(counts), _SQUARE))


def cohesion(member_counts, population_counts) -> float:
    """Federation cohesion: mean over divisions of member diversity relative to the workforce's.

    Args:
        member_counts: For each division (sector, union, allegiance), federated members per
            category.
        population_counts: The same counts for the whole workforce.

    Returns:
        Cohesion in [0, 1]; 0 when the federation has no members.
    """
    if len(member_counts) != len(population_counts):
        raise ValueError("as many divisions of the members as of the workforce")
    members = tuple(_floats(c) for c in member_counts)
    everyone = tuple(_floats(c) for c in population_counts)
    return float(cohesion_of(members, everyone, _SQUARE))


def _floats(counts) -> np.ndarray:
    """Counts as a contiguous float64 array (what the kernels take)."""
    return np.ascontiguousarray(counts, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class Federation:
    """The city-wide federation of councils as measured today (all zero before it is founded).

    Attributes:
        members: Mobilized workers in federated councils.
        revolutionary: Revolutionary share ``R / (Mod + R)`` of its worker members with an
            allegiance.
        cohesion: How far it cuts across the divisions of the class, in [0, 1] (see
            :func:`cohesion`).
    """

    members: float = 0.0
    revolutionary: float = 0.0
    cohesion: float = 0.0


@dataclasses.dataclass(eq=False)
class CouncilTable:
    """The state of every unit's council, in arrays indexed by unit.

    Attributes:
        n_firms: Units ``0..n_firms-1`` are workplaces; the rest are neighbourhoods.
        alive: A council sits in the unit.
        federated: The council belongs to the city-wide federation.
        formed: Step at which the sitting council formed (-1 if none).
        members: Mobilized workers of the unit (members, when a council sits).
        size: Workers (workplace units) or residents (neighbourhoods) of the unit.
        revolutionary: Revolutionary share among the members with an allegiance.
        holding: The council holds its unit's production or territory (a strike or blockade it
            called and still keeps; see :class:`~dualpower_sim.rules.Resolution`).
        federation_founded: Step at which the federation was founded (-1 if not yet).
    """

    n_firms: int
    alive: np.ndarray
    federated: np.ndarray
    formed: np.ndarray
    members: np.ndarray
    size: np.ndarray
    revolutionary: np.ndarray
    holding: np.ndarray
    federation_founded: int = -1

    @classmethod
    def empty(cls, n_firms: int, n_neighbourhoods: int, size: np.ndarray) -> CouncilTable:
        """A table with no council yet."""
        n = n_firms + n_neighbourhoods
        return cls(
            n_firms=n_firms,
            alive=np.zeros(n, dtype=bool),
            federated=np.zeros(n, dtype=bool),
            formed=np.full(n, -1, dtype=np.int64),
            members=np.zeros(n),
            size=np.asarray(size, dtype=np.float64),
            revolutionary=np.zeros(n),
            holding=np.zeros(n, dtype=bool),
        )

    def kind(self, unit: int) -> str:
        """``"workplace"`` or ``"territorial"``."""
        return KIND_NAMES[int(unit >= self.n_firms)]

    @property
    def count(self) -> int:
        """Councils sitting now."""
        return int(np.count_nonzero(self.alive))


def member_mask(
    table: CouncilTable,
    workplace_unit: np.ndarray,
    neighbourhood: np.ndarray,
    mobilized: np.ndarray,
    federated: bool = False,
) -> np.ndarray:
    """Mask of workers who are members of a sitting (or federated) council.

    Args:
        table: The councils.
        workplace_unit: Each worker's workplace unit.
        neighbourhood: Each worker's neighbourhood.
        mobilized: Mobilized mask (members are mobilized workers of a council's unit).
        federated: Count only councils in the federation.

    Returns:
        Boolean mask over workers.
    """
    sitting = table.federated if federated else table.alive
    return council_members(sitting, table.n_firms, workplace_unit, neighbourhood, mobilized)


class Council(CityAgent):
    """A sitting council, as a Mesa agent for inspection (``model.agents_by_type[Council]``).

    Its state is read from the model's :class:`CouncilTable`; the rules update the table, not
    the agents.

    Args:
        model: The model.
        unit: The council's unit (firm id, or ``n_firms`` + neighbourhood id).
    """

    def __init__(self, model, unit: int) -> None:
        super().__init__(model)
        self.unit = int(unit)
        self.formed_at = int(model.world.councils.formed[unit])

    @property
    def _table(self) -> CouncilTable:
        return self.model.world.councils

    @property
    def kind(self) -> str:
        """``"workplace"`` (factory committee, soviet) or ``"territorial"`` (assembly)."""
        return self._table.kind(self.unit)

    @property
    def place(self) -> int:
        """Firm id of a workplace council, neighbourhood id of an assembly."""
        t = self._table
        return self.unit - t.n_firms if self.unit >= t.n_firms else self.unit

    @property
    def members(self) -> int:
        """Members (mobilized workers of the unit)."""
        return int(self._table.members[self.unit])

    @property
    def delegates(self) -> int:
        """Delegates sent to the federation."""
        ratio = self.model.council_rule.delegate_ratio
        return int(np.ceil(self.members / ratio))

    @property
    def federated(self) -> bool:
        """Whether the council belongs to the federation."""
        return bool(self._table.federated[self.unit])

    @property
    def revolutionary_share(self) -> float:
        """Revolutionary share among members with an allegiance."""
        return float(self._table.revolutionary[self.unit])

    def __repr__(self) -> str:
        return (
            f"Council({self.kind} {self.place}, members={self.members}, "
            f"revolutionary={self.revolutionary_share:.2f}, federated={self.federated})"
        )
