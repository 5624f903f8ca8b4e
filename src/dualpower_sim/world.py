"""The shared state that rules read and change during a step.

Rules receive a :class:`World`, its parameters and a generator; they never see the Mesa model.
The city, the state's levers (legitimacy, police density, deployment), current hardship, the
councils, the soldiers, the balance of power and the event log live here.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import Any

import numpy as np

from .city import City
from .councils import CouncilTable, Federation
from .kernels.councils import count_keys
from .kernels.mobilization import sum_by_group, sync_counts
from .kernels.policing import forces
from .networks import ShareTracker, SocialNetwork, concatenated_ranges
from .outcomes import Power, Verdict
from .population import Population
from .state import Soldiers, StateLevels

__all__ = ["Groups", "KeyCounter", "MaskCounter", "World"]

#: Stand-ins for the soldiers' arrays when only the police officers count.
_NO_SOLDIERS = np.zeros(0, dtype=np.int64)
_NO_MARKS = np.zeros(0, dtype=bool)


@dataclasses.dataclass(eq=False)
class World:
    """A city in motion.

    Attributes:
        city: The city (population, networks, firms, neighbourhoods).
        legitimacy: The state's legitimacy L in [0, 1] (Epstein 2002); grievance is H (1 - L).
        coercion: Police per resident in each neighbourhood (Epstein's cop density relative to
            citizens is about 0.04 / 0.7 = 0.057).
        hardship: Current hardship of each worker in [0, 1]: the base trait plus active shocks.
        step: Number of completed steps (days).
        memory: State private to one rule, keyed ``"<rule>.<name>"``: per-worker arrays (e.g.
            thresholds), counters and caches that no other rule reads. What one rule writes and
            another reads is a typed attribute below (``federation``, ``power``, ``levels``,
            ``verdict``...), never a key here.
        councils: Every unit's council (None until the council rule sets up).
        workplace_unit: Each worker's workplace organising unit (their firm, or the lead firm it
            subcontracts for when ``CouncilRule.chains_organise`` is set).
        soldiers: The state's soldiers (None until the soldiers rule sets up).
        cadre: Party cadres (a mask over workers; none until the debate rule sets up).
        levels: The state's levers (repression, concession, offensive).
        relief: Hardship removed from every worker by the state's concessions.
        strike_share: Share of today's grievance that is economic (shocks aimed at livelihoods,
            not at the regime): the share of the mobilized who strike or blockade rather than
            demonstrate (1 when no shock is active).
        federation: The federation as the council rule measured it today.
        power: Today's balance of power, measured by the resolution rule.
        verdict: Dual power so far and the outcome once resolved.
        events: The event log, one dict per event (step, event, magnitude, detail).
    """

    city: City
    legitimacy: float
    coercion: np.ndarray
    hardship: np.ndarray
    step: int = 0
    memory: dict[str, Any] = dataclasses.field(default_factory=dict)
    councils: CouncilTable | None = None
    workplace_unit: np.ndarray | None = None
    soldiers: Soldiers | None = None
    cadre: np.ndarray | None = None
    levels: StateLevels = dataclasses.field(default_factory=StateLevels)
    relief: float = 0.0
    strike_share: float = 1.0
    federation: Federation = dataclasses.field(default_factory=Federation)
    power: Power = dataclasses.field(default_factory=Power)
    verdict: Verdict = dataclasses.field(default_factory=Verdict)
    events: list[dict] = dataclasses.field(default_factory=list)

    def log(self, event: str, magnitude: float = 1.0, detail: str = "") -> None:
        """Record an event of today in the event log.

        Args:
            event: Event name, e.g. ``"council_formed"``.
            magnitude: Its size (members, councils, share...), as the event's docs say.
            detail: A short free-text detail.
        """
        self.events.append(
            {"step": self.step, "event": event, "magnitude": float(magnitude), "detail": detail}
        )

    @property
    def population(self) -> Population:
        """The workers."""
        return self.city.population

    @property
    def network(self) -> SocialNetwork:
        """The workers' ties."""
        return self.city.network

    @cached_property
    def _mobilized_share(self) -> ShareTracker:
        return self.network.share_tracker()

    def mobilized_share(self, mobilized: np.ndarray | None = None) -> np.ndarray:
        """Each worker's weighted share of mobilized network neighbours (read-only, float64).

        Args:
            mobilized: ``population.mobilized()`` if the caller has it at hand (saves a pass).
        """
        if mobilized is None:
            mobilized = self.population.mobilized()
        return self._mobilized_share(mobilized)

    @cached_property
    def residents(self) -> np.ndarray:
        """Number of residents of each neighbourhood (fixed: jailed workers keep their home)."""
        return np.bincount(self.population.neighbourhood, minlength=self.city.n_neighbourhoods)

    def officers(self) -> np.ndarray:
        """Police officers in each neighbourhood now (density x residents, rounded)."""
        return forces(self.coercion, self.residents, _NO_SOLDIERS, _NO_MARKS, _NO_MARKS, False, 0.0)

    def police(self) -> np.ndarray:
        """The state's forces in each neighbourhood now.

        Police officers (density x residents, rounded) plus the loyal soldiers quartered there
        whom the state has sent into the streets (a share ``levels.deployed`` of them); soldiers
        outside the city come in only on an offensive.
        """
        s = self.soldiers
        if s is None or not s.n or not self.levels.deployed > 0:
            return self.officers()
        return forces(
            self.coercion,
            self.residents,
            s.barracks,
            s.defected,
            s.outside,
            self.levels.on_offensive(self.step),
            self.levels.deployed,
        )

    def sum_by_neighbourhood(self, x: np.ndarray) -> np.ndarray:
        """Sum of a per-worker quantity over each neighbourhood's residents.

        Args:
            x: Per-worker values (booleans count).

        Returns:
            One float sum per neighbourhood, summed in worker order (as ``np.bincount``).
        """
        return sum_by_group(
            self.population.neighbourhood,
            np.asarray(x, dtype=np.float64),
            self.city.n_neighbourhoods,
        )

    def sum_by_firm(self, x: np.ndarray) -> np.ndarray:
        """Sum of a per-worker quantity over each firm's workforce (firms hold consecutive ids).

        Args:
            x: Per-worker values (booleans count), or a k x n array of such rows.

        Returns:
            One float sum per firm (per row: k x n_firms).
        """
        return np.add.reduceat(np.asarray(x, dtype=np.float64), self.city.firm_start, axis=-1)

    @cached_property
    def unit_groups(self) -> Groups:
        """Workers by workplace organising unit (available once the council rule set up)."""
        if self.workplace_unit is None:
            raise RuntimeError("workplace units are set by the council rule's set-up")
        return Groups(self.workplace_unit, self.city.n_firms)

    @cached_property
    def neighbourhood_groups(self) -> Groups:
        """Workers by neighbourhood."""
        return Groups(self.population.neighbourhood, self.city.n_neighbourhoods)

    @cached_property
    def _mobilized_counter(self) -> MaskCounter:
        return MaskCounter(self.population.neighbourhood, self.city.n_neighbourhoods)

    def mobilized_by_neighbourhood(self, mobilized: np.ndarray | None = None) -> np.ndarray:
        """Number of mobilized residents of each neighbourhood now (read-only).

        Args:
            mobilized: ``population.mobilized()`` if the caller has it at hand (saves a pass).
        """
        if mobilized is None:
            mobilized = self.population.mobilized()
        return self._mobilized_counter(mobilized)


class MaskCounter:
    """Counts of a changing boolean mask per group, updated from the changes since last call.

    Several rules ask each day how many residents of each neighbourhood are mobilized, each
    after others changed a few statuses; counting only the workers whose mark changed, in one
    compiled pass (:func:`~dualpower_sim.kernels.mobilization.sync_counts`), is much cheaper
    than a count of everyone. Counts are integers held in float64, so exact.

    Kernels that change the marks (the mobilization rules and the police, who set statuses) may
    keep :attr:`counts` and :attr:`marked` up to date themselves, in place, as long as the
    counts stay those of the marks.

    Args:
        groups: Group of each worker.
        n_groups: Number of groups.

    Attributes:
        groups: Group of each worker (uint16 when there are at most 2^16 groups).
        n_groups: Number of groups.
        marked: The marks counted (bool; none at first).
        counts: Marked workers per group (float64).
    """

    def __init__(self, groups: np.ndarray, n_groups: int) -> None:
        # Two bytes a worker rather than eight when they fit (they do for any city's
        # neighbourhoods): the kernels that walk every worker read a quarter of the memory.
        self.groups = groups.astype(np.uint16 if n_groups <= 2**16 else np.int64)
        self.n_groups = n_groups
        self.marked = np.zeros(groups.size, dtype=bool)
        self.counts = np.zeros(n_groups)
        self._readonly = self._view()

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        """Counts of ``mask`` per group (a read-only array valid until the next call)."""
        sync_counts(np.asarray(mask, dtype=bool), self.marked, self.groups, self.counts)
        return self._readonly

    def _view(self) -> np.ndarray:
        """A read-only view of :attr:`counts`, handed out while the counter updates it in place."""
        view = self.counts.view()
        view.flags.writeable = False
        return view

    def __getstate__(self) -> dict:
        """The counter without its read-only view (pickle would copy it apart from the counts)."""
        state = self.__dict__.copy()
        del state["_readonly"]
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled counter with counts it can update in place again."""
        self.__dict__.update(state)
        # Arrays restored by pickle are views of its bytes: own them, to update them in place.
        self.marked = np.array(self.marked, copy=True)
        self.counts = np.array(self.counts, copy=True)
        self._readonly = self._view()


class KeyCounter:
    """Counts of a changing small-integer key per group, for several groupings at once.

    The council rule counts, for every firm and every neighbourhood, its residents or workers by
    allegiance and by whether they are mobilized. Each day only a few keys change (workers who
    came out, went home, were arrested or changed sides), so the counter keeps every worker's
    last counted key and moves the workers whose key changed from their old count to the new
    one, in one compiled pass (:mod:`dualpower_sim.kernels.councils`, whose kernels also compute
    the keys in that pass and update :attr:`bases`, :attr:`last` and :attr:`flat` in place).

    Args:
        groupings: For each grouping, the group of each worker and the number of groups.
        n_keys: Keys run from 0 to ``n_keys - 1`` (at most 127).

    Attributes:
        n_keys: Number of keys.
        bases: For each worker (row) and grouping (column), the offset of the worker's group's
            counts in :attr:`flat` (int32: the changed workers' offsets are read from all over
            the array, and half the bytes take half the cache lines; measured about twice as
            fast as int64 at 20,000 workers).
        last: Each worker's last counted key (int8; -1 before the first count).
        flat: The counts (int64), grouping after grouping, group after group, key after key.
    """

    def __init__(self, groupings: list[tuple[np.ndarray, int]], n_keys: int) -> None:
        if not 1 <= n_keys <= 127:
            raise ValueError(f"n_keys must be in 1..127 (the last keys are int8), not {n_keys}")
        self.n_keys = n_keys
        n = groupings[0][0].size
        self._sizes = [n_groups * n_keys for _, n_groups in groupings]
        if sum(self._sizes) > np.iinfo(np.int32).max:
            raise ValueError(f"too many groups x keys to count: {sum(self._sizes)}")
        self.bases = np.empty((n, len(groupings)), dtype=np.int32)
        offset = 0
        for j, ((groups, _), size) in enumerate(zip(groupings, self._sizes, strict=True)):
            self.bases[:, j] = offset + groups.astype(np.int64) * n_keys
            offset += size
        self.last = np.full(n, -1, dtype=np.int8)
        self.flat = np.zeros(offset, dtype=np.int64)
        self._counts = self._views()

    def _views(self) -> list[np.ndarray]:
        """Read-only ``(n_groups, n_keys)`` views of each grouping's counts in :attr:`flat`."""
        views, offset = [], 0
        for size in self._sizes:
            view = self.flat[offset : offset + size].reshape(-1, self.n_keys)
            view.flags.writeable = False
            views.append(view)
            offset += size
        return views

    def __call__(self, key: np.ndarray) -> list[np.ndarray]:
        """Counts of ``key`` per group, one ``(n_groups, n_keys)`` int64 array per grouping.

        The arrays are read-only views, updated in place by the next call.
        """
        if key.shape != self.last.shape:
            raise ValueError(f"one key per worker: {self.last.size}, not {key.shape}")
        count_keys(key, self.bases, self.last, self.flat)
        return self._counts

    def __getstate__(self) -> dict:
        """Pickle the arrays, not the views of :attr:`flat` (rebuilt on loading)."""
        state = self.__dict__.copy()
        del state["_counts"]
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled counter with counts it can update in place again."""
        self.__dict__.update(state)
        # Arrays restored from out-of-band pickle buffers (as Dask sends them) may be read-only
        # views of those buffers; the kernels write these two in place.
        self.last = np.array(self.last, copy=True)
        self.flat = np.array(self.flat, copy=True)
        self._counts = self._views()


class Groups:
    """Workers listed group by group, to find the members of a few groups without a full pass.

    Args:
        groups: Group of each worker.
        n_groups: Number of groups.
    """

    def __init__(self, groups: np.ndarray, n_groups: int) -> None:
        self.order = np.argsort(groups, kind="stable")
        self.indptr = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(groups, minlength=n_groups), out=self.indptr[1:])

    def members(self, which: np.ndarray) -> np.ndarray:
        """Ids of the workers in some groups, group after group, by id within a group.

        Args:
            which: A mask over the groups, or group ids.

        Returns:
            Worker ids (int64).
        """
        ids = which.nonzero()[0] if which.dtype == bool else which
        starts = self.indptr[ids]
        return self.order[concatenated_ranges(starts, self.indptr[ids + 1] - starts)]
