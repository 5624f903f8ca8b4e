"""Building the social network's sparse matrices: tie lists to adjacency, layers to their mix.

:func:`~dualpower_sim.networks.adjacency` turns a list of ties into a symmetric CSR matrix with
:func:`symmetric_rows` (one counting sort, then each row sorted and its duplicates dropped in
place), and :class:`~dualpower_sim.networks.SocialNetwork` mixes its layers with :func:`mix_rows`
(the rows of all layers merged once, giving the mix, its transpose's values and its row sums
together). They produce exactly the arrays scipy's assembly did (``coo_tocsr``,
``sum_duplicates``, ``csr_plus_csr`` and a transposition), with less memory and time: no
intermediate matrices, no transposition. :func:`clique_fill` writes the ties of complete groups
(shops, blocks, classes).
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["clique_fill", "count_ties", "mix_rows", "symmetric_rows"]

#: Rows up to this long are sorted by insertion (cheaper than a call to a general sort).
_INSERTION_MAX = 24


@jit
def clique_fill(members: np.ndarray, sizes: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Write every pair inside each group, group by group, each member with those after it.

    Args:
        members: Worker ids ordered so that each group is a contiguous run.
        sizes: Size of each run, in order (sums to ``members.size``).
        rows: Output, ``sum(s * (s - 1) / 2)`` entries: the earlier member of each pair.
        cols: Output, same length: the later member of each pair.
    """
    start = 0
    k = 0
    for g in range(sizes.size):
        end = start + sizes[g]
        for a in range(start, end):
            for b in range(a + 1, end):
                rows[k] = members[a]
                cols[k] = members[b]
                k += 1
        start = end


@jit
def count_ties(n: int, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray) -> None:
    """Count each worker's ties, in both directions, self-ties left out.

    Args:
        n: Number of workers.
        rows: One end of each tie (worker ids).
        cols: Other end of each tie (worker ids).
        counts: Output, ``n + 1`` zeros on entry: entry ``i + 1`` gets worker ``i``'s count.

    Raises:
        ValueError: If a tie names a worker outside ``0..n-1``.
    """
    for k in range(rows.size):
        r = rows[k]
        c = cols[k]
        if r < 0 or r >= n or c < 0 or c >= n:
            raise ValueError("a tie names a worker outside 0..n-1")
        if r != c:
            counts[r + 1] += 1
            counts[c + 1] += 1


@jit
def symmetric_rows(
    rows: np.ndarray,
    cols: np.ndarray,
    start: np.ndarray,
    fill: np.ndarray,
    buf: np.ndarray,
    indptr: np.ndarray,
) -> int:
    """Rows of the symmetric adjacency matrix of the ties ``(rows[k], cols[k])``.

    Each tie is entered in both directions (self-ties dropped) by a counting sort on the
    row, then each row is sorted and its duplicates dropped: the canonical CSR form.

    Args:
        rows: One end of each tie (worker ids, checked by :func:`count_ties`).
        cols: Other end of each tie.
        start: ``n + 1`` entries: where each row's entries start in ``buf`` (the running sum
            of :func:`count_ties`'s counts).
        fill: Scratch, ``n`` entries.
        buf: Output, ``start[n]`` entries: the column indices, row after row; the first
            ``indptr[n]`` are the matrix's.
        indptr: Output, ``n + 1`` entries: where each row of the matrix starts in ``buf``.

    Returns:
        The number of entries of the matrix (``indptr[n]``).
    """
    n = fill.size
    fill[:] = start[:n]
    for k in range(rows.size):
        r = rows[k]
        c = cols[k]
        if r != c:
            buf[fill[r]] = c
            fill[r] += 1
            buf[fill[c]] = r
            fill[c] += 1
    # Sort each row and keep its distinct entries, moved down over the duplicates dropped
    # before it (a row's entries never move past its own start, so this works in place).
    w = 0
    indptr[0] = 0
    for i in range(n):
        lo = start[i]
        hi = start[i + 1]
        if hi - lo <= _INSERTION_MAX:
            for a in range(lo + 1, hi):
                v = buf[a]
                b = a - 1
                while b >= lo and buf[b] > v:
                    buf[b + 1] = buf[b]
                    b -= 1
                buf[b + 1] = v
        else:
            buf[lo:hi].sort()
        for a in range(lo, hi):
            if a == lo or buf[a] != buf[a - 1]:
                buf[w] = buf[a]
                w += 1
        indptr[i + 1] = w
    return w


@jit
def mix_rows(
    indptrs: tuple,
    indices: tuple,
    row_weight: np.ndarray,
    column_weight: np.ndarray,
    grid: float,
    indptr: np.ndarray,
    out_indices: np.ndarray,
    values: np.ndarray,
    transposed: np.ndarray,
    row_sums: np.ndarray,
    layer_bits: np.ndarray,
) -> int:
    """The weighted mix of symmetric 0/1 layers: its rows, its transpose's values, its row sums.

    Entry ``(i, j)`` of the mix is the sum of ``row_weight[l, i]`` over the layers ``l``
    holding the tie, taken in float32 in layer order (as adding the scaled layers' matrices
    one after the other did), widened to float64 and rounded to a multiple of ``1 / grid``.
    Because every layer is symmetric, entry ``(j, i)`` is the same sum with ``j``'s weights:
    the transpose's values come without a transposition, from a second, branch-free pass
    (its reads of ``column_weight`` jump around memory, and out of the merge's branches the
    processor overlaps them).

    Args:
        indptrs: Each layer's CSR row pointers (int64, ``n + 1`` entries), at most 8 layers.
        indices: Each layer's CSR column indices, sorted within each row, no duplicates; a
            stored entry is a tie.
        row_weight: Shape ``(layers, n)``, float32: the weight of one tie of worker ``i`` in
            layer ``l`` (the layer's weight over the worker's degree in it and over the sum of
            the weights of the worker's layers).
        column_weight: ``row_weight`` transposed, C-contiguous: shape ``(n, layers)``.
        grid: The mixed weights are rounded to multiples of ``1 / grid``.
        indptr: Output, ``n + 1`` entries: where each row of the mix starts.
        out_indices: Output, at least the mix's entries (the layers' entries together will
            do): the mix's column indices, row after row.
        values: Output, as long: the mix's values (float64).
        transposed: Output, as long: the transpose's values on the mix's pattern (the entry of
            row ``j`` at column ``i`` holds the mix's ``(i, j)``).
        row_sums: Output, ``n`` entries: each row's sum (float64, in index order).
        layer_bits: Scratch, as long as ``values``: which layers hold each tie.

    Returns:
        The number of entries of the mix (``indptr[n]``).
    """
    n = row_sums.size
    n_layers = len(indptrs)
    pos = np.empty(n_layers, dtype=np.int64)
    end = np.empty(n_layers, dtype=np.int64)
    zero = np.float32(0.0)
    k = 0
    indptr[0] = 0
    for i in range(n):
        for layer in range(n_layers):
            pos[layer] = indptrs[layer][i]
            end[layer] = indptrs[layer][i + 1]
        total = 0.0
        while True:
            col = n
            for layer in range(n_layers):
                if pos[layer] < end[layer]:
                    col = min(col, indices[layer][pos[layer]])
            if col == n:
                break
            here = zero
            bits = 0
            for layer in range(n_layers):
                if pos[layer] < end[layer] and indices[layer][pos[layer]] == col:
                    # The first layer holding the tie gives 0 + x, exactly x.
                    here = here + row_weight[layer, i]
                    bits |= 1 << layer
                    pos[layer] += 1
            v = np.rint(np.float64(here) * grid) / grid
            out_indices[k] = col
            values[k] = v
            layer_bits[k] = bits
            total += v
            k += 1
        row_sums[i] = total
        indptr[i + 1] = k
    for e in range(k):
        col = out_indices[e]
        bits = layer_bits[e]
        there = zero
        for layer in range(n_layers):
            # Adding 0 for a layer without the tie leaves the float32 sum exactly as is.
            there = there + np.float32((bits >> layer) & 1) * column_weight[col, layer]
        transposed[e] = np.rint(np.float64(there) * grid) / grid
    return k
