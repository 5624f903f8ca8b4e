"""The compiled kernels that build a city's network give exactly what the numpy/scipy code gave.

Each test runs the kernel-backed function beside a plain numpy/scipy reference (the code the
kernels replaced, kept here only as a reference) and asserts equal arrays, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from dualpower_sim import CityParams
from dualpower_sim.city import _grouped, build_city
from dualpower_sim.networks import (
    MIX_GRID,
    Layers,
    SocialNetwork,
    adjacency,
    clique_pairs,
    random_pairs_within,
)


def reference_adjacency(n, rows, cols):
    keep = rows != cols
    r, c = rows[keep], cols[keep]
    data = np.ones(2 * r.size, dtype=np.float32)
    m = sp.csr_matrix((data, (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def reference_mix(n, layers, weights):
    top = max(weights.values(), default=0.0)
    used, norm = [], np.zeros(n)
    for name, a in layers.items():
        w = weights.get(name, 0.0) / top if top > 0 else 0.0
        if w < 1e-9 or a.nnz == 0:
            continue
        deg = np.diff(a.indptr)
        used.append((w, a, deg))
        norm += w * (deg > 0)
    inv = np.divide(1.0, norm, out=np.zeros(n), where=norm > 0)
    total = sp.csr_matrix((n, n), dtype=np.float32)
    for w, a, deg in used:
        row_weight = np.divide(w * inv, deg, out=np.zeros(n), where=deg > 0).astype(np.float32)
        scaled = a.copy()
        scaled.data *= np.repeat(row_weight, deg)
        total = total + scaled
    total.sort_indices()
    mix = sp.csr_matrix((total.data.astype(np.float64), total.indices, total.indptr), (n, n))
    mix.data *= MIX_GRID
    np.rint(mix.data, out=mix.data)
    mix.data /= MIX_GRID
    return mix


def reference_random_pairs(members, sizes, k, rng):
    sizes = np.asarray(sizes, dtype=np.int64)
    if k <= 0 or members.size == 0:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty
    starts = np.cumsum(sizes) - sizes
    grp_start = np.repeat(starts, sizes)
    grp_size = np.repeat(sizes, sizes)
    whole = math.floor(k)
    n_ties = np.full(members.size, whole, dtype=np.int64)
    if k > whole:
        n_ties += rng.random(members.size) < (k - whole)
    n_ties[grp_size < 2] = 0
    src = np.repeat(np.arange(members.size, dtype=np.int64), n_ties)
    dst = grp_start[src] + (rng.random(src.size) * grp_size[src]).astype(np.int64)
    keep = dst != src
    return members[src[keep]].astype(np.int32), members[dst[keep]].astype(np.int32)


def same_matrix(a, b):
    assert a.shape == b.shape
    for field in ("indptr", "indices", "data"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype, field
        np.testing.assert_array_equal(x, y, err_msg=field)


def random_ties(rng, n, m, dtype=np.int32):
    return rng.integers(0, n, m).astype(dtype), rng.integers(0, n, m).astype(dtype)


@pytest.mark.parametrize("n, m", [(1, 0), (5, 0), (7, 40), (300, 2000), (2000, 500)])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_adjacency_equals_scipy_assembly(n, m, dtype):
    rows, cols = random_ties(np.random.default_rng(n + m), n, m, dtype)
    a = adjacency(n, rows, cols)
    same_matrix(a, reference_adjacency(n, rows, cols))
    assert a.has_canonical_format


def test_adjacency_rejects_a_worker_outside_the_city():
    with pytest.raises(ValueError, match="outside"):
        adjacency(3, np.array([0, 3], dtype=np.int32), np.array([1, 1], dtype=np.int32))
    with pytest.raises(ValueError, match="outside"):
        adjacency(3, np.array([0], dtype=np.int32), np.array([-1], dtype=np.int32))


def three_layers(n, seed):
    rng = np.random.default_rng(seed)
    ties = {
        "workplace": random_ties(rng, n, 3 * n),
        "territorial": random_ties(rng, n, 2 * n),
        "campus": random_ties(rng, n // 10, n // 5),  # only the first tenth have ties
    }
    # Some ties in two or three layers, and duplicates within a layer.
    shared = random_ties(rng, n // 10, n // 3)
    for name in ties:
        r, c = ties[name]
        ties[name] = (np.concatenate([r, shared[0], r[:5]]), np.concatenate([c, shared[1], c[:5]]))
    return ties


@pytest.mark.parametrize("n", [10, 400, 3000])
def test_layers_equal_one_adjacency_per_layer(n):
    ties = three_layers(n, n)
    layers = Layers.from_ties(n, ties)
    assert list(layers) == list(ties)
    union = reference_adjacency(
        n,
        np.concatenate([r for r, _ in ties.values()]),
        np.concatenate([c for _, c in ties.values()]),
    )
    for name, (r, c) in ties.items():
        ref = reference_adjacency(n, r, c)
        same_matrix(layers[name], ref)
        assert layers.counts[name] == ref.nnz
        np.testing.assert_array_equal(layers.degree[list(ties).index(name)], np.diff(ref.indptr))
    same_matrix(layers.merged(), union)
    again = Layers.from_matrices(n, {name: reference_adjacency(n, *t) for name, t in ties.items()})
    for field in ("indptr", "indices", "bits", "degree"):
        np.testing.assert_array_equal(getattr(again, field), getattr(layers, field))


@pytest.mark.parametrize(
    "weights",
    [
        {"workplace": 0.5, "territorial": 0.5, "campus": 0.5},
        {"workplace": 0.85, "territorial": 0.15, "campus": 0.5},
        {"workplace": 1.0, "territorial": 0.0, "campus": 0.3},  # a layer left out of the mix
        {"workplace": 0.0, "territorial": 0.0, "campus": 0.0},  # no mix at all
    ],
)
def test_mix_equals_the_sum_of_scaled_layers(weights):
    n = 2000
    ties = three_layers(n, 7)
    matrices = {name: reference_adjacency(n, *t) for name, t in ties.items()}
    net = SocialNetwork(n=n, layers=Layers.from_ties(n, ties), weights=weights)
    ref = reference_mix(n, matrices, weights)
    same_matrix(net.mix, ref)
    transposed = ref.T.tocsr()
    np.testing.assert_array_equal(transposed.indptr, ref.indptr)
    np.testing.assert_array_equal(net.mix_transposed_data, transposed.data)
    np.testing.assert_array_equal(net.row_sums, np.asarray(ref.sum(axis=1)).ravel())
    # The same network from matrices (the public constructor) gives the same mix.
    same_matrix(SocialNetwork(n=n, layers=matrices, weights=weights).mix, ref)


@pytest.mark.parametrize(
    "rows, cols",
    [
        ([0], [1]),  # one tie one way
        # A one-way cycle and a two-way tie: as many ties to each worker as from it.
        ([0, 1, 2, 0, 3], [1, 2, 0, 3, 0]),
    ],
    ids=["one tie", "one-way cycle"],
)
def test_an_asymmetric_layer_is_refused(rows, cols):
    a = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(4, 4))
    with pytest.raises(ValueError, match="not symmetric"):
        SocialNetwork(n=4, layers={"one-way": a}, weights={"one-way": 1.0})


def test_a_network_holds_at_most_eight_layers():
    ties = {
        f"l{k}": (np.array([0], dtype=np.int32), np.array([1], dtype=np.int32)) for k in range(9)
    }
    with pytest.raises(ValueError, match="at most 8"):
        Layers.from_ties(2, ties)


@pytest.mark.parametrize("k", [0.0, 0.4, 1.0, 2.5])
def test_random_pairs_within_draws_as_numpy_did(k):
    sizes = np.array([0, 1, 2, 5, 0, 17, 1, 40])
    members = np.random.default_rng(3).permutation(sizes.sum()) + 100
    got = random_pairs_within(members, sizes, k, np.random.default_rng(9))
    want = reference_random_pairs(members, sizes, k, np.random.default_rng(9))
    for x, y in zip(got, want, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_grouping_is_the_stable_sort_of_a_permutation():
    keys = np.random.default_rng(4).integers(0, 13, 5000)
    order, counts = _grouped(keys, 15, np.random.default_rng(5))
    perm = np.random.default_rng(5).permutation(keys.size)
    np.testing.assert_array_equal(order, perm[np.argsort(keys[perm], kind="stable")])
    np.testing.assert_array_equal(counts, np.bincount(keys, minlength=15))


def test_clique_pairs_are_every_pair_of_each_group_in_order():
    members = np.arange(10, 20)
    rows, cols = clique_pairs(members, np.array([3, 0, 1, 6]))
    pairs = [(10, 11), (10, 12), (11, 12)]
    pairs += [(a, b) for a in range(14, 20) for b in range(a + 1, 20)]
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == pairs
    assert rows.dtype == cols.dtype == np.int32


def test_a_city_network_keeps_its_layers_in_one_pattern():
    city = build_city(CityParams(), 3000, np.random.default_rng(2))
    net = city.network
    layers = net.layers
    assert isinstance(layers, Layers)
    # The mix shares the pattern's arrays when every layer is in it.
    assert np.shares_memory(net.mix.indices, layers.indices)
    assert np.shares_memory(net.mix.indptr, layers.indptr)
    assert net.nnz == sum(layers[name].nnz for name in layers)
    for name in layers:
        np.testing.assert_array_equal(net.degree(name), np.diff(layers[name].indptr))
    np.testing.assert_array_equal(net.degree(), np.diff(net.merged().indptr))
