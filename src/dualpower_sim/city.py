"""A city: its workforce, firms, neighbourhoods, campuses, and the networks that tie them.

:class:`CityParams` describes a city; :func:`build_city` draws one from a generator. Workers live
somewhere and work somewhere, so the workplace and territorial layers overlap in people; how far
workers of one firm live together is set by ``Territory.residential_clustering`` (factory
districts such as Petrograd's Vyborg side at one end, dispersed commuting at the other).

The mechanisms follow the article (Callinicos 2007, docs/sources.md): soviets grew from giant
factories (workplace layer), El Alto's 550 barrio assemblies and market vendors' associations and
the Paris Commune's quarters from territory (territorial layer), France 2006 from campuses (campus
layer). Many small firms were subcontractors of larger ones (Harvey, quoted in the article): the
subcontracting chains of the workplace layer.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .distributions import Beta, Distribution, Uniform
from .firm_sizes import REPORT_BANDS, FirmSizes, LognormalSizes, band_labels
from .kernels.city import drop_casual_ties, group_order
from .networks import (
    Layers,
    SocialNetwork,
    adjacency,
    clique_pairs,
    complete_network,
    erdos_renyi,
    random_pairs_within,
    split_groups,
)
from .params import ParameterError, ParamGroup, param
from .population import Population, Status

__all__ = [
    "Campuses",
    "City",
    "CityParams",
    "Sector",
    "Territory",
    "Traits",
    "Workplaces",
    "build_city",
]


@dataclasses.dataclass(frozen=True)
class Sector(ParamGroup):
    """A sector (craft or industry) and its share of the workforce.

    Attributes:
        name: Sector name, e.g. ``"metalworking"``.
        share: Share of all workers employed in the sector, in [0, 1].
    """

    name: str = param("industry", kind=str)
    share: float = param(1.0, kind=float, low=0.0, high=1.0)


@dataclasses.dataclass(frozen=True)
class Workplaces(ParamGroup):
    """How the workforce is split into firms and how coworkers are tied.

    Attributes:
        sizes: Firm-size distribution (:mod:`dualpower_sim.firm_sizes`).
        sectors: Sectors and their shares of workers (shares sum to 1). Firms are assigned whole to
            a sector so that the workers' shares match up to one firm's granularity.
        shop_size: Largest shop (workshop, department) inside a firm, in workers; coworkers in a
            shop are all tied, so small firms are complete graphs and big ones clusters of shops.
        firm_ties: Mean random ties per worker to coworkers anywhere in the same firm.
        sector_ties: Mean random ties per worker to workers of the same sector (mostly other firms).
        subcontract_max_size: Firms of at most this many workers may be subcontractors.
        subcontract_share: Probability that such a small firm works for a lead firm.
        lead_min_size: Firms of at least this many workers can be lead firms.
        chain_ties: Mean ties per subcontractor worker to workers of its lead firm.
        precarious_tie_loss: Probability that a workplace tie of a casual or informal worker is
            missing (casual labour is less embedded in the workplace).
    """

    sizes: FirmSizes = dataclasses.field(
        default_factory=lambda: LognormalSizes(median=8.0, sigma=1.6)
    )
    sectors: tuple[Sector, ...] = (
        Sector("metalworking", 0.35),
        Sector("textiles", 0.20),
        Sector("construction", 0.15),
        Sector("services", 0.30),
    )
    shop_size: int = param(8, kind=int, low=1, high=200)
    firm_ties: float = param(2.0, kind=float, low=0.0, high=100.0)
    sector_ties: float = param(1.0, kind=float, low=0.0, high=100.0)
    subcontract_max_size: int = param(20, kind=int, low=1)
    subcontract_share: float = param(0.3, kind=float, low=0.0, high=1.0)
    lead_min_size: int = param(200, kind=int, low=1)
    chain_ties: float = param(1.0, kind=float, low=0.0, high=100.0)
    precarious_tie_loss: float = param(0.3, kind=float, low=0.0, high=1.0)

    def validate(self) -> None:  # noqa: D102
        if not isinstance(self.sizes, FirmSizes):
            raise ParameterError(
                "Workplaces.sizes", self.sizes, "allowed: LognormalSizes, ParetoSizes or SizeBands"
            )
        try:
            sectors = tuple(s if isinstance(s, Sector) else Sector(*s) for s in self.sectors)
        except TypeError:
            raise ParameterError(
                "Workplaces.sectors", self.sectors, "allowed: a list of (name, share) pairs"
            ) from None
        object.__setattr__(self, "sectors", sectors)
        if not sectors:
            raise ParameterError("Workplaces.sectors", self.sectors, "allowed: at least one sector")
        names = [s.name for s in sectors]
        slugs = [re.sub(r"[^0-9a-z]+", "_", n.lower()).strip("_") for n in names]
        if len(set(slugs)) != len(slugs):
            raise ParameterError(
                "Workplaces.sectors",
                names,
                "allowed: sector names that stay distinct when punctuation and case are ignored",
            )
        if self.subcontract_max_size >= self.lead_min_size:
            raise ParameterError(
                "Workplaces.subcontract_max_size",
                self.subcontract_max_size,
                f"allowed: below lead_min_size = {self.lead_min_size}",
            )
        total = sum(s.share for s in sectors)
        if abs(total - 1.0) > 1e-6:
            raise ParameterError(
                "Workplaces.sectors",
                [s.share for s in sectors],
                f"allowed: shares summing to 1 (got {total:.6g})",
            )


@dataclasses.dataclass(frozen=True)
class Territory(ParamGroup):
    """Neighbourhoods laid out on a square grid, markets, and the ties of residents.

    The size of a neighbourhood, not their number, is held fixed by default, so a city keeps its
    local dynamics (police per neighbourhood, crowds that outnumber them) when it is scaled up.

    Attributes:
        neighbourhoods: Number of neighbourhoods (barrios), or None for one per
            ``residents_per_neighbourhood`` workers. El Alto had 550 for about 800,000 people
            (article), about 1,450 each.
        residents_per_neighbourhood: Mean residents of a neighbourhood when ``neighbourhoods``
            is None.
        size_sigma: Spread (sd of log) of neighbourhood populations; 0 gives equal expected sizes.
        residential_clustering: Probability that a worker lives in the neighbourhood where their
            firm stands rather than anywhere in the city.
        block_size: Largest block (street, courtyard) of residents who all know each other.
        neighbourhood_ties: Mean random ties per resident to others of the same neighbourhood.
        adjacent_ties: Mean ties per resident to residents of adjacent neighbourhoods (rook moves).
        markets: Number of markets, or None for one per ``neighbourhoods_per_market``; each
            neighbourhood's vendors go to the nearest one.
        neighbourhoods_per_market: Neighbourhoods per market when ``markets`` is None.
        vendor_share: Share of casual or informal workers who vend at a market.
        market_ties: Mean ties per vendor to other vendors of the same market.
    """

    neighbourhoods: int | None = param(None, kind=int, low=1, high=1_000_000, optional=True)
    residents_per_neighbourhood: int = param(200, kind=int, low=1)
    size_sigma: float = param(0.4, kind=float, low=0.0, high=3.0)
    residential_clustering: float = param(0.5, kind=float, low=0.0, high=1.0)
    block_size: int = param(6, kind=int, low=1, high=200)
    neighbourhood_ties: float = param(2.0, kind=float, low=0.0, high=100.0)
    adjacent_ties: float = param(1.0, kind=float, low=0.0, high=100.0)
    markets: int | None = param(None, kind=int, low=0, optional=True)
    neighbourhoods_per_market: int = param(10, kind=int, low=1)
    vendor_share: float = param(0.5, kind=float, low=0.0, high=1.0)
    market_ties: float = param(3.0, kind=float, low=0.0, high=100.0)

    def count(self, n_workers: int) -> int:
        """Number of neighbourhoods for a city of ``n_workers``."""
        if self.neighbourhoods is not None:
            return self.neighbourhoods
        return max(1, round(n_workers / self.residents_per_neighbourhood))

    def market_count(self, n_neighbourhoods: int) -> int:
        """Number of markets for a city of ``n_neighbourhoods`` (never more than neighbourhoods)."""
        if self.markets is not None:
            return min(self.markets, n_neighbourhoods)
        return max(1, round(n_neighbourhoods / self.neighbourhoods_per_market))


@dataclasses.dataclass(frozen=True)
class Campuses(ParamGroup):
    """Campuses and the ties among students.

    Attributes:
        campuses: Number of campuses students are spread over, or None for one per
            ``students_per_campus`` students.
        students_per_campus: Mean students of a campus when ``campuses`` is None.
        class_size: Largest class of students who all know each other.
        campus_ties: Mean random ties per student to others of the same campus.
    """

    campuses: int | None = param(None, kind=int, low=1, optional=True)
    students_per_campus: int = param(5_000, kind=int, low=1)
    class_size: int = param(25, kind=int, low=1, high=500)
    campus_ties: float = param(3.0, kind=float, low=0.0, high=100.0)

    def count(self, n_students: int) -> int:
        """Number of campuses for ``n_students`` students."""
        if self.campuses is not None:
            return self.campuses
        return max(1, round(n_students / self.students_per_campus))


@dataclasses.dataclass(frozen=True)
class Traits(ParamGroup):
    """Distributions of the workers' individual traits (drawn independently of each other).

    Attributes:
        union_share: Probability of trade-union membership.
        student_share: Probability of being a student (who also works, often casually).
        precarious_share: Probability of casual or informal work.
        allegiance: Shares of no allegiance, moderate and revolutionary (sum to 1).
        hardship: Distribution of material hardship H in [0, 1] (Epstein 2002 draws U(0, 1); our
            default Beta(2, 3) has mean 0.4 and fewer extremes).
        risk_aversion: Distribution of risk aversion R in [0, 1] (Epstein 2002: U(0, 1)).
    """

    union_share: float = param(0.25, kind=float, low=0.0, high=1.0)
    student_share: float = param(0.05, kind=float, low=0.0, high=1.0)
    precarious_share: float = param(0.25, kind=float, low=0.0, high=1.0)
    allegiance: tuple[float, float, float] = (0.6, 0.3, 0.1)
    hardship: Distribution = dataclasses.field(default_factory=lambda: Beta(2.0, 3.0))
    risk_aversion: Distribution = dataclasses.field(default_factory=lambda: Uniform(0.0, 1.0))

    def validate(self) -> None:  # noqa: D102
        try:
            a = tuple(float(x) for x in self.allegiance)
        except (TypeError, ValueError):
            a = ()
        if len(a) != 3 or min(a) < 0 or abs(sum(a) - 1) > 1e-6:
            raise ParameterError(
                "Traits.allegiance",
                self.allegiance,
                "allowed: three shares (none, moderate, revolutionary) >= 0 summing to 1",
            )
        object.__setattr__(self, "allegiance", a)
        for name in ("hardship", "risk_aversion"):
            if not isinstance(getattr(self, name), Distribution):
                raise ParameterError(
                    f"Traits.{name}", getattr(self, name), "allowed: a Distribution"
                )


TOPOLOGIES = ("city", "complete", "erdos_renyi")


@dataclasses.dataclass(frozen=True)
class CityParams(ParamGroup):
    """Everything that describes a city.

    Attributes:
        workplaces: Firms and workplace ties.
        territory: Neighbourhoods, markets and territorial ties.
        campuses: Campuses and student ties.
        traits: Distributions of individual traits.
        territorial_share: Weight of the territorial layer in how workers are organised; the
            workplace layer gets ``1 - territorial_share``. 0 is a purely workplace-organised city
            (Petrograd 1917), 1 a purely territorial one (El Alto 2003, the Paris Commune).
        campus_weight: Weight of the campus layer for students, relative to the two above.
        topology: ``"city"`` (the layers above), or a validation topology: ``"complete"`` (well
            mixed, Granovetter 1978) or ``"erdos_renyi"`` (Watts 2002).
        mean_degree: Mean degree of the ``"erdos_renyi"`` topology.
    """

    workplaces: Workplaces = dataclasses.field(default_factory=Workplaces)
    territory: Territory = dataclasses.field(default_factory=Territory)
    campuses: Campuses = dataclasses.field(default_factory=Campuses)
    traits: Traits = dataclasses.field(default_factory=Traits)
    territorial_share: float = param(0.5, kind=float, low=0.0, high=1.0)
    campus_weight: float = param(0.5, kind=float, low=0.0, high=10.0)
    topology: str = param("city", kind=str, choices=TOPOLOGIES)
    mean_degree: float = param(10.0, kind=float, low=0.0)

    def validate(self) -> None:  # noqa: D102
        for name, kind in (
            ("workplaces", Workplaces),
            ("territory", Territory),
            ("campuses", Campuses),
            ("traits", Traits),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ParameterError(
                    f"CityParams.{name}", getattr(self, name), f"allowed: a {kind.__name__}"
                )

    @property
    def layer_weights(self) -> dict[str, float]:
        """Weight of each layer in the mix."""
        return {
            "workplace": 1.0 - self.territorial_share,
            "territorial": self.territorial_share,
            "campus": self.campus_weight,
        }


@dataclasses.dataclass(eq=False)
class City:
    """A drawn city.

    Attributes:
        population: The workers' arrays.
        network: Their ties.
        firm_size: Workers per firm (index = firm id).
        firm_start: First worker id of each firm (a firm's workers have consecutive ids).
        firm_sector: Sector of each firm.
        firm_neighbourhood: Neighbourhood where each firm stands.
        firm_lead: Lead firm of each subcontractor, or -1.
        neighbourhood_xy: Grid coordinates of each neighbourhood, shape ``(n, 2)``.
        market_neighbourhood: Neighbourhood where each market stands.
        n_campuses: Number of campuses.
    """

    population: Population
    network: SocialNetwork
    firm_size: np.ndarray
    firm_start: np.ndarray
    firm_sector: np.ndarray
    firm_neighbourhood: np.ndarray
    firm_lead: np.ndarray
    neighbourhood_xy: np.ndarray
    market_neighbourhood: np.ndarray
    n_campuses: int

    @property
    def n_firms(self) -> int:
        """Number of firms."""
        return int(self.firm_size.size)

    @property
    def n_neighbourhoods(self) -> int:
        """Number of neighbourhoods."""
        return int(self.neighbourhood_xy.shape[0])

    def firm_size_table(self, bands: tuple[tuple[int, float], ...] = REPORT_BANDS) -> pd.DataFrame:
        """Firms and workers by firm-size band.

        Args:
            bands: ``(low, high)`` limits in workers, inclusive; default Smith's Petrograd bands.

        Returns:
            One row per band: number of firms, workers, and the share of all workers.
        """
        edges = np.array([lo for lo, _ in bands] + [math.inf])
        which = np.searchsorted(edges, self.firm_size, side="right") - 1
        firms = np.bincount(which, minlength=len(bands))[: len(bands)]
        workers = np.bincount(which, weights=self.firm_size, minlength=len(bands))[: len(bands)]
        return pd.DataFrame(
            {
                "firms": firms.astype(int),
                "workers": workers.astype(int),
                "worker_share": workers / max(self.firm_size.sum(), 1),
            },
            index=pd.Index(band_labels(bands), name="firm_size"),
        )

    def report(self, rng: np.random.Generator, sample: int = 2000) -> dict[str, object]:
        """Statistics a user can check the city against.

        Args:
            rng: Generator for the clustering sample (pass one that the run does not use).
            sample: Workers sampled per layer for the clustering estimate.

        Returns:
            A dict with ``workers``, ``firms``, ``mean_firm_size``, ``share_in_1000_plus`` (share
            of workers in firms of more than 1,000, Smith's top band),
            ``firm_sizes`` (table by band), ``sectors`` (worker shares), ``neighbourhoods``,
            ``degrees`` and ``clustering`` (tables by layer).
        """
        pop = self.population
        sectors = pd.Series(
            np.bincount(pop.sector, minlength=len(pop.sector_names)) / pop.n,
            index=pd.Index(pop.sector_names, name="sector"),
            name="worker_share",
        )
        return {
            "workers": pop.n,
            "firms": self.n_firms,
            "mean_firm_size": float(self.firm_size.mean()),
            # Smith's top band, "over 1,000" workers (the article's "1,000 workers or more").
            "share_in_1000_plus": float(self.firm_size[self.firm_size > 1000].sum() / pop.n),
            "firm_sizes": self.firm_size_table(),
            "sectors": sectors,
            "neighbourhoods": self.n_neighbourhoods,
            "students": int(pop.student.sum()),
            "vendors": int((pop.market >= 0).sum()),
            "subcontractors": int((self.firm_lead >= 0).sum()),
            "degrees": self.network.degree_table(),
            "clustering": self.network.clustering_table(rng, sample),
        }


def _pick_weighted(
    candidates: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``k`` candidates with replacement, with probability proportional to weight."""
    cum = np.cumsum(weights, dtype=np.float64)
    idx = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
    return candidates[np.minimum(idx, candidates.size - 1)]


def _grouped(
    keys: np.ndarray, n_groups: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Worker ids grouped by key (random order inside a group) and the group sizes."""
    perm = rng.permutation(keys.size)
    counts = np.zeros(max(n_groups, int(keys.max()) + 1 if keys.size else 0), dtype=np.int64)
    order = np.empty(keys.size, dtype=perm.dtype)
    group_order(keys, perm, counts, order)  # the stable argsort of keys[perm], in one pass
    return order, counts


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of ``n`` cells on a square grid and the rook adjacency pairs."""
    side = math.ceil(math.sqrt(n))
    ids = np.arange(n)
    x, y = ids % side, ids // side
    right = ids[(x + 1 < side) & (ids + 1 < n)]
    down = ids[ids + side < n]
    rows = np.concatenate([right, down])
    cols = np.concatenate([right + 1, down + side])
    return np.column_stack([x, y]), np.column_stack([rows, cols])


def build_city(params: CityParams, n_workers: int, rng: np.random.Generator) -> City:
    """Draw a city of ``n_workers`` workers.

    Args:
        params: The city's description.
        n_workers: Number of workers (>= 2).
        rng: Generator; the city is a deterministic function of its state.

    Returns:
        The city, with its population all passive.

    Raises:
        ParameterError: If ``n_workers`` is too small for the configured firm sizes.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int | np.integer) or n_workers < 2:
        raise ParameterError("n_workers", n_workers, "allowed: an integer >= 2")
    n = int(n_workers)
    wp, terr, camp, tr = params.workplaces, params.territory, params.campuses, params.traits

    # --- firms: sizes in random order, workers of a firm get consecutive ids -----------------
    sizes = rng.permutation(wp.sizes.draw(n, rng)).astype(np.int64)
    n_firms = sizes.size
    firm_start = np.cumsum(sizes) - sizes
    firm = np.repeat(np.arange(n_firms, dtype=np.intp), sizes)

    # Sectors: walk the (randomly ordered) firms and cut the cumulative workforce at the shares.
    shares = np.cumsum([s.share for s in wp.sectors])
    mid = (firm_start + sizes / 2) / n
    firm_sector = np.minimum(
        np.searchsorted(shares, mid, side="right"), len(wp.sectors) - 1
    ).astype(np.int16)
    sector = firm_sector[firm]

    # --- neighbourhoods on a grid; firms stand in one, workers live near work or anywhere -------
    n_nb = terr.count(n)
    xy, nb_pairs = _grid(n_nb)
    nb_weight = rng.lognormal(0.0, terr.size_sigma, n_nb) if terr.size_sigma > 0 else np.ones(n_nb)
    nb_ids = np.arange(n_nb)
    firm_nb = _pick_weighted(nb_ids, nb_weight, n_firms, rng).astype(np.int32)
    near_work = rng.random(n) < terr.residential_clustering
    anywhere = _pick_weighted(nb_ids, nb_weight, n, rng)
    neighbourhood = np.where(near_work, firm_nb[firm], anywhere).astype(np.intp)

    # --- individual traits ---------------------------------------------------------------
    union = rng.random(n) < tr.union_share
    student = rng.random(n) < tr.student_share
    precarious = rng.random(n) < tr.precarious_share
    allegiance = np.searchsorted(np.cumsum(tr.allegiance)[:-1], rng.random(n), side="right").astype(
        np.int8
    )
    hardship = np.clip(tr.hardship.sample(rng, n), 0.0, 1.0)
    risk_aversion = np.clip(tr.risk_aversion.sample(rng, n), 0.0, 1.0)
    n_campuses = camp.count(int(student.sum()))
    campus = np.where(student, rng.integers(0, n_campuses, n), -1).astype(np.int32)

    # Markets stand in random neighbourhoods; each neighbourhood's vendors use the nearest.
    n_markets = terr.market_count(n_nb)
    market_nb = (
        rng.choice(n_nb, size=n_markets, replace=False)
        if n_markets
        else np.zeros(0, dtype=np.int64)
    )
    if n_markets:
        _, nearest_market = cKDTree(xy[market_nb]).query(xy)
        vendor = precarious & (rng.random(n) < terr.vendor_share)
        market = np.where(vendor, nearest_market[neighbourhood], -1).astype(np.int32)
    else:
        market = np.full(n, -1, dtype=np.int32)

    population = Population(
        firm=firm,
        neighbourhood=neighbourhood,
        sector=sector,
        union=union,
        allegiance=allegiance,
        hardship=hardship,
        risk_aversion=risk_aversion,
        precarious=precarious,
        student=student,
        campus=campus,
        market=market,
        status=np.full(n, Status.PASSIVE, dtype=np.int8),
        jail_release=np.zeros(n, dtype=np.int32),
        sector_names=tuple(s.name for s in wp.sectors),
    )

    # --- subcontracting chains: small firms work for a large lead firm of their sector -------
    firm_lead = np.full(n_firms, -1, dtype=np.int64)
    is_sub = (sizes <= wp.subcontract_max_size) & (rng.random(n_firms) < wp.subcontract_share)
    leads = np.flatnonzero(sizes >= wp.lead_min_size)
    if leads.size and is_sub.any():
        for s in range(len(wp.sectors)):  # loop over a handful of sectors, not over workers
            subs = np.flatnonzero(is_sub & (firm_sector == s))
            if not subs.size:
                continue
            pool = leads[firm_sector[leads] == s]
            pool = pool if pool.size else leads  # no large firm in the sector: any large firm
            firm_lead[subs] = _pick_weighted(pool, sizes[pool].astype(float), subs.size, rng)

    if params.topology == "complete":
        network = complete_network(n)
    elif params.topology == "erdos_renyi":
        if params.mean_degree > n - 1:
            raise ParameterError(
                "CityParams.mean_degree", params.mean_degree, f"allowed: <= n_workers - 1 = {n - 1}"
            )
        network = erdos_renyi(n, params.mean_degree, rng)
    else:
        # The layers' ties are drawn first, then sorted into the network's matrices at once.
        ties = {
            "workplace": _workplace_ties(wp, population, sizes, firm_start, firm_lead, rng),
            "territorial": _territorial_ties(terr, population, n_nb, nb_pairs, rng),
            "campus": _campus_ties(camp, population, n_campuses, rng),
        }
        layers = Layers.from_ties(n, ties)
        del ties
        network = SocialNetwork(n=n, layers=layers, weights=params.layer_weights)
    return City(
        population=population,
        network=network,
        firm_size=sizes,
        firm_start=firm_start,
        firm_sector=firm_sector,
        firm_neighbourhood=firm_nb,
        firm_lead=firm_lead,
        neighbourhood_xy=xy,
        market_neighbourhood=market_nb,
        n_campuses=n_campuses,
    )


def _workplace_ties(wp: Workplaces, pop: Population, sizes, firm_start, firm_lead, rng):
    n = pop.n
    ids = np.arange(n, dtype=np.int64)  # workers are already grouped by firm
    parts = [clique_pairs(ids, split_groups(sizes, wp.shop_size))]
    parts.append(random_pairs_within(ids, sizes, wp.firm_ties, rng))
    order, counts = _grouped(pop.sector.astype(np.int64), len(pop.sector_names), rng)
    parts.append(random_pairs_within(order, counts, wp.sector_ties, rng))
    if wp.chain_ties > 0:
        in_chain = np.flatnonzero(firm_lead[pop.firm] >= 0)
        whole = math.floor(wp.chain_ties)
        k = np.full(in_chain.size, whole) + (rng.random(in_chain.size) < wp.chain_ties - whole)
        src = np.repeat(in_chain, k)
        lead = firm_lead[pop.firm[src]]
        dst = firm_start[lead] + (rng.random(src.size) * sizes[lead]).astype(np.int64)
        parts.append((src.astype(np.int32), dst.astype(np.int32)))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    if wp.precarious_tie_loss > 0:
        draws = rng.random(rows.size)
        kept = drop_casual_ties(rows, cols, pop.precarious, draws, wp.precarious_tie_loss)
        rows, cols = rows[:kept], cols[:kept]
    return rows, cols


def _territorial_ties(terr: Territory, pop: Population, n_nb: int, nb_pairs, rng):
    n = pop.n
    order, counts = _grouped(pop.neighbourhood.astype(np.int64), n_nb, rng)
    parts = [clique_pairs(order, split_groups(counts, terr.block_size))]
    parts.append(random_pairs_within(order, counts, terr.neighbourhood_ties, rng))
    if terr.adjacent_ties > 0 and nb_pairs.size:
        nb_adj = adjacency(n_nb, nb_pairs[:, 0].astype(np.int32), nb_pairs[:, 1].astype(np.int32))
        nb_deg = np.diff(nb_adj.indptr)
        starts = np.cumsum(counts) - counts
        whole = math.floor(terr.adjacent_ties)
        k = np.full(n, whole) + (rng.random(n) < terr.adjacent_ties - whole)
        k[nb_deg[pop.neighbourhood] == 0] = 0
        src = np.repeat(np.arange(n, dtype=np.int64), k)
        home = pop.neighbourhood[src]
        pick = nb_adj.indptr[home] + (rng.random(src.size) * nb_deg[home]).astype(np.int64)
        other = nb_adj.indices[pick]
        has_people = counts[other] > 0
        src, other = src[has_people], other[has_people]
        dst = order[starts[other] + (rng.random(src.size) * counts[other]).astype(np.int64)]
        parts.append((src.astype(np.int32), dst.astype(np.int32)))
    vendors = np.flatnonzero(pop.market >= 0)
    if vendors.size:
        v_order, v_counts = _grouped(
            pop.market[vendors].astype(np.int64), int(pop.market.max()) + 1, rng
        )
        parts.append(random_pairs_within(vendors[v_order], v_counts, terr.market_ties, rng))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    return rows, cols


def _campus_ties(camp: Campuses, pop: Population, n_campuses: int, rng):
    students = np.flatnonzero(pop.campus >= 0)
    if not students.size:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    s_order, s_counts = _grouped(pop.campus[students].astype(np.int64), n_campuses, rng)
    members = students[s_order]
    parts = [
        clique_pairs(members, split_groups(s_counts, camp.class_size)),
        random_pairs_within(members, s_counts, camp.campus_ties, rng),
    ]
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    return rows, cols
