"""Compiled kernels: the rules' loops over workers, compiled with numba.

A rule stays a frozen parameter dataclass with ``setup`` and ``step``; its ``step`` calls one or
a few kernels from this package, one module per concept (``mobilization``, ``policing``,
``councils``...), that work on the world's arrays in place.

Conventions every kernel follows:

- Random numbers are drawn in the rule, from the model's ``numpy.random.Generator``, in batches
  (numpy draws a batch faster than numba draws one at a time), and passed to the kernel as
  arrays. A kernel draws none, so the same seed gives the same run in any process, and with
  ``NUMBA_DISABLE_JIT=1`` (plain Python, to step through a kernel with pdb) too.
- Sums are taken in the order numpy's code took them (worker by worker, or row by row of a
  sparse matrix), so a kernel's floating-point results equal the numpy code's it replaced.
- Kernels are compiled on first use and cached on disk (``cache=True``): the first run on a
  machine compiles them (about 20 s for all), later processes load them. numba checks only the
  kernel's own file: after editing a kernel that another file's kernel calls
  (``summation.pairwise_sum``) or a constant kernels read (the ``Status`` and ``Allegiance``
  codes of :mod:`dualpower_sim.population`), delete ``src/dualpower_sim/kernels/__pycache__``,
  or the stale compiled code runs (numba issue 1833).
- Kernels compute ``exp`` with the C library's function, numpy's array code with its own: the
  two agree on this project's machine on every value checked, and runs reproduce the numbers
  of the numpy code before the kernels; on a CPU where numpy uses its AVX-512 ``exp``, a last
  bit can differ from those older numbers (a run still reproduces itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numba

__all__ = ["jit"]

_F = TypeVar("_F", bound=Callable)


def jit(function: _F) -> _F:
    """Compile ``function`` as a kernel: nopython, cached on disk, numpy's division semantics.

    ``error_model="numpy"`` makes a division by zero give inf or nan as numpy does, instead of
    raising; ``fastmath`` stays off, so results do not depend on reassociated arithmetic.

    Args:
        function: A function of numbers and numpy arrays.

    Returns:
        The compiled dispatcher (called like the function).
    """
    # Typed as the function it compiles: a dispatcher is called with the same arguments.
    return cast(_F, numba.njit(cache=True, nogil=True, error_model="numpy")(function))
