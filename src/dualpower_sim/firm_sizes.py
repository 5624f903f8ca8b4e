"""Firm-size distributions: how the workforce of a city is split into workplaces.

Three families, each drawing a vector of firm sizes that sums exactly to the number of workers:

- :class:`LognormalSizes`: a lognormal by median and spread (a common fit to establishment sizes).
- :class:`ParetoSizes`: a discrete Pareto tail (Axtell 2001, *Science* 293: US firm sizes follow
  Zipf's law, ``alpha`` about 1).
- :class:`SizeBands`: empirical bands giving the *share of workers* in firms of each size range,
  the form in which historical surveys report them (S. A. Smith, *Red Petrograd*, for Petrograd
  1917: see :data:`PETROGRAD_1917`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .params import ParameterError, ParamGroup, param

__all__ = [
    "PETROGRAD_1917",
    "REPORT_BANDS",
    "FirmSizes",
    "LognormalSizes",
    "ParetoSizes",
    "SizeBand",
    "SizeBands",
    "band_labels",
]

#: Size bands used to report a city's firms and mobilization by firm size (Smith's bands for
#: Petrograd; the last band is open-ended).
REPORT_BANDS: tuple[tuple[int, float], ...] = (
    (1, 50),
    (51, 100),
    (101, 500),
    (501, 1000),
    (1001, math.inf),
)


def band_labels(bands: tuple[tuple[int, float], ...] = REPORT_BANDS) -> list[str]:
    """Return labels such as ``"1-50"`` and ``"1001+"`` for size bands.

    Args:
        bands: ``(low, high)`` pairs of firm sizes in workers, inclusive.

    Returns:
        One label per band.
    """
    return [f"{lo}+" if math.isinf(hi) else f"{lo}-{int(hi)}" for lo, hi in bands]


class FirmSizes(ParamGroup):
    """Base class: a distribution of firm sizes (workers per firm)."""

    def draw(self, n_workers: int, rng: np.random.Generator) -> np.ndarray:
        """Draw firm sizes for a workforce.

        Args:
            n_workers: Number of workers to place in firms.
            rng: The generator to draw from.

        Returns:
            Integer array of firm sizes (each >= 1) summing to ``n_workers``.
        """
        raise NotImplementedError


def _draw_until(n_workers: int, sampler, mean_size: float) -> np.ndarray:
    """Draw sizes in vectorised chunks until they cover ``n_workers``; trim the last firm."""
    chunks: list[np.ndarray] = []
    total = 0
    while total < n_workers:
        k = int((n_workers - total) / max(mean_size, 1.0) * 1.2) + 16
        chunk = sampler(k)
        chunks.append(chunk)
        total += int(chunk.sum())
    sizes = np.concatenate(chunks)
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, n_workers))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(cum[last]) - n_workers
    return sizes


@dataclasses.dataclass(frozen=True)
class LognormalSizes(FirmSizes):
    """Lognormal firm sizes, rounded to whole workers and capped.

    Attributes:
        median: Median firm size, in workers (>= 1).
        sigma: Standard deviation of log size (> 0); larger means more giant firms.
        max_size: Largest firm allowed, in workers.
    """

    median: float = param(8.0, kind=float, low=1.0)
    sigma: float = param(1.2, kind=float, low=0.0, low_open=True, high=5.0)
    max_size: int = param(50_000, kind=int, low=1)

    def draw(self, n_workers: int, rng: np.random.Generator) -> np.ndarray:  # noqa: D102
        mu = math.log(self.median)

        def sampler(k: int) -> np.ndarray:
            raw = np.rint(rng.lognormal(mu, self.sigma, k))
            return np.clip(raw, 1, min(self.max_size, n_workers)).astype(np.int64)

        mean = min(math.exp(mu + self.sigma**2 / 2), self.max_size)
        return _draw_until(n_workers, sampler, mean)


@dataclasses.dataclass(frozen=True)
class ParetoSizes(FirmSizes):
    """Discrete Pareto firm sizes: ``P(size >= s) = (min_size / s) ** alpha``, capped.

    Attributes:
        alpha: Tail exponent (> 0); about 1 for US firms (Axtell 2001).
        min_size: Smallest firm, in workers.
        max_size: Largest firm allowed, in workers.
    """

    alpha: float = param(1.1, kind=float, low=0.0, low_open=True, high=10.0)
    min_size: int = param(1, kind=int, low=1)
    max_size: int = param(50_000, kind=int, low=1)

    def validate(self) -> None:  # noqa: D102
        if self.max_size < self.min_size:
            raise ParameterError(
                "ParetoSizes.max_size",
                self.max_size,
                f"allowed: max_size >= min_size = {self.min_size}",
            )

    def draw(self, n_workers: int, rng: np.random.Generator) -> np.ndarray:  # noqa: D102
        cap = min(self.max_size, n_workers)

        def sampler(k: int) -> np.ndarray:
            u = rng.random(k)
            with np.errstate(over="ignore"):  # a heavy tail overflows to inf, capped just below
                raw = np.floor(self.min_size * (1.0 - u) ** (-1.0 / self.alpha))
            return np.clip(raw, self.min_size, cap).astype(np.int64)

        if self.alpha > 1:
            mean = min(self.min_size * self.alpha / (self.alpha - 1), cap)
        else:
            mean = math.sqrt(self.min_size * cap)
        sizes = _draw_until(n_workers, sampler, mean)
        if sizes.size > 1 and sizes[-1] < self.min_size:
            # The trimmed last firm would be below min_size: its workers join the firm before it
            # (which may then exceed max_size by fewer than min_size workers).
            sizes[-2] += sizes[-1]
            sizes = sizes[:-1]
        return sizes


@dataclasses.dataclass(frozen=True)
class SizeBand(ParamGroup):
    """One empirical band: the share of workers employed in firms of ``low`` to ``high`` workers.

    Attributes:
        low: Smallest firm in the band, in workers (inclusive).
        high: Largest firm in the band, in workers (inclusive).
        share: Share of all workers employed in firms of this band, in [0, 1].
    """

    low: int = param(1, kind=int, low=1)
    high: int = param(1, kind=int, low=1)
    share: float = param(0.0, kind=float, low=0.0, high=1.0)

    def validate(self) -> None:  # noqa: D102
        if self.high < self.low:
            raise ParameterError("SizeBand.high", self.high, f"allowed: high >= low = {self.low}")


@dataclasses.dataclass(frozen=True)
class SizeBands(FirmSizes):
    """Empirical size bands: the share of *workers* in firms of each size range.

    The number of workers in each band is fixed exactly by the shares (largest-remainder rounding),
    so the configured shares are reproduced up to one firm's granularity. Within a band, firm sizes
    are drawn uniformly (``within="uniform"``) or log-uniformly (``within="loguniform"``) between
    the band's limits and adjusted so that the band's workers are placed exactly.

    Attributes:
        bands: The bands, in increasing, non-overlapping order; shares must sum to 1 (within 1e-6).
        within: Shape of the size distribution inside a band: ``"uniform"`` or ``"loguniform"``.
    """

    bands: tuple[SizeBand, ...] = ()
    within: str = param("uniform", kind=str, choices=("uniform", "loguniform"))

    def validate(self) -> None:  # noqa: D102
        try:
            bands = tuple(b if isinstance(b, SizeBand) else SizeBand(*b) for b in self.bands)
        except TypeError:
            raise ParameterError(
                "SizeBands.bands", self.bands, "allowed: a list of (low, high, share) triples"
            ) from None
        object.__setattr__(self, "bands", bands)
        if not bands:
            raise ParameterError("SizeBands.bands", self.bands, "allowed: at least one band")
        total = sum(b.share for b in bands)
        if abs(total - 1.0) > 1e-6:
            raise ParameterError(
                "SizeBands.bands",
                [b.share for b in bands],
                f"allowed: shares summing to 1 (got {total:.6g})",
            )
        for prev, nxt in itertools.pairwise(bands):
            if nxt.low <= prev.high:
                raise ParameterError(
                    "SizeBands.bands",
                    [(b.low, b.high) for b in bands],
                    "allowed: bands in increasing order that do not overlap",
                )

    def min_workers(self) -> int:
        """Smallest workforce for which every band with a positive share can hold one firm."""
        need = [math.ceil(b.low / b.share) for b in self.bands if b.share > 0]
        return max(need)

    def worker_counts(self, n_workers: int) -> np.ndarray:
        """Split ``n_workers`` across the bands exactly by their shares (largest remainder)."""
        shares = np.array([b.share for b in self.bands])
        shares = shares / shares.sum()
        exact = shares * n_workers
        counts = np.floor(exact).astype(np.int64)
        short = n_workers - int(counts.sum())
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
        return counts

    def draw(self, n_workers: int, rng: np.random.Generator) -> np.ndarray:  # noqa: D102
        counts = self.worker_counts(n_workers)
        parts = []
        for band, count in zip(self.bands, counts, strict=True):  # a handful of bands, not workers
            if count == 0:
                continue
            if count < band.low:
                raise ParameterError(
                    "n_workers",
                    n_workers,
                    f"too small for the firm-size band {band.low}-{band.high} "
                    f"(share {band.share:g} gives {count} workers, fewer than one firm of "
                    f"{band.low}); allowed: n_workers >= {self.min_workers()}",
                )
            if -(-int(count) // band.high) * band.low > count:  # no m with m*low <= count <= m*high
                raise ParameterError(
                    "n_workers",
                    n_workers,
                    f"gives {count} workers in the firm-size band {band.low}-{band.high}, which "
                    "cannot be split into firms of that band; allowed: a workforce whose share "
                    "in each band fits whole firms (try a larger n_workers or a wider band)",
                )
            parts.append(self._fill_band(int(count), band, rng))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def _fill_band(self, count: int, band: SizeBand, rng: np.random.Generator) -> np.ndarray:
        lo, hi = band.low, band.high
        if self.within == "uniform":
            mean = (lo + hi) / 2

            def sampler(k: int) -> np.ndarray:
                return rng.integers(lo, hi + 1, k)

        else:
            mean = (hi - lo) / math.log(hi / lo) if hi > lo else lo

            def sampler(k: int) -> np.ndarray:
                return np.clip(
                    np.floor(np.exp(rng.uniform(math.log(lo), math.log(hi + 1), k))), lo, hi
                ).astype(np.int64)

        sizes = _draw_until(count, sampler, mean)
        if sizes[-1] >= lo:
            return sizes
        # The trimmed last firm is below the band: move its workers into the others' headroom,
        # or, failing that, top it up to the band's floor from firms above the floor.
        rest, short = sizes[:-1], int(sizes[-1])
        room = hi - rest
        if room.sum() >= short:
            order = rng.permutation(rest.size)
            give = np.minimum(
                room[order], np.maximum(short - (np.cumsum(room[order]) - room[order]), 0)
            )
            rest[order] += give
            return rest
        need = lo - short
        spare = rest - lo
        order = rng.permutation(rest.size)
        take = np.minimum(
            spare[order], np.maximum(need - (np.cumsum(spare[order]) - spare[order]), 0)
        )
        rest[order] -= take
        return np.append(rest, lo)


#: Petrograd 1917, city and suburbs: share of factory workers by enterprise size (S. A. Smith,
#: *Red Petrograd*, table from Soviet sources; see docs/sources.md). The upper
#: limit of the top band (30,000, about the Putilov works' workforce in 1917) is our assumption,
#: not part of the table.
PETROGRAD_1917 = SizeBands(
    bands=(
        SizeBand(1, 50, 0.030),
        SizeBand(51, 100, 0.032),
        SizeBand(101, 500, 0.159),
        SizeBand(501, 1000, 0.100),
        SizeBand(1001, 30_000, 0.679),
    )
)
