import numpy as np
import pytest

from dualpower_sim import (
    PETROGRAD_1917,
    CityParams,
    ParameterError,
    Territory,
    Traits,
    Workplaces,
    build_city,
)
from dualpower_sim.city import Campuses


@pytest.fixture(scope="module")
def city():
    return build_city(CityParams(), 20_000, np.random.default_rng(7))


def test_every_worker_has_one_firm_and_firms_are_contiguous(city):
    pop = city.population
    assert city.firm_size.sum() == pop.n
    np.testing.assert_array_equal(np.bincount(pop.firm, minlength=city.n_firms), city.firm_size)
    np.testing.assert_array_equal(pop.firm[city.firm_start], np.arange(city.n_firms))


def test_sector_shares_match_config_up_to_firm_granularity(city):
    shares = city.report(np.random.default_rng(0))["sectors"]
    target = [s.share for s in CityParams().workplaces.sectors]
    np.testing.assert_allclose(
        shares.to_numpy(), target, atol=city.firm_size.max() / city.population.n + 0.01
    )


def test_layers_are_symmetric_and_overlap_in_people(city):
    layers = city.network.layers
    for name, a in layers.items():
        assert (a != a.T).nnz == 0, name
        assert a.diagonal().sum() == 0, name
    # Everybody works and lives somewhere: both layers reach almost everyone.
    assert np.mean(city.network.degree("workplace") > 0) > 0.99
    assert np.mean(city.network.degree("territorial") > 0) > 0.99
    # Campus ties only between students.
    campus = layers["campus"].tocoo()
    assert city.population.student[campus.row].all() and city.population.student[campus.col].all()


def test_ties_respect_units(city):
    pop = city.population
    coo = city.network.layers["territorial"].tocoo()
    same = pop.neighbourhood[coo.row] == pop.neighbourhood[coo.col]
    # Ties across neighbourhoods only go to adjacent ones (rook moves) or through a market.
    xy = city.neighbourhood_xy
    dist = np.abs(xy[pop.neighbourhood[coo.row]] - xy[pop.neighbourhood[coo.col]]).sum(axis=1)
    market = (pop.market[coo.row] >= 0) & (pop.market[coo.row] == pop.market[coo.col])
    assert np.all(same | (dist == 1) | market)


def test_mean_degree_is_about_ten_per_layer(city):
    deg = city.network.degree_table()
    assert 8 <= deg.loc["workplace", "mean"] <= 14
    assert 8 <= deg.loc["territorial", "mean"] <= 14


def test_residential_clustering_ties_workplaces_to_neighbourhoods():
    def same_home_share(rho):
        c = build_city(
            CityParams(territory=Territory(residential_clustering=rho)),
            10_000,
            np.random.default_rng(1),
        )
        coo = c.network.layers["workplace"].tocoo()
        return np.mean(c.population.neighbourhood[coo.row] == c.population.neighbourhood[coo.col])

    assert same_home_share(0.9) > same_home_share(0.0) + 0.5


def test_subcontractors_are_small_and_leads_large():
    c = build_city(CityParams(), 20_000, np.random.default_rng(3))
    subs = np.flatnonzero(c.firm_lead >= 0)
    assert subs.size > 0
    wp = CityParams().workplaces
    assert c.firm_size[subs].max() <= wp.subcontract_max_size
    assert c.firm_size[c.firm_lead[subs]].min() >= wp.lead_min_size


def test_territorial_share_moves_the_city_between_layers():
    work_only = build_city(CityParams(territorial_share=0.0), 5_000, np.random.default_rng(2))
    a = work_only.network.layers["workplace"]
    mix = work_only.network.mix
    non_students = ~work_only.population.student & (np.diff(a.indptr) > 0)
    # Purely workplace-organised: a non-student's ties in the mix are exactly their coworkers.
    rows = np.flatnonzero(non_students)[:200]
    for i in rows:
        assert set(mix[i].indices) == set(a[i].indices)


def test_petrograd_city_report(rng):
    c = build_city(CityParams(workplaces=Workplaces(sizes=PETROGRAD_1917)), 50_000, rng)
    report = c.report(np.random.default_rng(0))
    assert report["share_in_1000_plus"] == pytest.approx(0.679, abs=0.001)
    table = report["firm_sizes"]
    assert table["worker_share"].sum() == pytest.approx(1.0)
    assert set(report["clustering"].index) == {"workplace", "territorial", "campus", "all"}
    assert (report["clustering"]["clustering"].between(0, 1)).all()


def test_same_generator_state_gives_the_same_city():
    a = build_city(CityParams(), 3_000, np.random.default_rng(5))
    b = build_city(CityParams(), 3_000, np.random.default_rng(5))
    for name in a.network.layers:
        assert (a.network.layers[name] != b.network.layers[name]).nnz == 0
    for trait in a.population.TRAITS:
        np.testing.assert_array_equal(getattr(a.population, trait), getattr(b.population, trait))


def test_trait_shares(rng):
    c = build_city(
        CityParams(traits=Traits(union_share=0.4, student_share=0.1, allegiance=(0.2, 0.3, 0.5))),
        40_000,
        rng,
    )
    pop = c.population
    assert pop.union.mean() == pytest.approx(0.4, abs=0.01)
    assert pop.student.mean() == pytest.approx(0.1, abs=0.01)
    np.testing.assert_allclose(np.bincount(pop.allegiance) / pop.n, [0.2, 0.3, 0.5], atol=0.01)
    assert (pop.campus >= 0).sum() == pop.student.sum()


def test_small_or_bad_populations_are_refused(rng):
    with pytest.raises(ParameterError, match="n_workers"):
        build_city(CityParams(), 1, rng)
    with pytest.raises(ParameterError, match="n_workers"):
        build_city(CityParams(workplaces=Workplaces(sizes=PETROGRAD_1917)), 500, rng)
    with pytest.raises(ParameterError, match="mean_degree"):
        build_city(CityParams(topology="erdos_renyi", mean_degree=50.0), 20, rng)


def test_one_campus_and_no_markets_work(rng):
    c = build_city(
        CityParams(territory=Territory(markets=0, neighbourhoods=1), campuses=Campuses(campuses=1)),
        500,
        rng,
    )
    assert (c.population.market == -1).all()
    assert c.n_neighbourhoods == 1


def _cross(a, key_row, key_col):
    coo = a.tocoo()
    return key_row[coo.row], key_col[coo.col]


def test_each_kind_of_workplace_tie_is_there():
    c = build_city(CityParams(), 20_000, np.random.default_rng(4))
    pop = c.population
    coo = c.network.layers["workplace"].tocoo()
    other_firm = pop.firm[coo.row] != pop.firm[coo.col]
    same_sector = pop.sector[coo.row] == pop.sector[coo.col]
    to_lead = c.firm_lead[pop.firm[coo.row]] == pop.firm[coo.col]
    # Ties leave the firm only for the same sector or along a subcontracting chain.
    assert other_firm.any()
    assert np.all(
        ~other_firm | same_sector | to_lead | (c.firm_lead[pop.firm[coo.col]] == pop.firm[coo.row])
    )
    assert to_lead.sum() > 100  # chains tie subcontractors' workers to their lead firm
    # Casual workers lose ties.
    deg = c.network.degree("workplace")
    assert deg[pop.precarious].mean() < deg[~pop.precarious].mean() - 1


def test_no_sector_ties_keeps_ties_inside_firms_and_chains():
    wp = Workplaces(sector_ties=0.0, chain_ties=0.0)
    c = build_city(CityParams(workplaces=wp), 5_000, np.random.default_rng(4))
    coo = c.network.layers["workplace"].tocoo()
    assert np.all(c.population.firm[coo.row] == c.population.firm[coo.col])


def test_markets_tie_vendors_across_neighbourhoods():
    c = build_city(CityParams(), 20_000, np.random.default_rng(4))
    pop = c.population
    coo = c.network.layers["territorial"].tocoo()
    xy = c.neighbourhood_xy
    far = np.abs(xy[pop.neighbourhood[coo.row]] - xy[pop.neighbourhood[coo.col]]).sum(axis=1) > 1
    assert far.any()
    assert np.all(pop.market[coo.row[far]] >= 0) and np.all(
        pop.market[coo.row[far]] == pop.market[coo.col[far]]
    )
    none = build_city(
        CityParams(territory=Territory(market_ties=0.0)), 20_000, np.random.default_rng(4)
    )
    coo = none.network.layers["territorial"].tocoo()
    xy = none.neighbourhood_xy
    d = np.abs(
        xy[none.population.neighbourhood[coo.row]] - xy[none.population.neighbourhood[coo.col]]
    ).sum(axis=1)
    assert (d <= 1).all()


def test_campus_weight_and_territorial_share_move_the_mix():
    for share, layer in ((1.0, "territorial"), (0.0, "workplace")):
        c = build_city(
            CityParams(territorial_share=share, campus_weight=0.0), 3_000, np.random.default_rng(2)
        )
        a = c.network.layers[layer]
        rows = np.flatnonzero(np.diff(a.indptr) > 0)[:300]
        for i in rows:  # students included: campus weight 0 drops their campus ties
            assert set(c.network.mix[i].indices) == set(a[i].indices)
    c = build_city(CityParams(campus_weight=5.0), 3_000, np.random.default_rng(2))
    student = np.flatnonzero(c.population.student & (c.network.degree("campus") > 0))[0]
    campus_ties = c.network.layers["campus"][student].indices
    weight_on_campus = c.network.mix[student, campus_ties].sum()
    assert weight_on_campus == pytest.approx(5.0 / (0.5 + 0.5 + 5.0), rel=0.05)
