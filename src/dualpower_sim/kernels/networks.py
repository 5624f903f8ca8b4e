"""Building the social network: tie lists to one sparse pattern, the pattern to the layers' mix.

A network's layers are held as one CSR *pattern*, the union of their ties, sorted within each
row, with a byte per tie saying which layers hold it (bit ``l`` for layer ``l``). Ties become the
pattern in two counting sorts (:func:`count_ties`, :func:`scatter_ties`, :func:`sort_rows`,
:func:`merge_duplicates`),
or layer matrices are merged into it (:func:`merge_layers`); :func:`mix_entries` then gives the
weighted mix, its transpose's values and its row sums in one pass, and :func:`layer_rows` gives
one layer back as a matrix on demand. The arrays equal those scipy's assembly gave
(``coo_tocsr``, ``sum_duplicates``, ``csr_plus_csr`` and a transposition), bit for bit, with
far less memory and time: no intermediate matrices, no transposition, each layer's matrix built
only when asked for. :func:`clique_fill` writes the ties of complete groups (shops, blocks,
classes).
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = [
    "clique_fill",
    "count_ties",
    "layer_rows",
    "merge_duplicates",
    "merge_layers",
    "mix_entries",
    "scatter_ties",
    "sort_rows",
]


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
        counts: ``n + 1`` entries, added to: entry ``i + 1`` gets worker ``i``'s count.

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
def scatter_ties(
    rows: np.ndarray, cols: np.ndarray, layer: int, fill: np.ndarray, out: np.ndarray
) -> None:
    """Enter ties in both directions into their rows' places (a counting sort on the row).

    Args:
        rows: One end of each tie (checked by :func:`count_ties`).
        cols: Other end of each tie.
        layer: The ties' layer (0 to 7).
        fill: ``n`` entries: where each row's next entry goes (advanced).
        out: Output: each entry's other end and layer packed as ``end * 8 + layer``, at its
            row's place (one write per entry, not two).
    """
    for k in range(rows.size):
        r = rows[k]
        c = cols[k]
        if r != c:
            out[fill[r]] = c * 8 + layer
            fill[r] += 1
            out[fill[c]] = r * 8 + layer
            fill[c] += 1


@jit
def sort_rows(start: np.ndarray, packed: np.ndarray, fill: np.ndarray, out: np.ndarray) -> None:
    """Sort each row of scattered symmetric entries by column: a second counting sort.

    The entries of row ``i`` (in any order) are the entries ``(i, j)``; walking the rows in
    order and entering ``i`` into row ``j`` enters every entry ``(j, i)`` (the entries are
    symmetric) in increasing ``i``: each row comes out sorted, with no sort.

    Args:
        start: ``n + 1`` entries: where each row's entries start (in both layouts).
        packed: The entries, packed ``column * 8 + layer``, row after row, as
            :func:`scatter_ties` left them.
        fill: Scratch, ``n`` entries.
        out: Output, as long as ``packed``: the same rows, packed likewise, each sorted by
            column.
    """
    n = fill.size
    fill[:] = start[:n]
    for i in range(n):
        for e in range(start[i], start[i + 1]):
            v = packed[e]
            j = v >> 3
            out[fill[j]] = i * 8 + (v & 7)
            fill[j] += 1


@jit
def merge_duplicates(
    start: np.ndarray,
    packed: np.ndarray,
    bits: np.ndarray,
    indptr: np.ndarray,
    degree: np.ndarray,
) -> int:
    """Unpack sorted rows and merge their duplicates, in place, or-ing their layers' bits.

    Each tie comes out once with all the layers holding it. Rows move down over the duplicates
    dropped before them (a row never moves past its own start).

    Args:
        start: ``n + 1`` entries: where each row's entries start in ``packed``.
        packed: The entries, packed ``column * 8 + layer``, each row sorted; on return the first
            ``indptr[n]`` are the pattern's column indices.
        bits: Output, at least the pattern's ties: bit ``l`` set where layer ``l`` holds a tie.
        indptr: Output, ``n + 1`` entries: where each row of the pattern starts.
        degree: Output, shape ``(layers, n)``, zeros on entry: each worker's ties per layer.

    Returns:
        The number of ties in the pattern (``indptr[n]``).
    """
    n = indptr.size - 1
    n_layers = degree.shape[0]
    # Ties per combination of layers in the row, turned into degrees once per row.
    per_bits = np.zeros(256, dtype=np.int64)
    w = 0
    indptr[0] = 0
    for i in range(n):
        row_start = w
        for a in range(start[i], start[i + 1]):
            v = packed[a]
            col = v >> 3
            bit = 1 << (v & 7)
            if w > row_start and col == packed[w - 1]:
                bits[w - 1] |= bit
            else:
                packed[w] = col
                bits[w] = bit
                w += 1
        if n_layers == 1:
            degree[0, i] = w - row_start
        else:
            for a in range(row_start, w):
                per_bits[bits[a]] += 1
            for m in range(1, 1 << n_layers):
                if per_bits[m]:
                    for layer in range(n_layers):
                        if (m >> layer) & 1:
                            degree[layer, i] += per_bits[m]
                    per_bits[m] = 0
        indptr[i + 1] = w
    return w


@jit
def merge_layers(
    indptrs: tuple,
    indices: tuple,
    indptr: np.ndarray,
    out_indices: np.ndarray,
    bits: np.ndarray,
) -> int:
    """The pattern of layer matrices: the union of their rows, with each tie's layer bits.

    Args:
        indptrs: Each layer's CSR row pointers (int64, ``n + 1`` entries), at most 8 layers.
        indices: Each layer's CSR column indices, sorted within each row, no duplicates.
        indptr: Output, ``n + 1`` entries: where each row of the pattern starts.
        out_indices: Output, at least the pattern's ties (the layers' together will do): the
            column indices, row after row.
        bits: Output, as long: bit ``l`` set where layer ``l`` holds the tie.

    Returns:
        The number of ties in the pattern (``indptr[n]``).
    """
    n = indptr.size - 1
    n_layers = len(indptrs)
    pos = np.empty(n_layers, dtype=np.int64)
    end = np.empty(n_layers, dtype=np.int64)
    k = 0
    indptr[0] = 0
    for i in range(n):
        for layer in range(n_layers):
            pos[layer] = indptrs[layer][i]
            end[layer] = indptrs[layer][i + 1]
        while True:
            col = n
            for layer in range(n_layers):
                if pos[layer] < end[layer]:
                    col = min(col, indices[layer][pos[layer]])
            if col == n:
                break
            m = 0
            for layer in range(n_layers):
                if pos[layer] < end[layer] and indices[layer][pos[layer]] == col:
                    m |= 1 << layer
                    pos[layer] += 1
            out_indices[k] = col
            bits[k] = m
            k += 1
        indptr[i + 1] = k
    return k


@jit
def mix_entries(
    indptr: np.ndarray,
    indices: np.ndarray,
    bits: np.ndarray,
    used: int,
    row_weight: np.ndarray,
    column_weight: np.ndarray,
    grid: float,
    compact: bool,
    out_indptr: np.ndarray,
    out_indices: np.ndarray,
    values: np.ndarray,
    transposed: np.ndarray,
    row_sums: np.ndarray,
) -> int:
    """The weighted mix of symmetric layers, its transpose's values and its row sums.

    Entry ``(i, j)`` of the mix is the sum of ``row_weight[l, i]`` over the layers ``l`` holding
    the tie, taken in float32 in layer order (as adding the scaled layers' matrices one after
    the other did), widened to float64 and rounded to a multiple of ``1 / grid``. The layers are
    symmetric, so entry ``(j, i)`` is the same sum with ``j``'s weights: the transpose's values
    come without a transposition. Ties only in layers outside ``used`` are left out.

    Args:
        indptr: The pattern's row pointers (``n + 1`` entries).
        indices: The pattern's column indices.
        bits: Which layers hold each tie (bit ``l`` for layer ``l``).
        used: Bits of the layers in the mix.
        row_weight: Shape ``(layers, n)``, float32: the weight of one tie of worker ``i`` in
            layer ``l`` (the layer's weight over the worker's degree in it and over the sum of
            the weights of the worker's layers); 0 for a layer outside ``used``.
        column_weight: ``row_weight`` transposed, C-contiguous: shape ``(n, layers)``.
        grid: The mixed weights are rounded to multiples of ``1 / grid`` (a power of two).
        compact: Whether some ties are left out, so that the mix needs its own pattern; if
            not, it shares the layers' and ``out_indptr`` and ``out_indices`` are not written.
        out_indptr: Output, ``n + 1`` entries: where each row of the mix starts.
        out_indices: Output: the mix's column indices, row after row.
        values: Output: the mix's values (float64).
        transposed: Output: the transpose's values on the mix's pattern (the entry of row ``j``
            at column ``i`` holds the mix's ``(i, j)``).
        row_sums: Output, ``n`` entries: each row's sum (float64, in index order).

    Returns:
        The number of entries of the mix (``out_indptr[n]``).
    """
    n = row_sums.size
    n_layers = row_weight.shape[0]
    inverse = 1.0 / grid  # exact for a power of two: multiplying by it equals dividing
    # The layer of a tie held by one layer only (most ties), or -1: its weight is the sum.
    single = np.full(256, -1, dtype=np.int64)
    for layer in range(n_layers):
        single[1 << layer] = layer
    first = indptr[0]
    last = indptr[n]
    k = 0
    hi = first
    if compact:
        out_indptr[0] = 0
    for i in range(n):
        lo = hi
        hi = indptr[i + 1]
        total = 0.0
        for e in range(lo, hi):
            m = bits[e] & used
            if m:
                layer = single[m]
                if layer >= 0:
                    here = row_weight[layer, i]
                else:
                    here = _layer_sum(m, row_weight[:, i])
                v = np.rint(np.float64(here) * grid) * inverse
                if compact:
                    out_indices[k] = indices[e]
                values[k] = v
                total += v
                k += 1
        row_sums[i] = total
        if compact:
            out_indptr[i + 1] = k
    # The transpose's values in a second pass: its reads of the columns' weights jump all over
    # memory, and a loop without the first pass's work keeps many of them in flight at once.
    k = 0
    for e in range(first, last):
        m = bits[e] & used
        if m:
            layer = single[m]
            if layer >= 0:
                there = column_weight[indices[e], layer]
            else:
                there = _layer_sum(m, column_weight[indices[e]])
            transposed[k] = np.rint(np.float64(there) * grid) * inverse
            k += 1
    return k


@jit
def _layer_sum(m: int, weights: np.ndarray) -> np.float32:
    """The float32 sum, in layer order, of ``weights[l]`` over the layers ``l`` in bits ``m``.

    Args:
        m: Layer bits.
        weights: One weight per layer (float32).

    Returns:
        The sum (float32), from 0: for one layer, exactly its weight.
    """
    total = np.float32(0.0)
    for layer in range(weights.size):
        if (m >> layer) & 1:
            total = total + weights[layer]
    return total


@jit
def layer_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    bits: np.ndarray,
    bit: int,
    out_indptr: np.ndarray,
    out_indices: np.ndarray,
) -> int:
    """One layer's ties, taken from the pattern.

    Args:
        indptr: The pattern's row pointers.
        indices: The pattern's column indices.
        bits: Which layers hold each tie.
        bit: The layer's bit.
        out_indptr: Output, ``n + 1`` entries: where each of the layer's rows starts.
        out_indices: Output, at least the layer's ties: its column indices, row after row.

    Returns:
        The layer's number of ties.
    """
    k = 0
    out_indptr[0] = 0
    for i in range(indptr.size - 1):
        for e in range(indptr[i], indptr[i + 1]):
            if bits[e] & bit:
                out_indices[k] = indices[e]
                k += 1
        out_indptr[i + 1] = k
    return k
