"""The worker population, held as arrays indexed by worker id, and a light per-worker view.

Workers are the hot path of the model, so their traits and states are numpy arrays (index = worker
id) and every rule works on whole arrays at once. :class:`Worker` is a read-only view of one row
for inspection in the Mesa style (``model.workers[i]``); it is never used inside a step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from enum import IntEnum

import numpy as np
import pandas as pd

__all__ = ["Allegiance", "Population", "Status", "Worker", "WorkerView"]


class Status(IntEnum):
    """What a worker is doing now."""

    PASSIVE = 0  #: at work or at home, not taking part
    MOBILIZED = 1  #: on strike, blockading or occupying
    JAILED = 2  #: arrested; released when the term ends
    REMOVED = 3  #: otherwise removed (killed, exiled, fled); never returns


class Allegiance(IntEnum):
    """A worker's political allegiance (later rules move the shares)."""

    NONE = 0
    MODERATE = 1
    REVOLUTIONARY = 2


_MOBILIZED = int(Status.MOBILIZED)


@dataclasses.dataclass(eq=False)
class Population:
    """Traits and states of all workers, one array element per worker.

    Attributes:
        firm: Workplace (firm id, 0..n_firms-1).
        neighbourhood: Neighbourhood of residence (0..n_neighbourhoods-1).
        sector: Sector (craft or industry) index into ``sector_names``.
        union: Trade-union member.
        allegiance: :class:`Allegiance` code.
        hardship: Material hardship in [0, 1] before shocks (Epstein's H).
        risk_aversion: Risk aversion in [0, 1] (Epstein's R).
        precarious: Casual or informal work.
        student: Enrolled at a campus.
        campus: Campus id, or -1 for non-students.
        market: Market where the worker vends, or -1.
        status: Current :class:`Status` code.
        jail_release: Step at which a jailed worker is released (meaningless otherwise).
        sector_names: Names of the sectors.
        threshold: Each worker's threshold under the ``threshold`` mobilization rule: the
            weighted share of network neighbours, in [0, 1], that must be mobilized for the
            worker to mobilize (above 1: never). None under a rule without per-worker
            thresholds. The rule draws it at the model's set-up and reads it every day, so a
            change written here takes effect the next day.
    """

    firm: np.ndarray
    neighbourhood: np.ndarray
    sector: np.ndarray
    union: np.ndarray
    allegiance: np.ndarray
    hardship: np.ndarray
    risk_aversion: np.ndarray
    precarious: np.ndarray
    student: np.ndarray
    campus: np.ndarray
    market: np.ndarray
    status: np.ndarray
    jail_release: np.ndarray
    sector_names: tuple[str, ...]
    threshold: np.ndarray | None = None

    TRAITS = (
        "firm",
        "neighbourhood",
        "sector",
        "union",
        "allegiance",
        "hardship",
        "risk_aversion",
        "precarious",
        "student",
        "campus",
        "market",
        "status",
    )

    @property
    def n(self) -> int:
        """Number of workers."""
        return int(self.status.size)

    def counts(self) -> dict[str, int]:
        """Number of workers in each :class:`Status`."""
        c = np.bincount(self.status, minlength=len(Status))
        return {s.name.lower(): int(c[s]) for s in Status}

    def mobilized(self) -> np.ndarray:
        """Boolean mask of mobilized workers."""
        return self.status == _MOBILIZED

    def to_frame(self) -> pd.DataFrame:
        """All workers as a DataFrame indexed by worker id (for inspection, not for rules).

        Returns:
            One row per worker: the :attr:`TRAITS` (sector, allegiance and status as
            categories), then ``threshold`` (NaN for every worker under a mobilization rule
            without per-worker thresholds).
        """
        df = pd.DataFrame({name: getattr(self, name) for name in self.TRAITS})
        df["threshold"] = np.nan if self.threshold is None else self.threshold
        df["sector"] = pd.Categorical.from_codes(df["sector"], categories=list(self.sector_names))
        df["allegiance"] = pd.Categorical.from_codes(
            df["allegiance"], categories=[a.name.lower() for a in Allegiance]
        )
        df["status"] = pd.Categorical.from_codes(
            df["status"], categories=[s.name.lower() for s in Status]
        )
        df.index.name = "worker"
        return df


class Worker:
    """Read-only view of one worker (``model.workers[i]``), for inspection in the Mesa style.

    Attributes mirror :class:`Population`'s arrays (``firm``, ``neighbourhood``, ``sector`` as
    a code, ``sector_name``, ``union``, ``allegiance``, ``hardship``, ``risk_aversion``,
    ``precarious``, ``student``, ``campus``, ``market``, ``status``, ``threshold``);
    ``unique_id`` is the worker id. ``hardship`` is the base trait; today's hardship, with
    shocks and relief, is ``model.world.hardship[i]``. ``threshold`` is the worker's threshold
    under the ``threshold`` rule (a share of network neighbours), None under other rules.
    """

    __slots__ = ("_pop", "unique_id")

    def __init__(self, population: Population, unique_id: int) -> None:
        self._pop = population
        self.unique_id = unique_id

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *Population.TRAITS, "threshold"})

    def __setattr__(self, name: str, value) -> None:
        if name in Worker.__slots__:
            object.__setattr__(self, name, value)
            return
        raise AttributeError(
            f"Worker is a read-only view; change model.city.population.{name}[{self.unique_id}]"
            " if you mean to"
        )

    def __getattr__(self, name: str):
        if name in Population.TRAITS:
            value = getattr(self._pop, name)[self.unique_id]
            if name == "status":
                return Status(int(value))
            if name == "allegiance":
                return Allegiance(int(value))
            return value.item()
        raise AttributeError(f"Worker has no attribute {name!r}")

    @property
    def threshold(self) -> float | None:
        """The worker's threshold under the ``threshold`` rule, or None under other rules."""
        theta = self._pop.threshold
        return None if theta is None else float(theta[self.unique_id])

    @property
    def sector_name(self) -> str:
        """Name of the worker's sector."""
        return self._pop.sector_names[int(self._pop.sector[self.unique_id])]

    def __repr__(self) -> str:
        return (
            f"Worker({self.unique_id}, firm={self.firm}, neighbourhood={self.neighbourhood}, "
            f"sector={self.sector_name!r}, status={self.status.name.lower()})"
        )


class WorkerView(Sequence[Worker]):
    """Sequence of :class:`Worker` views over a population (``len``, indexing, iteration)."""

    def __init__(self, population: Population) -> None:
        self._pop = population

    def __len__(self) -> int:
        return self._pop.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [Worker(self._pop, j) for j in range(*i.indices(len(self)))]
        j = int(i)
        if j < 0:
            j += len(self)
        if not 0 <= j < len(self):
            raise IndexError(f"worker id {i} out of range 0..{len(self) - 1}")
        return Worker(self._pop, j)

    def __iter__(self) -> Iterator[Worker]:
        return (Worker(self._pop, j) for j in range(len(self)))

    def to_frame(self) -> pd.DataFrame:
        """All workers as a DataFrame (see :meth:`Population.to_frame`)."""
        return self._pop.to_frame()
