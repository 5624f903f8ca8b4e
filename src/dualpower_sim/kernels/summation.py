"""Sums in numpy's order, so that a kernel's total has the bits ``ndarray.sum()`` gives.

``ndarray.sum()`` of a contiguous float64 array adds its values to 0 by pairwise summation:
blocks of at most 128 values summed by eight interleaved accumulators, halves of longer runs
summed separately and added. A plain loop adds in another order and may differ in the last
bits; a kernel that replaces a numpy ``sum`` (or ``mean``) uses :func:`pairwise_sum` instead.
Checked against numpy 2.4's sums for arrays of 0 to 2 million values (tests).
"""

from __future__ import annotations

import numpy as np

from . import jit

__all__ = ["pairwise_sum"]

#: numpy's PW_BLOCKSIZE: runs up to this long are summed by eight accumulators, not halved.
_BLOCK = 128


@jit
def _block(a: np.ndarray, start: int, n: int) -> float:
    """The sum of a run of at most 128 values ``a[start : start + n]``, in numpy's order.

    Args:
        a: Values (float64).
        start: Index of the run's first value.
        n: Length of the run (at most ``_BLOCK``).

    Returns:
        The run's sum: a plain loop below 8 values, eight interleaved accumulators above.
    """
    # A view and range loops: indices the compiler knows are not negative, so it drops the
    # wraparound checks (1.5x faster).
    b = a[start : start + n]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += b[i]
        return res
    r0, r1, r2, r3 = b[0], b[1], b[2], b[3]
    r4, r5, r6, r7 = b[4], b[5], b[6], b[7]
    stop = n - n % 8
    for i in range(8, stop, 8):
        r0 += b[i]
        r1 += b[i + 1]
        r2 += b[i + 2]
        r3 += b[i + 3]
        r4 += b[i + 4]
        r5 += b[i + 5]
        r6 += b[i + 6]
        r7 += b[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, n):  # the rest of a run that is not a multiple of 8
        res += b[i]
    return res


@jit
def pairwise_sum(a: np.ndarray, n: int) -> float:
    """The sum of ``a[:n]`` exactly as ``a[:n].sum()`` computes it (float64).

    numpy halves a run longer than 128 values (on a multiple of 8), sums each half the same way
    and adds the two sums. The halving is walked here with an explicit stack rather than by
    recursion: a recursive function reloaded from numba's on-disk cache crashes the process (numba
    issue 6061, open; seen here with numba 0.68).

    Args:
        a: Values (float64, contiguous).
        n: How many of the first values to sum (``a`` may be a longer buffer).

    Returns:
        Their sum: ``0.0`` plus numpy's pairwise sum (0.0 for none).
    """
    if n <= _BLOCK:
        return 0.0 + _block(a, 0, n)
    # Runs still to sum (start, length, and 0/1/2: halves not yet / left / both pushed), and the
    # sums found, in the order the recursion would find them; the halving depth is under 64.
    starts = np.empty(64, dtype=np.int64)
    lengths = np.empty(64, dtype=np.int64)
    phase = np.empty(64, dtype=np.int64)
    sums = np.empty(64)
    starts[0], lengths[0], phase[0] = 0, n, 0
    top, found = 1, 0
    while top:
        start, length = starts[top - 1], lengths[top - 1]
        if length <= _BLOCK:
            sums[found] = _block(a, start, length)
            found += 1
            top -= 1
            continue
        half = length // 2
        half -= half % 8
        if length - half <= _BLOCK:  # both halves are blocks (the left is never the longer)
            sums[found] = _block(a, start, half) + _block(a, start + half, length - half)
            found += 1
            top -= 1
            continue
        if phase[top - 1] == 0:  # sum the left half first
            phase[top - 1] = 1
            starts[top], lengths[top], phase[top] = start, half, 0
            top += 1
        elif phase[top - 1] == 1:  # then the right half
            phase[top - 1] = 2
            starts[top], lengths[top], phase[top] = start + half, length - half, 0
            top += 1
        else:  # both halves summed: add them
            found -= 1
            sums[found - 1] = sums[found - 1] + sums[found]
            top -= 1
    return 0.0 + sums[0]
