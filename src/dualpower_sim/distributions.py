"""Distributions from which worker traits and thresholds are drawn.

Each distribution is a small checked parameter group with a vectorised ``sample(rng, n)`` that
draws ``n`` values from the generator it is given (never from global random state).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .params import ParameterError, ParamGroup, param

__all__ = ["Beta", "Constant", "Distribution", "Explicit", "Normal", "Uniform"]


class Distribution(ParamGroup):
    """Base class: a distribution of a per-worker quantity."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values.

        Args:
            rng: The model's generator.
            n: Number of workers.

        Returns:
            Array of shape ``(n,)``, dtype float64.
        """
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Constant(Distribution):
    """Every worker gets the same value.

    Attributes:
        value: The value.
    """

    value: float = param(0.0, kind=float)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: D102
        return np.full(n, self.value)


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high)``.

    Attributes:
        low: Lower end.
        high: Upper end (must not be below ``low``).
    """

    low: float = param(0.0, kind=float)
    high: float = param(1.0, kind=float)

    def validate(self) -> None:  # noqa: D102
        if self.high < self.low:
            raise ParameterError("Uniform.high", self.high, f"allowed: high >= low = {self.low}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: D102
        return rng.uniform(self.low, self.high, n)


@dataclasses.dataclass(frozen=True)
class Beta(Distribution):
    """Beta distribution on ``[0, 1]``; mean ``a / (a + b)``.

    Attributes:
        a: First shape parameter, > 0.
        b: Second shape parameter, > 0.
    """

    a: float = param(2.0, kind=float, low=0.0, low_open=True)
    b: float = param(2.0, kind=float, low=0.0, low_open=True)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: D102
        return rng.beta(self.a, self.b, n)


@dataclasses.dataclass(frozen=True)
class Normal(Distribution):
    """Normal distribution, clipped to ``[clip_low, clip_high]``.

    Attributes:
        mean: Mean before clipping.
        sd: Standard deviation before clipping, >= 0.
        clip_low: Values below are set to this.
        clip_high: Values above are set to this.
    """

    mean: float = param(0.5, kind=float)
    sd: float = param(0.1, kind=float, low=0.0)
    clip_low: float = param(0.0, kind=float)
    clip_high: float = param(1.0, kind=float)

    def validate(self) -> None:  # noqa: D102
        if self.clip_high < self.clip_low:
            raise ParameterError(
                "Normal.clip_high",
                self.clip_high,
                f"allowed: clip_high >= clip_low = {self.clip_low}",
            )

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: D102
        return np.clip(rng.normal(self.mean, self.sd, n), self.clip_low, self.clip_high)


@dataclasses.dataclass(frozen=True, eq=False)
class Explicit(Distribution):
    """An explicit value per worker (index = worker id); draws nothing.

    Attributes:
        values: One value per worker; its length must equal the number of workers.
    """

    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        try:
            arr = np.asarray(self.values, dtype=float)
        except (TypeError, ValueError):
            arr = np.zeros(0)
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ParameterError(
                "Explicit.values", self.values, "allowed: a non-empty 1-D array of finite numbers"
            )
        arr.setflags(write=False)
        object.__setattr__(self, "values", arr)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: D102
        size = np.size(self.values)  # an array since __post_init__
        if size != n:
            raise ParameterError(
                "Explicit.values",
                f"<{size} values>",
                f"allowed: exactly one value per worker ({n})",
            )
        return np.array(self.values, dtype=float)
