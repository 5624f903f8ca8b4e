import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualpower_sim.networks import (
    SocialNetwork,
    adjacency,
    clique_pairs,
    clustering_estimate,
    complete_network,
    erdos_renyi,
    random_pairs_within,
    split_groups,
)


def test_split_groups_is_balanced_and_complete():
    sizes = np.array([1, 8, 9, 17, 0, 30])
    parts = split_groups(sizes, 8)
    assert parts.sum() == sizes.sum()
    assert parts.max() <= 8
    # 9 splits as 5 + 4, not 8 + 1.
    np.testing.assert_array_equal(parts[:4], [1, 8, 5, 4])


def test_clique_pairs_are_all_pairs_in_each_group():
    members = np.array([7, 3, 9, 1, 4, 0, 2])
    sizes = np.array([3, 1, 3])
    r, c = clique_pairs(members, sizes)
    got = {frozenset(p) for p in zip(r.tolist(), c.tolist(), strict=True)}
    expected = {frozenset(p) for p in itertools.combinations([7, 3, 9], 2)} | {
        frozenset(p) for p in itertools.combinations([4, 0, 2], 2)
    }
    assert got == expected and len(r) == 6


def test_random_pairs_stay_inside_groups(rng):
    members = rng.permutation(1000)
    sizes = np.array([1, 99, 400, 500])
    group = np.empty(1000, dtype=int)
    group[members] = np.repeat(np.arange(4), sizes)
    r, c = random_pairs_within(members, sizes, 2.5, rng)
    assert np.all(group[r] == group[c])
    assert np.all(r != c)
    assert not np.any(group[r] == 0)  # a group of one sends no ties
    assert len(r) == pytest.approx(999 * 2.5, rel=0.05)


def test_adjacency_is_symmetric_binary_without_self_ties():
    r = np.array([0, 1, 1, 2, 3], dtype=np.int32)
    c = np.array([1, 0, 2, 2, 0], dtype=np.int32)
    a = adjacency(4, r, c)
    assert (a != a.T).nnz == 0
    assert a.diagonal().sum() == 0
    assert set(a.data.tolist()) == {1.0}
    assert a.nnz == 6  # ties 0-1 (twice given), 1-2, 3-0


def test_erdos_renyi_has_the_right_mean_degree_and_no_duplicates(rng):
    net = erdos_renyi(20_000, 6.0, rng)
    a = net.layers["random"]
    deg = net.degree()
    assert deg.mean() == pytest.approx(6.0, rel=0.03)
    assert (a != a.T).nnz == 0 and a.diagonal().sum() == 0
    # Poisson degrees: variance close to the mean.
    assert deg.var() == pytest.approx(6.0, rel=0.1)


def test_complete_network_share_is_share_of_the_others():
    net = complete_network(5)
    x = np.array([1, 1, 0, 0, 0], dtype=np.float32)
    np.testing.assert_allclose(net.neighbour_share(x), [0.25, 0.25, 0.5, 0.5, 0.5])
    g = net.to_networkx()
    assert g.number_of_edges() == 10


def test_mix_weights_layers_and_renormalises_for_missing_layers():
    work = adjacency(4, np.array([0, 0], dtype=np.int32), np.array([1, 2], dtype=np.int32))
    terr = adjacency(4, np.array([0], dtype=np.int32), np.array([3], dtype=np.int32))
    net = SocialNetwork(
        n=4,
        layers={"workplace": work, "territorial": terr},
        weights={"workplace": 0.25, "territorial": 0.75},
    )
    x = np.array([0, 1, 0, 1], dtype=np.float32)
    share = net.neighbour_share(x)
    # worker 0: workplace share 1/2 (weight .25), territorial share 1 (weight .75)
    assert share[0] == pytest.approx(0.25 * 0.5 + 0.75 * 1.0)
    # worker 1 has only workplace ties: its share is its workplace share, whatever the weights
    assert share[1] == pytest.approx(0.0)
    assert share[3] == pytest.approx(0.0)
    rows = np.asarray(net.mix.sum(axis=1)).ravel()
    np.testing.assert_allclose(rows, 1.0, rtol=1e-6)


def test_clustering_estimate_matches_networkx(rng):
    g = nx.powerlaw_cluster_graph(600, 4, 0.5, seed=np.random.RandomState(3))
    a = nx.to_scipy_sparse_array(g, format="csr", dtype=np.float32)
    import scipy.sparse as sp

    est, se, k = clustering_estimate(sp.csr_matrix(a), rng, sample=10_000)
    assert est == pytest.approx(nx.average_clustering(g), abs=1e-6)
    assert k == 600 and se == 0.0


def test_to_networkx_refuses_large_networks(rng):
    net = erdos_renyi(60_000, 1.0, rng)
    with pytest.raises(ValueError, match="n <= 50000"):
        net.to_networkx()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    density=st.sampled_from([0.0, 0.02, 0.3, 0.5, 0.97, 1.0]),
    flips=st.lists(st.integers(0, 2_000), min_size=1, max_size=12),
)
def test_share_tracker_gives_the_bits_of_a_full_product(seed, density, flips):
    # Incremental updates must equal a fresh sparse product exactly, whatever the sequence of
    # changes (small ones go through the update, large ones through a full recomputation).
    from dualpower_sim import CityParams, build_city

    rng = np.random.default_rng(seed)
    net = NETWORK_CACHE.setdefault(
        "city", build_city(CityParams(), 2_000, np.random.default_rng(1)).network
    )
    tracker = net.share_tracker()
    mask = rng.random(net.n) < density
    got = tracker(mask)
    np.testing.assert_array_equal(got, net.neighbour_share(mask))
    for k in flips:
        mask = mask.copy()
        mask[rng.choice(net.n, size=k, replace=False)] ^= True
        got = tracker(mask)
        np.testing.assert_array_equal(got, net.neighbour_share(mask))
        assert not got.flags.writeable


NETWORK_CACHE: dict = {}


def test_share_tracker_of_a_large_city_asks_ahead_and_keeps_the_bits():
    # Above SHARE_PREFETCH_WORKERS the update also asks the CPU ahead for the shares it changes:
    # another code path, which must give the same bits as the full product.
    from dualpower_sim import CityParams, build_city
    from dualpower_sim.kernels.mobilization import SHARE_PREFETCH_WORKERS

    rng = np.random.default_rng(11)
    net = build_city(CityParams(), SHARE_PREFETCH_WORKERS + 3_000, rng).network
    assert net.n > SHARE_PREFETCH_WORKERS
    assert_tracker_gives_full_products(net, rng, (5, 200, 3_000))


def assert_tracker_gives_full_products(net, rng, flips):
    """Check a share tracker against full products: 30% marked, then ``k`` marks flipped each."""
    tracker = net.share_tracker()
    mask = rng.random(net.n) < 0.3
    tracker(mask)
    for k in flips:
        mask = mask.copy()
        mask[rng.choice(net.n, size=k, replace=False)] ^= True
        np.testing.assert_array_equal(tracker(mask), net.neighbour_share(mask))


def test_mixed_weights_lie_on_the_exactness_grid(rng):
    from dualpower_sim import CityParams, build_city
    from dualpower_sim.networks import MIX_GRID

    net = build_city(CityParams(territorial_share=0.37, campus_weight=2.3), 3_000, rng).network
    scaled = net.mix.data * MIX_GRID
    np.testing.assert_array_equal(scaled, np.rint(scaled))
    rows = np.asarray(net.mix.sum(axis=1)).ravel()
    np.testing.assert_allclose(rows[rows > 0], 1.0, atol=1e-9)


def test_tracked_and_gathered_shares_give_a_full_products_bits():
    # The tracker adds the changed workers' ties to yesterday's shares, and the council rule
    # sums a few workers' rows: both must give the full product's exact result, however many
    # changed (the shares must not depend on the path).
    from dualpower_sim import CityParams, build_city

    rng = np.random.default_rng(7)
    net = NETWORK_CACHE.setdefault(
        "city", build_city(CityParams(), 2_000, np.random.default_rng(1)).network
    )
    assert_tracker_gives_full_products(net, rng, (1, 40, 150))
    x = rng.random(net.n)
    rows = rng.choice(net.n, size=300, replace=False)
    np.testing.assert_array_equal(net.neighbour_share_of(rows, x), net.neighbour_share(x)[rows])
