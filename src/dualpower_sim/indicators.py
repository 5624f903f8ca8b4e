"""Per-step indicators of a run, computed from the arrays in one vectorised pass.

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

from .councils import member_mask
from .firm_sizes import REPORT_BANDS, band_labels
from .population import Status
from .world import World

__all__ = ["Indicators", "indicator_names"]


_PASSIVE, _MOBILIZED = int(Status.PASSIVE), int(Status.MOBILIZED)
_JAILED, _REMOVED = int(Status.JAILED), int(Status.REMOVED)
if len(Status) != 4:
    raise ImportError("Status gained a member; count it in Indicators.__call__")


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

    @staticmethod
    def _powers(world: World, mobilized: np.ndarray) -> dict[str, float]:
        """Councils, federation, the two powers and the state's levers (0 before set-up)."""
        table = world.councils
        n = world.population.n
        out: dict[str, float] = {}
        if table is not None:
            assert world.workplace_unit is not None  # set with the councils
            work = int(table.alive[: table.n_firms].sum())
            home = int(table.alive[table.n_firms :].sum())
            members = member_mask(
                table, world.workplace_unit, world.population.neighbourhood, mobilized
            )
            federation = world.federation
            out.update(
                councils=float(work + home),
                workplace_councils=float(work),
                assemblies=float(home),
                council_members=np.count_nonzero(members) / n,
                federation_councils=float(table.federated.sum()),
                federation_members=federation.members / n,
                cohesion=federation.cohesion,
                revolutionary_share=federation.revolutionary,
                cadres=np.count_nonzero(world.cadre) / n if world.cadre is not None else 0.0,
            )
        power = world.power
        out["council_power"] = power.council_power
        out["state_power"] = power.state_power
        out["production"] = power.production
        out["territory"] = power.territory
        out["supply"] = power.supply
        s = world.soldiers
        out["soldiers_loyalty"] = float(s.loyal_mean()) if s is not None and s.n else 0.0
        out["defected"] = float(s.defected_share()) if s is not None else 0.0
        out["repression"] = float(world.levels.repression)
        out["concession"] = float(world.levels.concession)
        out["offensive"] = float(world.levels.on_offensive(world.step))
        out["dual_power"] = float(world.verdict.dual_power)
        for key in _COUNCIL_KEYS:  # zero when there are no councils (dual_power=False)
            out.setdefault(key, 0.0)
        return out

    def __call__(self, world: World) -> dict[str, float]:
        """Measure the world now.

        Args:
            world: The world this object was built for.

        Returns:
            Indicator name to value.
        """
        city = world.city
        pop = world.population
        n = pop.n
        status = pop.status
        mob_mask = status == _MOBILIZED
        n_mob = np.count_nonzero(mob_mask)
        n_jailed = np.count_nonzero(status == _JAILED)
        n_removed = np.count_nonzero(status == _REMOVED)
        out: dict[str, float] = {
            "mobilized": n_mob / n,
            "passive": (n - n_mob - n_jailed - n_removed) / n,  # the fourth and last status
            "jailed": n_jailed / n,
            "removed": n_removed / n,
        }
        # Mobilized per firm (firms hold consecutive ids), summed in int32: no float copy.
        firm_mob = np.add.reduceat(mob_mask.view(np.int8), city.firm_start, dtype=np.int32)
        out["striking"] = np.dot(firm_mob >= self._firm_quorum, city.firm_size) / n
        nb_mob = world.mobilized_by_neighbourhood(mob_mask)
        out["blockading"] = np.dot(nb_mob >= self._nb_quorum, self._residents) / n
        if self._student_ids.size:
            campus_mob = np.bincount(
                self._student_campus, weights=mob_mask[self._student_ids], minlength=city.n_campuses
            )
            occupied = campus_mob >= self._campus_quorum
            out["occupying"] = np.dot(occupied, self._campus_size) / self._student_ids.size
        else:
            out["occupying"] = 0.0
        out["hardship"] = float(world.hardship.sum()) / n
        out["legitimacy"] = float(world.legitimacy)
        out.update(self._powers(world, mob_mask))
        # Bands and sectors are properties of firms: aggregate the firm counts, not the workers.
        band_mob = np.bincount(self._firm_band, weights=firm_mob, minlength=self._inv_band.size)
        sector_mob = np.bincount(
            city.firm_sector, weights=firm_mob, minlength=self._inv_sector.size
        )
        out.update(zip(self._band_names, (band_mob * self._inv_band).tolist(), strict=True))
        out.update(zip(self._sector_names, (sector_mob * self._inv_sector).tolist(), strict=True))
        return out  # every value a float already (numpy scalars are floats too)
