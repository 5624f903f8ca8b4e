"""Per-step indicators of a run, computed from the arrays in one compiled pass.

Shares are of all workers unless said otherwise. "Mobilization by layer" is measured by the
collective action each layer makes possible, with a quorum (default 0.5) of a unit mobilized:

- ``striking``: share of the workforce in firms where at least a quorum of workers is mobilized
  (production stopped);
- ``blockading``: share of residents in neighbourhoods where at least a quorum is mobilized;
- ``occupying``: share of students on campuses where at least a quorum of students is mobilized.

``mobilized_firms_<band>`` is the mobilized share of workers in firms of each size band and
``mobilized_sector_<name>`` that of each sector (NaN where the group is empty).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .firm_sizes import REPORT_BANDS, band_labels
from .kernels.indicators import WORKER_COLUMNS, worker_counts
from .population import Status
from .world import World

__all__ = ["IndicatorRecord", "Indicators", "indicator_names"]


if [int(s) for s in Status] != [0, 1, 2, 3]:  # the kernel counts these codes
    raise ImportError("Status codes changed: count them in kernels.indicators.worker_counts")


#: Indicators of the councils and their federation.
_COUNCIL_KEYS = (
    "councils",
    "workplace_councils",
    "assemblies",
    "council_members",
    "federation_councils",
    "federation_members",
    "cohesion",
    "revolutionary_share",
    "cadres",
)


#: The indicators that are not counts of workers, in the order :meth:`Indicators._scalars` gives
#: them.
_SCALAR_KEYS = (
    "legitimacy",
    "councils",
    "workplace_councils",
    "assemblies",
    "federation_councils",
    "federation_members",
    "cohesion",
    "revolutionary_share",
    "council_power",
    "state_power",
    "production",
    "territory",
    "supply",
    "soldiers_loyalty",
    "defected",
    "repression",
    "concession",
    "offensive",
    "dual_power",
)

# Stand-ins for arrays a world has not got (no councils, no cadres), typed for the kernel.
_NO_UNITS = np.zeros(0, dtype=bool)
_NO_WORKERS = np.zeros(0, dtype=np.int64)
_NO_CADRES = np.zeros(0, dtype=bool)


def _inverse(sizes: np.ndarray) -> np.ndarray:
    sizes = np.asarray(sizes, dtype=np.float64)
    out = np.full(sizes.size, np.nan)
    np.divide(1.0, sizes, out=out, where=sizes > 0)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", text.replace("+", "_plus")).strip("_").lower()


def indicator_names(
    sector_names: Sequence[str], bands: tuple[tuple[int, float], ...] = REPORT_BANDS
) -> list[str]:
    """The indicator columns of a city with these sectors (in the table's order).

    Args:
        sector_names: The city's sector names.
        bands: Firm-size bands of the ``mobilized_firms_*`` columns.

    Returns:
        Column names.
    """
    return [
        "mobilized",
        "passive",
        "jailed",
        "removed",
        "striking",
        "blockading",
        "occupying",
        "hardship",
        "legitimacy",
        *_COUNCIL_KEYS,
        "council_power",
        "state_power",
        "production",
        "territory",
        "supply",
        "soldiers_loyalty",
        "defected",
        "repression",
        "concession",
        "offensive",
        "dual_power",
        *(f"mobilized_firms_{_slug(lbl)}" for lbl in band_labels(bands)),
        *(f"mobilized_sector_{_slug(s)}" for s in sector_names),
    ]


class Indicators:
    """Computes the indicator row of a world; built once per model.

    Args:
        world: The world to measure (its city fixes the groups).
        quorum: Share of a firm, neighbourhood or campus that must be mobilized for it to count
            as striking, blockading or occupying, in (0, 1].
        bands: Firm-size bands for ``mobilized_firms_*`` columns.
    """

    def __init__(
        self, world: World, quorum: float = 0.5, bands: tuple[tuple[int, float], ...] = REPORT_BANDS
    ) -> None:
        city = world.city
        pop = world.population
        self.quorum = quorum
        edges = np.array([lo for lo, _ in bands] + [np.inf])
        self._firm_band = np.searchsorted(edges, city.firm_size, side="right") - 1
        self._band_names = [f"mobilized_firms_{_slug(lbl)}" for lbl in band_labels(bands)]
        self._band_size = np.bincount(
            self._firm_band, weights=city.firm_size, minlength=len(bands)
        )[: len(bands)]
        self._sector_names = [f"mobilized_sector_{_slug(s)}" for s in pop.sector_names]
        self._sector_size = np.bincount(pop.sector, minlength=len(pop.sector_names))
        self._residents = world.residents
        self._student_ids = np.flatnonzero(pop.campus >= 0)
        self._student_campus = pop.campus[self._student_ids]
        self._campus_size = np.bincount(self._student_campus, minlength=city.n_campuses)
        # Precomputed once: quorum counts (a unit with nobody never counts) and inverse group
        # sizes (NaN for an empty group, so its share is NaN).
        self._firm_quorum = quorum * city.firm_size
        self._nb_quorum = np.where(self._residents > 0, quorum * self._residents, np.inf)
        self._campus_quorum = np.where(self._campus_size > 0, quorum * self._campus_size, np.inf)
        self._inv_band = _inverse(self._band_size)
        self._inv_sector = _inverse(self._sector_size)
        self.names = indicator_names(pop.sector_names, bands)
        # Where each part of a row goes: the kernel's counts (then bands, then sectors), the
        # mean hardship, the scalars.
        at = {name: i for i, name in enumerate(self.names)}
        counted = [*WORKER_COLUMNS, *self._band_names, *self._sector_names]
        self._workers = np.empty(len(counted))
        self._worker_at = np.array([at[name] for name in counted])
        self._hardship_at = at["hardship"]
        self._scalar_at = np.array([at[name] for name in _SCALAR_KEYS])
        if sorted([*counted, "hardship", *_SCALAR_KEYS]) != sorted(self.names):
            raise RuntimeError("an indicator is measured twice or not at all")

    def __call__(self, world: World) -> dict[str, float]:
        """Measure the world now.

        Args:
            world: The world this object was built for.

        Returns:
            Indicator name to value.
        """
        row = np.empty(len(self.names))
        self.into(world, row)
        return dict(zip(self.names, row.tolist(), strict=True))

    def into(self, world: World, row: np.ndarray) -> None:
        """Measure the world now into ``row``, one float per indicator in :attr:`names` order.

        Args:
            world: The world this object was built for.
            row: Output, ``len(names)`` floats (a row of the run's :class:`IndicatorRecord`).
        """
        city = world.city
        pop = world.population
        table = world.councils
        workers = self._workers
        worker_counts(
            workers,
            pop.status,
            city.firm_start,
            city.firm_size,
            self._firm_quorum,
            self._firm_band,
            city.firm_sector,
            pop.neighbourhood,
            self._residents,
            self._nb_quorum,
            self._student_ids,
            self._student_campus,
            self._campus_size,
            self._campus_quorum,
            self._inv_band,
            self._inv_sector,
            _NO_UNITS if table is None else table.alive,
            _NO_WORKERS if world.workplace_unit is None else world.workplace_unit,
            _NO_CADRES if world.cadre is None else world.cadre,
        )
        row[self._worker_at] = workers
        # Pairwise summation, as before the kernel: the column keeps its exact values.
        row[self._hardship_at] = float(world.hardship.sum()) / pop.n
        row[self._scalar_at] = self._scalars(world)

    def _scalars(self, world: World) -> list[float]:
        """The indicators that are not counts of workers, in :data:`_SCALAR_KEYS` order."""
        table = world.councils
        federation = world.federation
        power = world.power
        s = world.soldiers
        levels = world.levels
        loyalty = defected = 0.0
        if s is not None and s.n:  # one pass over the garrison gives both
            loyal, _, mean_loyalty = s.loyal()
            loyalty, defected = float(mean_loyalty), (s.n - loyal) / s.n
        if table is not None:
            work = float(np.count_nonzero(table.alive[: table.n_firms]))
            home = float(np.count_nonzero(table.alive[table.n_firms :]))
            councils = [
                work + home,
                work,
                home,
                float(np.count_nonzero(table.federated)),
                federation.members / world.population.n,
                federation.cohesion,
                federation.revolutionary,
            ]
        else:  # zero when there are no councils (dual_power=False)
            councils = [0.0] * 7
        return [
            float(world.legitimacy),
            *councils,
            power.council_power,
            power.state_power,
            power.production,
            power.territory,
            power.supply,
            loyalty,
            defected,
            float(levels.repression),
            float(levels.concession),
            float(levels.on_offensive(world.step)),
            float(world.verdict.dual_power),
        ]


class IndicatorRecord:
    """A run's indicators, one row per day, in a table allocated ahead.

    Rows are written in place (:meth:`next_row`), not appended as dicts: a day's bookkeeping then
    costs one row, not a dict and a list append per indicator. The table doubles when full.

    Args:
        names: The columns.
        days: Rows the run will need (its horizon plus its initial day); at most a year's are
            allocated at first.
    """

    def __init__(self, names: Sequence[str], days: int) -> None:
        self.names = list(names)
        # At most a year ahead: a horizon of 10^6 days would hold half a gigabyte unused.
        self._table = np.empty((min(max(days, 1), 366), len(self.names)))
        self.rows = 0

    def __getstate__(self) -> dict:
        """Pickle the recorded rows only (a model sent to another process, or saved)."""
        state = self.__dict__.copy()
        state["_table"] = self._table[: self.rows].copy()
        return state

    def next_row(self) -> np.ndarray:
        """The next row to fill (a view into the table), counted as recorded."""
        if self.rows == self._table.shape[0]:
            grown = np.empty((max(2 * self.rows, 16), self._table.shape[1]))
            grown[: self.rows] = self._table
            self._table = grown
        self.rows += 1
        return self._table[self.rows - 1]

    def append(self, row: dict[str, float]) -> None:
        """Record a row given by column name (every column must be there)."""
        missing = set(self.names) - set(row)
        if missing:
            raise KeyError(f"a row of the indicators lacks {sorted(missing)}")
        self.next_row()[:] = [row[name] for name in self.names]

    @property
    def table(self) -> np.ndarray:
        """The recorded rows, a read-only view (rows x columns)."""
        view = self._table[: self.rows]
        view.flags.writeable = False
        return view

    def last(self) -> dict[str, float]:
        """The latest row by column."""
        return dict(zip(self.names, self._table[self.rows - 1].tolist(), strict=True))

    def columns(self) -> dict[str, list[float]]:
        """Every column as a list, as Mesa's ``DataCollector.tables`` holds a table."""
        return {name: col.tolist() for name, col in zip(self.names, self.table.T, strict=True)}
