"""Kernels of mobilization: neighbour shares, mobilized counts, and who mobilizes today.

The shares of mobilized neighbours (:class:`~dualpower_sim.networks.ShareTracker`) and the
mobilized per neighbourhood (:class:`~dualpower_sim.world.MaskCounter`) are kept up to date from
the workers whose mark flipped: a pass over the marks finds them, and each flip adds or removes
its column of the network mix (or one resident) in place. The mixed weights lie on a 2^-40 grid
and counts are integers, so these sums are exact in any order and give the bits of a full
product or count. The update lists the day's flips first and asks the CPU for each one's ties a
few flips ahead (LLVM's prefetch): at 10^6 workers the ties lie in memory far larger than the
caches, and waiting on each in turn doubled the update's time.

The mobilization rules' steps are one call each: a first pass over the workers brings the shares
and counts up to yesterday's statuses, the per-neighbourhood arrest probabilities are tabled,
and a second pass decides every free worker (passive or mobilized: the jailed and removed cannot
act), updates weariness and keeps the mobilized counts up to date with today's statuses. The
decision's arithmetic is the numpy code's, operation by operation, so results are identical.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import cgutils
from numba.extending import intrinsic

from . import jit

__all__ = [
    "CA_FORM_CODES",
    "arrest_probabilities",
    "arrest_probability_of",
    "arrest_table",
    "combined_step",
    "local_arrest_probability",
    "set_mobilized",
    "sum_by_group",
    "sync_counts",
    "sync_share",
    "threshold_step",
]

PASSIVE, MOBILIZED = 0, 1
#: Codes of the ways C / A enters the arrest probability (``CombinedRule.ca_form``).
FLOOR, ROUND, LITERAL = 0, 1, 2
CA_FORM_CODES = {"floor": FLOOR, "round": ROUND, "literal": LITERAL}


@jit
def arrest_probability_of(police: float, active: float, k: float, form: int) -> float:
    """Epstein's arrest probability ``1 - exp(-k f(C / A))`` for one locality.

    Args:
        police: Officers C (count).
        active: Mobilized A, counting the worker (count; taken as at least 1).
        k: Arrest-probability constant (1 / officer-per-active).
        form: How C / A is taken: :data:`FLOOR`, :data:`ROUND` (half to even) or :data:`LITERAL`.

    Returns:
        The probability, in [0, 1].
    """
    ratio = police / max(active, 1.0)
    if form == FLOOR:
        ratio = np.floor(ratio)
    elif form == ROUND:
        ratio = np.rint(ratio)
    return 1.0 - np.exp(-k * ratio)


@jit
def arrest_probabilities(
    police: np.ndarray, active: np.ndarray, k: float, form: int, out: np.ndarray
) -> None:
    """:func:`arrest_probability_of` element by element (arrays of one shape, flattened).

    Args:
        police: Officers C per locality (count, float64).
        active: Mobilized A per locality, counting the worker (count, float64).
        k: Arrest-probability constant.
        form: A code of :data:`CA_FORM_CODES`.
        out: Written with the probabilities (float64, same size).
    """
    for i in range(out.size):
        out[i] = arrest_probability_of(police[i], active[i], k, form)


@jit
def arrest_table(police: np.ndarray, active: np.ndarray, k: float, form: int) -> np.ndarray:
    """Arrest probability per neighbourhood, for a passive and for a mobilized resident.

    Epstein's A counts the worker: a passive resident would add one to the neighbourhood's
    mobilized, a mobilized one is among them already.

    Args:
        police: The state's forces C in each neighbourhood (count, float64).
        active: Mobilized residents of each neighbourhood (count, float64).
        k: Arrest-probability constant.
        form: A code of :data:`CA_FORM_CODES`.

    Returns:
        ``2 * n_neighbourhoods`` probabilities: at ``2 j`` for a passive resident of
        neighbourhood ``j``, at ``2 j + 1`` for a mobilized one (the ``Status`` code).
    """
    table = np.empty(2 * police.size)
    for j in range(police.size):
        table[2 * j] = arrest_probability_of(police[j], active[j] + 1.0, k, form)
        table[2 * j + 1] = arrest_probability_of(police[j], active[j], k, form)
    return table


@jit
def local_arrest_probability(
    neighbourhood: np.ndarray,
    mobilized: np.ndarray,
    police: np.ndarray,
    active: np.ndarray,
    k: float,
    form: int,
) -> np.ndarray:
    """Each worker's arrest probability in their neighbourhood.

    Args:
        neighbourhood: Each worker's neighbourhood id.
        mobilized: Whether each worker is mobilized (bool).
        police: The state's forces in each neighbourhood (count, float64).
        active: Mobilized residents of each neighbourhood (count, float64).
        k: Arrest-probability constant.
        form: A code of :data:`CA_FORM_CODES`.

    Returns:
        One probability per worker (float64).
    """
    table = arrest_table(police, active, k, form)
    out = np.empty(neighbourhood.size)
    for i in range(neighbourhood.size):
        out[i] = table[2 * np.int64(neighbourhood[i]) + (1 if mobilized[i] else 0)]
    return out


@jit
def _scatter(
    column: int,
    sign: float,
    share: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
) -> None:
    """Add ``sign`` times column ``column`` of the mix to ``share``.

    The mix's pattern is symmetric, so the column's rows are row ``column``'s indices and its
    weights that row's run of ``mix_transposed_data``: one contiguous read.
    """
    for p in range(indptr[column], indptr[column + 1]):
        share[indices[p]] += sign * weights[p]


if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]

    def _prefetch(array: np.ndarray, index: int) -> None:
        """A hint to the CPU: no use to plain Python (``NUMBA_DISABLE_JIT=1``)."""

else:

    @intrinsic
    def _prefetch(typingctx, array, index):
        """Ask the CPU to fetch ``array[index]`` into its caches (LLVM's prefetch: a hint only).

        A day's flipped workers' ties are scattered over memory far larger than the caches: an
        update waiting on each miss in turn takes twice as long as one that asks ahead.
        """

        def codegen(context, builder, signature, args):
            array_type = signature.args[0]
            arr = context.make_array(array_type)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(
                context, builder, array_type, arr, [args[1]], wraparound=False
            )
            byte_ptr = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
            # Named for the pointer type by llvmlite (typed or opaque pointers, by its version).
            fn = builder.module.declare_intrinsic("llvm.prefetch", [byte_ptr], fnty)
            # As for a write (the shares are written; the ties' reads lose nothing by it), to
            # keep in every cache level, into the data cache.
            builder.call(
                fn,
                [
                    builder.bitcast(ptr, byte_ptr),
                    ir.Constant(i32, 1),
                    ir.Constant(i32, 3),
                    ir.Constant(i32, 1),
                ],
            )
            return context.get_dummy_value()

        return numba.types.void(array, numba.types.intp), codegen


#: How many flips ahead the update asks for a flipped worker's ties, and for the shares they
#: change (measured at 10^6 workers: 16 and 4 halve the update's time; 64 and 16 lose).
RUN_AHEAD, SHARE_AHEAD = 16, 4

#: Workers beyond which the update also asks ahead for the shares it changes: 2^17 shares are
#: 1 MiB, a core's whole L2 cache on the 2-core machine. Measured there, at 10^4 and 2 x 10^4
#: workers (shares of 80 and 160 KiB, which stay in the cache) asking for them cost a second
#: pass over each flip's ties for nothing: 3.1 to 4.4 ns a tie with it, 2.0 to 3.0 without; at
#: 10^6 workers (8 MiB of shares) it gains. Between the two it was not measured: the bound is
#: where the shares stop fitting the cache, not a measured crossing.
SHARE_PREFETCH_WORKERS = 1 << 17


@jit
def _scatter_flips(
    flips: np.ndarray,
    n_flips: int,
    marked: np.ndarray,
    share: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
) -> None:
    """Add or remove the columns of ``flips[:n_flips]`` (added if now marked) to ``share``."""
    ahead_shares = share.size > SHARE_PREFETCH_WORKERS
    for k in range(n_flips):
        if k + RUN_AHEAD < n_flips:
            j = flips[k + RUN_AHEAD]
            start, end = indptr[j], indptr[j + 1]
            for p in range(start, end, 16):  # a 64-byte line holds 16 indices, 8 weights
                _prefetch(indices, p)
            for p in range(start, end, 8):
                _prefetch(weights, p)
        if ahead_shares and k + SHARE_AHEAD < n_flips:
            j = flips[k + SHARE_AHEAD]
            for p in range(indptr[j], indptr[j + 1]):
                _prefetch(share, indices[p])
        i = flips[k]
        _scatter(i, 1.0 if marked[i] else -1.0, share, indptr, indices, weights)


#: Workers per block of a scan for flipped marks: a block is checked with a loop the compiler
#: vectorizes, and only a block with a flip is walked worker by worker (most calls find none).
BLOCK = 64


@jit
def _flip_count(
    i: int, mask: np.ndarray, marked: np.ndarray, groups: np.ndarray, counts: np.ndarray
) -> None:
    """Bring worker ``i``'s count from its mark ``marked[i]`` to ``mask[i]``."""
    m = mask[i]
    if m != marked[i]:
        marked[i] = m
        counts[groups[i]] += 1.0 if m else -1.0


@jit
def sync_share(
    mask: np.ndarray,
    marked: np.ndarray,
    share: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
) -> None:
    """Bring the shares of marked neighbours from the marks ``marked`` to the marks ``mask``.

    Args:
        mask: Today's mark of each worker (bool).
        marked: The marks ``share`` is for (bool); updated to ``mask``.
        share: Each worker's weighted share of marked neighbours (float64); updated in place.
        indptr: The network mix's CSR row pointers.
        indices: The mix's column indices.
        weights: ``SocialNetwork.mix_transposed_data`` (column j's weights on row j's pattern).
    """
    n = mask.size
    flips = np.empty(n, dtype=np.int64)
    n_flips = 0
    for b in range(0, n, BLOCK):
        e = min(b + BLOCK, n)
        flipped = False
        for i in range(b, e):
            flipped |= mask[i] != marked[i]
        if flipped:
            for i in range(b, e):
                if mask[i] != marked[i]:
                    marked[i] = mask[i]
                    flips[n_flips] = i
                    n_flips += 1
    _scatter_flips(flips, n_flips, marked, share, indptr, indices, weights)


@jit
def sync_counts(
    mask: np.ndarray, marked: np.ndarray, groups: np.ndarray, counts: np.ndarray
) -> None:
    """Bring the per-group counts of the marks ``marked`` to the marks ``mask``.

    Args:
        mask: Today's mark of each worker (bool).
        marked: The marks ``counts`` counts (bool); updated to ``mask``.
        groups: Each worker's group id.
        counts: Marked workers per group (integers in float64); updated in place.
    """
    n = mask.size
    for b in range(0, n, BLOCK):
        e = min(b + BLOCK, n)
        flipped = False
        for i in range(b, e):
            flipped |= mask[i] != marked[i]
        if flipped:
            for i in range(b, e):
                _flip_count(i, mask, marked, groups, counts)


@jit
def sum_by_group(groups: np.ndarray, x: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of ``x`` over each group, worker by worker in id order (as ``np.bincount``).

    Args:
        groups: Each worker's group id.
        x: A per-worker quantity (float64).
        n_groups: Number of groups.

    Returns:
        One float64 sum per group.
    """
    out = np.zeros(n_groups)
    for i in range(groups.size):
        out[groups[i]] += x[i]
    return out


@jit
def set_mobilized(status: np.ndarray, want: np.ndarray) -> None:
    """Mobilize the workers in ``want`` and demobilize the rest, among those free to act.

    Args:
        status: Each worker's ``Status`` code (int8); the jailed and removed keep theirs.
        want: Whether each worker is to be mobilized (bool).
    """
    for i in range(status.size):
        if status[i] <= MOBILIZED:
            status[i] = MOBILIZED if want[i] else PASSIVE


@jit
def _sync_from_status(
    status: np.ndarray,
    track_share: bool,
    share: np.ndarray,
    share_marked: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    counts: np.ndarray,
    count_marked: np.ndarray,
) -> None:
    """:func:`sync_share` (if ``track_share``) and :func:`sync_counts` of the mobilized mask."""
    n = status.size
    flips = np.empty(n if track_share else 0, dtype=np.int64)
    n_flips = 0
    for b in range(0, n, BLOCK):
        e = min(b + BLOCK, n)
        flipped = False
        if track_share:
            for i in range(b, e):
                m = status[i] == MOBILIZED
                flipped |= (m != count_marked[i]) | (m != share_marked[i])
        else:  # no marks of the shares to read (an empty array)
            for i in range(b, e):
                flipped |= (status[i] == MOBILIZED) != count_marked[i]
        if flipped:
            for i in range(b, e):
                m = status[i] == MOBILIZED
                if track_share and m != share_marked[i]:
                    share_marked[i] = m
                    flips[n_flips] = i
                    n_flips += 1
                if m != count_marked[i]:
                    count_marked[i] = m
                    counts[groups[i]] += 1.0 if m else -1.0
    # The shares last, over the list of flips: it lets the update ask for ties ahead.
    _scatter_flips(flips, n_flips, share_marked, share, indptr, indices, weights)


@jit
def combined_step(
    status: np.ndarray,
    hardship: np.ndarray,
    base_hardship: np.ndarray,
    risk_aversion: np.ndarray,
    days: np.ndarray,
    track_share: bool,
    share: np.ndarray,
    share_marked: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    neighbourhood: np.ndarray,
    counts: np.ndarray,
    count_marked: np.ndarray,
    police: np.ndarray,
    legitimacy: float,
    habituation: float,
    example_weight: float,
    k: float,
    form: int,
    fatigue: float,
    recovery: float,
    threshold: float,
) -> None:
    """The combined (and deterrence) rule's day: every free worker decides, synchronously.

    Mobilized iff ``max(0, H - h H0) (1 - L) + example_weight * s - R P - fatigue * d > T``
    (with ``h = 0`` the grievance is ``H (1 - L)``, unclipped), on yesterday's statuses; the
    jailed and removed keep their status. Weariness ``d`` then grows by one for the mobilized
    and shrinks by the share ``recovery`` for everyone else.

    Args:
        status: Each worker's ``Status`` code (int8); updated in place.
        hardship: Current hardship H of each worker (float64, in [0, 1]).
        base_hardship: Each worker's accustomed hardship H0 (float64).
        risk_aversion: Each worker's risk aversion R (float64).
        days: Each worker's weariness d (float64, days); updated when ``fatigue > 0``.
        track_share: Bring ``share`` up to date with yesterday's mobilized first (false when it
            is given ready, or unused because ``example_weight`` is 0).
        share: Each worker's weighted share s of mobilized neighbours (float64).
        share_marked: The mobilized marks ``share`` is for (bool, a ShareTracker's).
        indptr: The network mix's CSR row pointers.
        indices: The mix's column indices.
        weights: ``SocialNetwork.mix_transposed_data``.
        neighbourhood: Each worker's neighbourhood id (a MaskCounter's groups).
        counts: Mobilized residents per neighbourhood (float64, a MaskCounter's); left counting
            today's statuses.
        count_marked: The mobilized marks ``counts`` counts (bool, the MaskCounter's).
        police: The state's forces in each neighbourhood (count, float64).
        legitimacy: The state's legitimacy L, in [0, 1].
        habituation: Share h of the base hardship workers are used to (0 disables the term).
        example_weight: Weight of the neighbours' example (0 disables the term).
        k: Arrest-probability constant.
        form: A code of :data:`CA_FORM_CODES`.
        fatigue: Rise of the threshold per day of weariness (0 disables weariness).
        recovery: Share of weariness lost each day not mobilized.
        threshold: Threshold T.
    """
    _sync_from_status(
        status,
        track_share,
        share,
        share_marked,
        indptr,
        indices,
        weights,
        neighbourhood,
        counts,
        count_marked,
    )
    table = arrest_table(police, counts, k, form)
    g = 1.0 - legitimacy
    # 1 - recovery as the numpy code formed it (exactly the same double either way).
    keep = -recovery + 1.0
    for i in range(status.size):
        s = status[i]
        j = np.int64(neighbourhood[i])  # 2 j overflows a uint16 in plain Python (NumPy 2)
        mobilized = False
        if s <= MOBILIZED:
            if habituation > 0.0:
                score = max(hardship[i] - habituation * base_hardship[i], 0.0) * g
            else:
                score = hardship[i] * g
            if example_weight > 0.0:
                score += example_weight * share[i]
            score -= risk_aversion[i] * table[2 * j + s]
            if fatigue > 0.0:
                score -= fatigue * days[i]
            mobilized = score > threshold
            status[i] = np.int8(mobilized)  # MOBILIZED or PASSIVE
        if fatigue > 0.0:
            days[i] = days[i] + 1.0 if mobilized else days[i] * keep
        if mobilized != count_marked[i]:  # never for the jailed: they were not counted
            count_marked[i] = mobilized
            counts[j] += 1.0 if mobilized else -1.0


@jit
def threshold_step(
    status: np.ndarray,
    theta: np.ndarray,
    tolerance: np.ndarray,
    initiator: np.ndarray,
    sticky: bool,
    track_share: bool,
    share: np.ndarray,
    share_marked: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    neighbourhood: np.ndarray,
    counts: np.ndarray,
    count_marked: np.ndarray,
) -> None:
    """The threshold rule's day: a free worker is mobilized when their share reaches threshold.

    Mobilized iff ``s >= theta - tolerance``, or an initiator, or (``sticky``) mobilized
    yesterday; the jailed and removed keep their status.

    Args:
        status: Each worker's ``Status`` code (int8); updated in place.
        theta: Each worker's threshold (share of neighbours).
        tolerance: Each worker's tolerance on the comparison, or one for everyone (size 1).
        initiator: Whether each worker is an initiator (bool).
        sticky: Whether the mobilized stay mobilized.
        track_share: Bring ``share`` up to date with yesterday's mobilized first (false when it
            is given ready: a complete network).
        share: Each worker's weighted share s of mobilized neighbours (float64).
        share_marked: The mobilized marks ``share`` is for (bool, a ShareTracker's).
        indptr: The network mix's CSR row pointers.
        indices: The mix's column indices.
        weights: ``SocialNetwork.mix_transposed_data``.
        neighbourhood: Each worker's neighbourhood id (a MaskCounter's groups).
        counts: Mobilized residents per neighbourhood (float64, a MaskCounter's); left counting
            today's statuses.
        count_marked: The mobilized marks ``counts`` counts (bool, the MaskCounter's).
    """
    _sync_from_status(
        status,
        track_share,
        share,
        share_marked,
        indptr,
        indices,
        weights,
        neighbourhood,
        counts,
        count_marked,
    )
    one_tolerance = tolerance.size == 1
    for i in range(status.size):
        s = status[i]
        if s <= MOBILIZED:
            t = tolerance[0] if one_tolerance else tolerance[i]
            mobilized = share[i] >= theta[i] - t or initiator[i] or (sticky and s == MOBILIZED)
            status[i] = MOBILIZED if mobilized else PASSIVE
            if mobilized != count_marked[i]:
                count_marked[i] = mobilized
                counts[neighbourhood[i]] += 1.0 if mobilized else -1.0
