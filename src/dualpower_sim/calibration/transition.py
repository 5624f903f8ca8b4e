"""The perturbation kernel of the calibration: parameter by parameter, inside the priors.

ABC-SMC proposes a new particle by drawing one of the last generation's (by weight) and
perturbing it. pyabc's default kernel is a multivariate normal fitted to the particles: with
many parameters and bounded priors, almost every proposal falls outside its prior in some
coordinate and is drawn again (with 54 parameters and a tenth of each kernel's mass outside,
under 1% of proposals land inside), which costs more than the simulations; and with fewer
particles than parameters its covariance is singular, so later particles stay in the slice the
first ones span. This kernel perturbs each parameter on its own, with a normal kernel truncated
to the prior's range (on the log scale for a log-uniform prior), so every proposal lies inside
the prior, and its density, which the particles' importance weights need, is exact.

It is a pyabc ``Transition``; its random draws come from numpy's global generator, as every
pyabc kernel's do (the calibration seeds it each generation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyabc  # this module is imported only where pyabc is (smc.calibrate)
from scipy.special import ndtr, ndtri

from .spec import Prior

__all__ = ["BoundedTransition"]


class BoundedTransition(pyabc.transition.Transition):
    """A pyabc transition that perturbs each parameter within its prior's range.

    The kernel of a particle is a product over parameters of normals truncated to
    ``[low, high]`` (of ``log x`` for a log prior), centred on the particle, with Silverman's
    rule-of-thumb bandwidth of each parameter's weighted spread (1.06 s n^(-1/5), n the
    effective sample size); the proposal is their mixture by weight.

    Args:
        priors: The calibration's priors (their names, bounds and scales).
    """

    def __init__(self, priors: Sequence[Prior] = ()) -> None:
        self.priors = tuple(priors)
        self.names = [p.name for p in self.priors]
        self.log = np.array([p.scale == "log" for p in self.priors], dtype=bool)
        low = np.array([p.low for p in self.priors], dtype=float)
        high = np.array([p.high for p in self.priors], dtype=float)
        self.low = np.where(self.log, np.log(np.where(self.log, low, 1.0)), low)
        self.high = np.where(self.log, np.log(np.where(self.log, high, 1.0)), high)

    def _z(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.log, np.log(np.where(self.log, np.maximum(x, 1e-300), 1.0)), x)

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:  # noqa: N803 - pyabc's names
        """Fit the kernels to the particles ``X`` (one column per parameter) and weights."""
        z = self._z(X[self.names].to_numpy(dtype=float))
        w = np.asarray(w, dtype=float) / np.sum(w)
        mean = w @ z
        sd = np.sqrt(w @ (z - mean) ** 2)
        n_eff = 1.0 / np.sum(w**2)
        # A floor of a thousandth of the range: particles that all agree still move.
        h = np.maximum(1.06 * sd * n_eff ** (-0.2), 1e-3 * (self.high - self.low))
        self.z, self.weights, self.h = z, w, h
        self.a = (self.low - z) / h  # each particle's truncation points, in bandwidths
        self.b = (self.high - z) / h
        self.mass = ndtr(self.b) - ndtr(self.a)

    def rvs_single(self) -> Any:
        """One proposal: a particle drawn by weight, each parameter perturbed inside its prior."""
        j = np.random.choice(len(self.weights), p=self.weights)  # noqa: NPY002 - pyabc's
        u = np.random.random(len(self.names))  # noqa: NPY002 - pyabc's generator
        # The inverse of the truncated normal's CDF.
        q = ndtr(self.a[j]) + u * self.mass[j]
        z = np.clip(self.z[j] + self.h * ndtri(q), self.low, self.high)
        x = np.where(self.log, np.exp(z), z)
        return pyabc.Parameter(dict(zip(self.names, x.tolist(), strict=True)))

    def pdf(self, x: Any) -> Any:
        """The proposal's density at a parameter (or at each row of a table)."""
        if isinstance(x, pd.DataFrame):
            values = x[self.names].to_numpy(dtype=float)
            return np.array([self._pdf_one(v) for v in values])
        return self._pdf_one(np.array([x[k] for k in self.names], dtype=float))

    def _pdf_one(self, x: np.ndarray) -> float:
        z = self._z(x)
        if np.any(z < self.low) or np.any(z > self.high):
            return 0.0
        u = (z - self.z) / self.h  # particles x parameters
        log_k = -0.5 * u**2 - 0.5 * np.log(2 * np.pi) - np.log(self.h) - np.log(self.mass)
        # The density of x itself: a log parameter's density in log x, over x.
        log_jacobian = -np.sum(z[self.log])
        terms = np.log(self.weights) + log_k.sum(axis=1)
        top = terms.max()
        return float(np.exp(top + np.log(np.exp(terms - top).sum()) + log_jacobian))
