"""Social networks of workers as ``scipy.sparse`` matrices.

A city has up to three *layers*, each a symmetric 0/1 adjacency matrix over worker ids:

- ``workplace``: coworkers (shops inside firms, ties across shops), firms of the same sector, and
  subcontracting chains from small firms to a lead firm;
- ``territorial``: residents of a neighbourhood (blocks and barrio-wide ties), adjacent
  neighbourhoods, and vendors meeting at a market;
- ``campus``: students of a campus (classes and campus-wide ties).

:class:`SocialNetwork` mixes the layers with one weight each into a row-stochastic matrix ``W``
so that ``W @ x`` is every worker's weighted share of neighbours with ``x = 1``: for worker ``i``,
``sum_l w_l * share_l(i) / sum_{l: deg_l(i) > 0} w_l``. Workers without ties in a layer (a
non-student on campus) have that layer's weight spread over the layers they do belong to.

Validation topologies (:func:`complete_network`, :func:`erdos_renyi`) let the mobilization rules be
checked against Granovetter (1978) and Watts (2002). The layers are held together as one sparse
pattern (:class:`Layers`, a byte per tie naming its layers) from which each layer's matrix is
built on demand; the pattern and the mix are built by compiled kernels
(:mod:`dualpower_sim.kernels.networks`), the random ties drawn with numpy as before. networkx is
used only by :meth:`SocialNetwork.to_networkx`, for small networks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .kernels.city import random_ties, tie_counts
from .kernels.councils import neighbour_shares_of
from .kernels.mobilization import sync_share
from .kernels.networks import (
    clique_fill,
    count_ties,
    layer_rows,
    merge_duplicates,
    merge_layers,
    mix_entries,
    scatter_ties,
    sort_rows,
)

__all__ = [
    "LAYERS",
    "Layers",
    "ShareTracker",
    "SocialNetwork",
    "adjacency",
    "clique_pairs",
    "clustering_estimate",
    "complete_network",
    "concatenated_ranges",
    "erdos_renyi",
    "random_pairs_within",
    "split_groups",
]

#: The layers a city network can have, in a fixed order.
LAYERS: tuple[str, ...] = ("workplace", "territorial", "campus")

#: Largest network :meth:`SocialNetwork.to_networkx` will export.
NETWORKX_MAX_NODES = 50_000

#: Mixed weights are multiples of 1 / MIX_GRID (see :meth:`SocialNetwork._mix`).
MIX_GRID = 2.0**40


def split_groups(sizes: np.ndarray, chunk: int) -> np.ndarray:
    """Split contiguous groups into near-equal sub-groups of at most ``chunk`` members.

    Args:
        sizes: Size of each group (groups are contiguous runs of members).
        chunk: Largest sub-group size (>= 1).

    Returns:
        Sizes of the sub-groups, group by group, in order; they sum to ``sizes.sum()``.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    sizes = sizes[sizes > 0]
    n_sub = -(-sizes // chunk)
    base = np.repeat(sizes // n_sub, n_sub)
    extra = np.repeat(sizes % n_sub, n_sub)
    first = np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    rank = np.arange(base.size) - first
    return base + (rank < extra)


def clique_pairs(members: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs inside each group: a complete graph per group.

    Args:
        members: Worker ids ordered so that each group is a contiguous run.
        sizes: Size of each run, in order (sums to ``members.size``).

    Returns:
        ``(rows, cols)`` int32 arrays with one entry per unordered pair.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_pairs = int(np.sum(sizes * (sizes - 1) // 2))
    rows = np.empty(n_pairs, dtype=np.int32)
    cols = np.empty(n_pairs, dtype=np.int32)
    clique_fill(members, sizes, rows, cols)
    return rows, cols


def random_pairs_within(
    members: np.ndarray,
    sizes: np.ndarray,
    k: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Random ties from each member to others of its group.

    Each member sends ``floor(k)`` ties, plus one more with probability ``k - floor(k)``, to members
    drawn uniformly from its own group (self-ties are dropped; groups of one send none).

    Args:
        members: Worker ids ordered so that each group is a contiguous run.
        sizes: Size of each run, in order.
        k: Mean number of ties sent per member (>= 0).
        rng: Generator.

    Returns:
        ``(rows, cols)`` int32 arrays.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if k <= 0 or members.size == 0:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty
    whole = math.floor(k)
    draws = rng.random(members.size) if k > whole else np.zeros(0)
    n_ties = np.empty(members.size, dtype=np.int64)
    total = tie_counts(sizes, whole, draws, k - whole, n_ties)
    rows = np.empty(total, dtype=np.int32)
    cols = np.empty(total, dtype=np.int32)
    kept = random_ties(members, sizes, n_ties, rng.random(total), rows, cols)
    return rows[:kept], cols[:kept]


def adjacency(n: int, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
    """Symmetric 0/1 adjacency matrix from unordered pairs (duplicates merged, no self-ties).

    Args:
        n: Number of workers.
        rows: One end of each tie.
        cols: Other end of each tie.

    Returns:
        ``n x n`` CSR matrix, float32 ones, int32 indices, sorted.
    """
    indptr, indices, _, _ = _pattern(n, [(rows, cols)])
    m = sp.csr_matrix(
        (np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(n, n), copy=False
    )
    m.has_canonical_format = True  # sorted, without duplicates, as _pattern makes them
    return m


def _pattern(
    n: int, ties: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The symmetric pattern of some layers' ties (see :mod:`dualpower_sim.kernels.networks`).

    Args:
        n: Number of workers.
        ties: Each layer's ``(rows, cols)``: the two ends of each of its ties (at most 8 layers).

    Returns:
        ``(indptr, indices, bits, degree)``: the union of the ties as CSR row pointers and
        sorted column indices (int32 unless that overflows, as scipy chooses), each tie's layer
        bits (uint8) and each worker's ties per layer (int32, shape ``(layers, n)``).
    """
    if len(ties) > 8:
        raise ValueError(f"a network holds at most 8 layers, not {len(ties)}")
    ties = [(np.asarray(rows), np.asarray(cols)) for rows, cols in ties]
    # Large arrays are allocated here rather than in the kernels: numpy asks the kernel for
    # huge pages, which makes first touching them several times cheaper at 10^6 workers.
    # Positions in int32 when they fit: the counting sorts' random reads of them hit the cache
    # twice as often.
    bound = 2 * sum(rows.size for rows, _ in ties)
    position = np.int32 if max(n, bound) <= np.iinfo(np.int32).max else np.int64
    start = np.zeros(n + 1, dtype=position)
    for rows, cols in ties:
        count_ties(n, rows, cols, start)
    np.cumsum(start, out=start)
    total = int(start[n])
    dtype = np.int32 if max(n, total) <= np.iinfo(np.int32).max else np.int64
    # The counting sorts move each entry's other end and layer packed in one integer.
    packing = np.int32 if 8 * n <= np.iinfo(np.int32).max else np.int64
    scattered = np.empty(total, dtype=packing)
    fill = start[:n].copy()
    for layer, (rows, cols) in enumerate(ties):
        scatter_ties(rows, cols, layer, fill, scattered)
    packed = np.empty(total, dtype=packing)
    sort_rows(start, scattered, fill, packed)
    del scattered, fill
    indptr = np.empty(n + 1, dtype=dtype)
    bits = np.empty(total, dtype=np.uint8)
    degree = np.zeros((len(ties), n), dtype=np.int32)
    nnz = merge_duplicates(start, packed, bits, indptr, degree)
    indices = packed[:nnz]
    # Duplicate ties leave a tail of unused entries: copied away only when it is worth it.
    if nnz < total - total // 8 or indices.dtype != dtype:
        return indptr, indices.astype(dtype), bits[:nnz].copy(), degree
    return indptr, indices, bits[:nnz], degree


class Layers(Mapping[str, sp.csr_matrix]):
    """A network's layers: layer name to symmetric 0/1 CSR adjacency matrix, built on demand.

    The layers are held together as one pattern, the union of their ties with a byte per tie
    saying which layers hold it (see :mod:`dualpower_sim.kernels.networks`): a third of the
    memory of three separate matrices at 10^6 workers. ``layers[name]`` builds that layer's
    matrix (float32 ones, sorted indices, no duplicates) anew at each call.

    Args:
        n: Number of workers.
        names: The layers' names, in order (at most 8).
        indptr: The pattern's CSR row pointers.
        indices: The pattern's column indices, sorted within each row.
        bits: Bit ``l`` of a tie's byte set where layer ``l`` holds it.
        degree: Each worker's ties per layer, shape ``(layers, n)``.
    """

    def __init__(
        self,
        n: int,
        names: tuple[str, ...],
        indptr: np.ndarray,
        indices: np.ndarray,
        bits: np.ndarray,
        degree: np.ndarray,
    ) -> None:
        self.n = n
        self.names = tuple(names)
        self.indptr = indptr
        self.indices = indices
        self.bits = bits
        self.degree = degree
        #: Ties (stored entries) of each layer.
        self.counts = {name: int(degree[k].sum()) for k, name in enumerate(self.names)}

    @classmethod
    def from_ties(cls, n: int, ties: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Layers:
        """Layers from their ties, as :func:`adjacency` makes each layer's matrix.

        Args:
            n: Number of workers.
            ties: Layer name to ``(rows, cols)``, the two ends of each tie (duplicates merged,
                self-ties dropped).

        Returns:
            The layers.
        """
        return cls(n, tuple(ties), *_pattern(n, list(ties.values())))

    @classmethod
    def from_matrices(cls, n: int, layers: Mapping[str, sp.csr_matrix]) -> Layers:
        """Layers from their matrices (symmetric, 0/1: a stored entry is a tie).

        Args:
            n: Number of workers.
            layers: Layer name to ``n x n`` CSR matrix.

        Returns:
            The layers.

        Raises:
            ValueError: If there are more than 8 layers or a layer is not symmetric.
        """
        if len(layers) > 8:
            raise ValueError(f"a network holds at most 8 layers, not {len(layers)}")
        matrices = []
        for name, a in layers.items():
            if not a.has_canonical_format:  # the merge needs sorted rows, no duplicates
                a = a.copy()
                a.sum_duplicates()
            # The mix reads a tie's transpose from the tie itself, so the pattern must equal its
            # transpose's (counting ties each way is not enough: a one-way cycle passes it).
            t = a.T.tocsr()
            t.sort_indices()
            if not (np.array_equal(t.indptr, a.indptr) and np.array_equal(t.indices, a.indices)):
                raise ValueError(f"layer {name!r} is not symmetric")
            matrices.append(a)
        bound = sum(a.nnz for a in matrices)
        wide = any(a.indices.dtype != np.int32 for a in matrices)
        dtype = np.int64 if wide or bound > np.iinfo(np.int32).max else np.int32
        indptr = np.empty(n + 1, dtype=dtype)
        indices = np.empty(bound, dtype=dtype)
        bits = np.empty(bound, dtype=np.uint8)
        if matrices:
            nnz = merge_layers(
                tuple(a.indptr.astype(np.int64) for a in matrices),
                tuple(a.indices.astype(dtype, copy=False) for a in matrices),
                indptr,
                indices,
                bits,
            )
        else:
            indptr[:] = 0
            nnz = 0
        degree = np.zeros((len(matrices), n), dtype=np.int32)
        for k, a in enumerate(matrices):
            degree[k] = np.diff(a.indptr)
        return cls(n, tuple(layers), indptr, indices[:nnz].copy(), bits[:nnz].copy(), degree)

    def __getitem__(self, name: str) -> sp.csr_matrix:
        k = self.names.index(name) if name in self.names else -1
        if k < 0:
            raise KeyError(name)
        indptr = np.empty(self.n + 1, dtype=self.indptr.dtype)
        indices = np.empty(self.counts[name], dtype=self.indices.dtype)
        layer_rows(self.indptr, self.indices, self.bits, 1 << k, indptr, indices)
        m = sp.csr_matrix(
            (np.ones(indices.size, dtype=np.float32), indices, indptr),
            shape=(self.n, self.n),
            copy=False,
        )
        m.has_canonical_format = True
        return m

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def merged(self) -> sp.csr_matrix:
        """The union of the layers as one 0/1 matrix (sharing the pattern's arrays)."""
        m = sp.csr_matrix(
            (np.ones(self.indices.size, dtype=np.float32), self.indices, self.indptr),
            shape=(self.n, self.n),
            copy=False,
        )
        m.has_canonical_format = True
        return m


def complete_network(n: int) -> SocialNetwork:
    """Complete graph on ``n`` workers (well mixed), without materialising n^2 ties.

    The neighbour share of worker ``i`` is ``(sum(x) - x_i) / (n - 1)``: Granovetter's (1978)
    "share of the others". Fine for any ``n``; :meth:`SocialNetwork.to_networkx` materialises it.

    Args:
        n: Number of workers (>= 2).

    Returns:
        The network.
    """
    return SocialNetwork(n=n, layers={}, weights={}, kind="complete")


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> SocialNetwork:
    """Erdos-Renyi random graph G(n, p) with ``p = mean_degree / (n - 1)``.

    The number of ties is drawn from its binomial distribution and the ties are a uniform sample
    without replacement of the ``n (n - 1) / 2`` possible pairs, which is exactly G(n, p).

    Args:
        n: Number of workers (>= 2).
        mean_degree: Expected number of ties per worker, in [0, n - 1].
        rng: Generator.

    Returns:
        A one-layer network (layer ``"random"``).
    """
    pairs = n * (n - 1) // 2
    p = mean_degree / (n - 1)
    m = int(rng.binomial(pairs, p))
    idx = rng.choice(pairs, size=m, replace=False) if m else np.zeros(0, dtype=np.int64)
    # Decode the linear index of pair (i, j), i > j, laid out row by row: idx = i(i-1)/2 + j.
    i = np.floor((1 + np.sqrt(1 + 8 * idx.astype(np.float64))) / 2).astype(np.int64)
    i -= (i * (i - 1) // 2) > idx  # correct float rounding
    i += ((i + 1) * i // 2) <= idx
    j = idx - i * (i - 1) // 2
    layers = Layers.from_ties(n, {"random": (i.astype(np.int32), j.astype(np.int32))})
    return SocialNetwork(n=n, layers=layers, weights={"random": 1.0}, kind="erdos_renyi")


def clustering_estimate(
    a: sp.csr_matrix, rng: np.random.Generator, sample: int = 2000
) -> tuple[float, float, int]:
    """Estimate the average local clustering coefficient from a random sample of workers.

    The average is over the workers with at least one tie in ``a`` (the layer's members: a campus
    layer's clustering is that of students, not diluted by everyone else); workers with a single
    tie count as zero, as in networkx's ``average_clustering``.

    Args:
        a: Symmetric 0/1 adjacency matrix.
        rng: Generator for the sample.
        sample: Number of workers sampled (all of them if the network is smaller).

    Returns:
        ``(estimate, standard_error, sample_size)``.
    """
    members = np.flatnonzero(np.diff(a.indptr) > 0)
    n = members.size
    if n == 0:
        return 0.0, 0.0, 0
    nodes = members if n <= sample else rng.choice(members, size=sample, replace=False)
    rows = a[nodes]
    deg = np.asarray(rows.sum(axis=1)).ravel()
    closed = np.asarray((rows @ a).multiply(rows).sum(axis=1)).ravel()  # 2 x triangles
    possible = deg * (deg - 1)
    local = np.divide(closed, possible, out=np.zeros_like(closed, dtype=float), where=possible > 0)
    se = float(local.std(ddof=1) / math.sqrt(local.size)) if local.size > 1 and n > sample else 0.0
    return float(local.mean()), se, int(local.size)


@dataclasses.dataclass(eq=False)
class SocialNetwork:
    """The workers' ties, by layer, and their weighted mix.

    Attributes:
        n: Number of workers.
        layers: Layer name to symmetric 0/1 CSR adjacency matrix (at most 8 layers; a stored
            entry is a tie). Given as :class:`Layers` (see :meth:`Layers.from_ties`) or as any
            mapping of matrices, which is turned into :class:`Layers`.
        weights: Layer name to its weight (>= 0) in the mix.
        kind: ``"city"``, ``"complete"`` or ``"erdos_renyi"``.
    """

    n: int
    layers: Mapping[str, sp.csr_matrix]
    weights: Mapping[str, float]
    kind: str = "city"

    def __post_init__(self) -> None:
        if not isinstance(self.layers, Layers):
            self.layers = Layers.from_matrices(self.n, self.layers)
        self.weights = {name: float(self.weights.get(name, 0.0)) for name in self.layers}
        #: The weighted mix of the layers (row-normalised, CSR); None for a complete network,
        #: whose shares need no matrix.
        self.mix: sp.csr_matrix | None = None
        self._transposed = np.zeros(0)
        self._row_sums = np.zeros(0)
        if self.kind != "complete":
            # The transpose's values and the row sums come out of the same pass as the mix,
            # so that their cost counts in the build rather than in some step.
            self.mix, self._transposed, self._row_sums = self._mix()

    def _mix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        n = self.n
        layers = self.layers
        if not isinstance(layers, Layers):  # pragma: no cover - set so by __post_init__
            raise TypeError("SocialNetwork.layers must be Layers")
        top = max(self.weights.values(), default=0.0)
        used = []
        norm = np.zeros(n, dtype=np.float64)
        for k, name in enumerate(layers.names):
            w = self.weights[name] / top if top > 0 else 0.0  # only ratios of weights matter
            if w < 1e-9 or layers.counts[name] == 0:  # a negligible layer would only add noise
                continue
            deg = layers.degree[k]
            used.append((k, w, deg))
            norm += w * (deg > 0)
        inv = np.divide(1.0, norm, out=np.zeros(n), where=norm > 0)
        if not used:
            indptr = np.zeros(n + 1, dtype=np.int32)
            empty = sp.csr_matrix(
                (np.zeros(0), np.zeros(0, dtype=np.int32), indptr), shape=(n, n), copy=False
            )
            return empty, np.zeros(0), np.zeros(n)
        # A tie's weight in a worker's row, per layer, in float32 (memory matters at 10^6
        # workers); the sum over layers is taken in float32 too, widened to float64 only for
        # the quantisation. Weights on a grid of 2^-40: every sum of weights is then exact in
        # float64 whatever the order of summation, so updating shares incrementally
        # (ShareTracker) gives bit for bit what a full product gives. Weights are computed in
        # float32 (relative error 6e-8) and the rounding adds < 1e-12: both far below
        # SHARE_TOLERANCE.
        row_weight = np.zeros((len(layers), n), dtype=np.float32)
        used_bits = 0
        for k, w, deg in used:
            row_weight[k] = np.divide(w * inv, deg, out=np.zeros(n), where=deg > 0)
            used_bits |= 1 << k
        size = layers.indices.size
        # Every tie in the mix: it shares the pattern's indices and row pointers.
        every = all(
            layers.counts[name] == 0
            for k, name in enumerate(layers.names)
            if not used_bits >> k & 1
        )
        if every:
            indptr, indices = layers.indptr, layers.indices
        else:
            indptr = np.empty(n + 1, dtype=layers.indptr.dtype)
            indices = np.empty(size, dtype=layers.indices.dtype)
        # Allocated here, not in the kernel, and together: numpy asks for huge pages for a block
        # of 4 MB or more (see _pattern), and a small city's two arrays are just below that.
        block = np.empty(2 * size)
        values, transposed = block[:size], block[size:]
        del block
        row_sums = np.empty(n)
        nnz = mix_entries(
            layers.indptr,
            layers.indices,
            layers.bits,
            used_bits,
            row_weight,
            np.ascontiguousarray(row_weight.T),
            MIX_GRID,
            not every,
            indptr,
            indices,
            values,
            transposed,
            row_sums,
        )
        if nnz < size:
            indices, values, transposed = (
                indices[:nnz].copy(),
                values[:nnz].copy(),
                transposed[:nnz].copy(),
            )
        mix = sp.csr_matrix((values, indices, indptr), shape=(n, n), copy=False)
        mix.has_canonical_format = True
        return mix, transposed, row_sums

    def _matrix(self) -> sp.csr_matrix:
        """:attr:`mix`, which every network but a complete one has."""
        if self.mix is None:
            raise ValueError("a complete network has no mixing matrix")  # pragma: no cover
        return self.mix

    def neighbour_share(self, x: np.ndarray) -> np.ndarray:
        """Weighted share of each worker's neighbours for which ``x`` is 1 (a full product).

        Args:
            x: Per-worker values in [0, 1] (typically the mobilized mask).

        Returns:
            Per-worker share in [0, 1] (float64); 0 for workers with no ties.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "complete":
            if self.n < 2:
                return np.zeros(self.n)
            return (x.sum() - x) / (self.n - 1)
        return self.mix @ x

    @property
    def mix_transposed_data(self) -> np.ndarray:
        """``mix.T`` laid out on ``mix``'s own pattern: entry k of row j holds ``mix[i, j]``.

        The layers are symmetric, so ``mix`` has a symmetric pattern and its transpose shares
        ``indptr`` and ``indices``; only the values differ (row scales are per worker). Used to
        update shares from the workers whose state changed (:class:`ShareTracker`).
        """
        self._matrix()
        return self._transposed

    @property
    def row_sums(self) -> np.ndarray:
        """Each worker's share if every neighbour were marked: 1, or 0 without ties (exact)."""
        self._matrix()
        return self._row_sums

    def neighbour_share_of(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``neighbour_share(x)`` for the workers in ``rows`` only (cost: their ties).

        Args:
            rows: Worker ids.
            x: Per-worker values in [0, 1].

        Returns:
            One share per id in ``rows``.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "complete":
            return self.neighbour_share(x)[rows]

        m = self._matrix()
        # Each row summed in its order, as ``m[rows] @ x`` sums it, without the sub-matrix.
        return neighbour_shares_of(m.indptr, m.indices, m.data, np.asarray(rows), x)

    def share_tracker(self) -> ShareTracker:
        """A :class:`ShareTracker` keeping ``neighbour_share`` of a changing mask up to date."""
        return ShareTracker(self)

    def degree(self, layer: str | None = None) -> np.ndarray:
        """Number of ties of each worker, in one layer or in all layers merged.

        Args:
            layer: Layer name, or None for the union of all layers.

        Returns:
            Integer array of degrees.
        """
        if self.kind == "complete":
            return np.full(self.n, self.n - 1, dtype=np.int64)
        layers = self.layers
        if not isinstance(layers, Layers):  # pragma: no cover - set so by __post_init__
            raise TypeError("SocialNetwork.layers must be Layers")
        if layer is None:
            return np.diff(layers.indptr).astype(np.int64)
        if layer not in layers:
            raise KeyError(layer)
        return layers.degree[layers.names.index(layer)].astype(np.int64)

    def merged(self) -> sp.csr_matrix:
        """Union of all layers as one symmetric 0/1 adjacency matrix."""
        if self.kind == "complete":
            raise ValueError(
                "the complete network is not materialised; use to_networkx() for small n"
            )
        layers = self.layers
        if not isinstance(layers, Layers):  # pragma: no cover - set so by __post_init__
            raise TypeError("SocialNetwork.layers must be Layers")
        return layers.merged()

    @property
    def nnz(self) -> int:
        """Number of stored entries (directed ties) over all layers."""
        layers = self.layers
        if isinstance(layers, Layers):
            return sum(layers.counts.values())
        return sum(a.nnz for a in layers.values())  # pragma: no cover

    def degree_table(self) -> pd.DataFrame:
        """Degree distribution summary per layer and for all layers merged.

        Returns:
            One row per layer (and ``"all"``): mean, sd, min, median, 90th percentile, max, and the
            share of workers with no tie in that layer.
        """
        names = ["all"] if self.kind == "complete" else [*self.layers, "all"]
        rows = []
        for name in names:
            d = self.degree(None if name == "all" else name)
            rows.append(
                {
                    "layer": name,
                    "weight": self.weights.get(name, np.nan) if name != "all" else np.nan,
                    "mean": d.mean(),
                    "sd": d.std(),
                    "min": int(d.min()),
                    "median": float(np.median(d)),
                    "p90": float(np.percentile(d, 90)),
                    "max": int(d.max()),
                    "isolated": float(np.mean(d == 0)),
                }
            )
        return pd.DataFrame(rows).set_index("layer")

    def clustering_table(self, rng: np.random.Generator, sample: int = 2000) -> pd.DataFrame:
        """Clustering estimates per layer and for all layers merged (:func:`clustering_estimate`).

        Args:
            rng: Generator for the samples.
            sample: Workers sampled per layer.

        Returns:
            One row per layer: estimate, standard error, sample size.
        """
        if self.kind == "complete":
            return pd.DataFrame(
                [{"layer": "all", "clustering": 1.0, "se": 0.0, "sample": self.n}]
            ).set_index("layer")
        rows = []
        for name in [*self.layers, "all"]:
            a = self.merged() if name == "all" else self.layers[name]
            est, se, k = clustering_estimate(a, rng, sample)
            rows.append({"layer": name, "clustering": est, "se": se, "sample": k})
        return pd.DataFrame(rows).set_index("layer")

    def to_networkx(self, layer: str | None = None):
        """Export to a ``networkx.Graph`` (small networks only).

        Nodes are worker ids; for a city, each edge carries a ``layers`` attribute listing the
        layers it belongs to.

        Args:
            layer: One layer, or None for all layers merged.

        Returns:
            A ``networkx.Graph``.

        Raises:
            ValueError: If the network has more than 50,000 workers.
            ImportError: If networkx is not installed (``pip install 'dualpower_sim[networkx]'``).
        """
        if self.n > NETWORKX_MAX_NODES:
            raise ValueError(
                f"to_networkx() is for small networks: n = {self.n} workers, allowed: n <= "
                f"{NETWORKX_MAX_NODES}; work with the scipy.sparse layers instead"
            )
        try:
            import networkx as nx
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_networkx() needs networkx: pip install 'dualpower_sim[networkx]'"
            ) from exc
        if self.kind == "complete":
            return nx.complete_graph(self.n)
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        names = [layer] if layer is not None else list(self.layers)
        for name in names:
            coo = sp.triu(self.layers[name], k=1).tocoo()
            for u, v in zip(coo.row.tolist(), coo.col.tolist(), strict=True):
                if g.has_edge(u, v):
                    g[u][v]["layers"].append(name)
                else:
                    g.add_edge(u, v, layers=[name])
        return g


class ShareTracker:
    """Keeps each worker's weighted share of marked neighbours up to date as the marks change.

    Calling the tracker with today's mask returns ``network.neighbour_share(mask)``, computed
    from yesterday's shares plus the columns of the mix of the workers whose mark flipped, in
    one compiled pass (:func:`~dualpower_sim.kernels.mobilization.sync_share`). Because mixed
    weights lie on a 2^-40 grid, this gives the bits of a full product, whatever the order.

    Kernels that read the marks from elsewhere (a rule's statuses) may bring :attr:`share` and
    :attr:`marked` up to date themselves, in place, as long as the share stays that of the marks.

    Args:
        network: The network whose mix defines the shares.

    Attributes:
        network: The network.
        marked: The marks the shares are for (bool; none marked at first).
        share: Each worker's weighted share of marked neighbours (float64).
    """

    def __init__(self, network: SocialNetwork) -> None:
        self.network = network
        self.marked = np.zeros(network.n, dtype=bool)
        self.share = np.zeros(network.n)
        self._readonly = self._view()

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        """Shares for ``mask``.

        Args:
            mask: Boolean mark per worker (e.g. mobilized).

        Returns:
            Read-only float64 array of shares; valid until the next call.
        """
        net = self.network
        if net.kind == "complete":
            return net.neighbour_share(mask)
        m = net._matrix()
        sync_share(
            np.asarray(mask, dtype=bool),
            self.marked,
            self.share,
            m.indptr,
            m.indices,
            net.mix_transposed_data,
        )
        return self._readonly

    def _view(self) -> np.ndarray:
        """A read-only view of :attr:`share`, handed out while the tracker updates it in place."""
        view = self.share.view()
        view.flags.writeable = False
        return view

    def __getstate__(self) -> dict:
        """The tracker without its read-only view (pickle would copy it apart from the shares)."""
        state = self.__dict__.copy()
        del state["_readonly"]
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled tracker (pickle and Dask send models between processes)."""
        self.__dict__.update(state)
        # Arrays restored by pickle are views of its bytes: own them, to update them in place.
        self.marked = np.array(self.marked, copy=True)
        self.share = np.array(self.share, copy=True)
        self._readonly = self._view()


def concatenated_ranges(
    starts: np.ndarray, lengths: np.ndarray, total: int | None = None
) -> np.ndarray:
    """``concatenate([arange(s, s + k) for s, k in zip(starts, lengths)])`` without a loop.

    Args:
        starts: First value of each range.
        lengths: Length of each range (>= 0).
        total: ``lengths.sum()`` if already known.

    Returns:
        The ranges one after the other, as int64.
    """
    starts = np.asarray(starts, dtype=np.int64)
    if total is None:
        total = int(np.sum(lengths))
    # An arange shifted at each range's start: one repeat instead of a loop over ranges.
    return np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
