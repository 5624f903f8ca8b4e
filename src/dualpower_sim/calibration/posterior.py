"""A calibration's posterior, read from its folder: particles, weights, priors, generations.

:func:`load_posterior` reads what ``dualpower calibrate`` wrote (pyabc's history database and
the calibration's record) into pandas tables; it never runs the model.

Example:
    >>> from dualpower_sim.calibration.posterior import load_posterior
    >>> post = load_posterior("calib/history")  # doctest: +SKIP
    >>> post.summary()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..files import read_json
from .smc import HISTORY, INFO, CalibrationError, import_pyabc
from .summaries import distance

__all__ = ["Posterior", "load_posterior", "weighted_quantile"]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of weighted values (the inverse of their weighted CDF, interpolated).

    Args:
        values: The values.
        weights: Their weights (>= 0, not all 0).
        q: The quantile, in [0, 1].

    Returns:
        The quantile.
    """
    order = np.argsort(values)
    v = np.asarray(values, dtype=float)[order]
    w = np.asarray(weights, dtype=float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()  # each value at the middle of its weight
    return float(np.interp(q, cdf, v))


@dataclasses.dataclass(frozen=True)
class Posterior:
    """What a calibration found.

    Attributes:
        folder: The calibration's folder.
        info: Its record (``calibration.json``: provenance, episodes, priors, budget, state).
        priors: One row per parameter: ``name``, ``key``, ``episode`` (None when shared),
            ``low``, ``high``, ``scale``, ``integer``.
        particles: The last generation's particles: one column per parameter.
        weights: Their importance weights (summing to 1).
        statistics: The last generation's summary statistics: one column per statistic, then
            ``weight`` and ``distance`` (to history); one row per particle, in pyabc's order
            for them (not necessarily that of ``particles``).
        targets: History's values of the statistics.
        generations: One row per generation: ``generation``, ``epsilon``, ``accepted``,
            ``proposed`` (particles simulated), ``acceptance`` and ``ess`` (the effective
            sample size of its weights, ``1 / sum w^2``).
    """

    folder: Path
    info: dict[str, Any]
    priors: pd.DataFrame
    particles: pd.DataFrame
    weights: np.ndarray
    statistics: pd.DataFrame
    targets: dict[str, float]
    generations: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        """The inferred parameters' names."""
        return list(self.priors["name"])

    @property
    def shared(self) -> list[str]:
        """The shared parameters' names (those every episode takes)."""
        return list(self.priors.loc[self.priors["episode"].isna(), "name"])

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` particles drawn by weight (with replacement).

        Args:
            n: Number of draws.
            rng: The generator to draw with.

        Returns:
            One row per draw, one column per parameter.
        """
        index = rng.choice(len(self.weights), size=n, p=self.weights)
        return self.particles.iloc[index].reset_index(drop=True)

    def summary(self, level: float = 0.9) -> pd.DataFrame:
        """Each parameter's prior and weighted posterior, and how much history narrowed it.

        Args:
            level: The credible interval's probability (central).

        Returns:
            One row per parameter (index: name): ``episode``, ``prior_low``, ``prior_high``,
            ``mean``, ``median``, ``low`` and ``high`` (the credible interval), and
            ``contraction``, ``1 - posterior variance / prior variance``: near 1 when history
            pins the parameter down, near 0 when it does not inform it.
        """
        from .spec import Prior

        rows = []
        a = (1 - level) / 2
        for prior in self.priors.itertuples(index=False):
            x = self.particles[prior.name].to_numpy(dtype=float)
            w = self.weights
            mean = float(np.sum(w * x))
            var = float(np.sum(w * (x - mean) ** 2))
            spec = Prior(*(getattr(prior, f.name) for f in dataclasses.fields(Prior)))
            rows.append(
                {
                    "name": prior.name,
                    "episode": prior.episode,
                    "prior_low": prior.low,
                    "prior_high": prior.high,
                    "mean": mean,
                    "median": weighted_quantile(x, w, 0.5),
                    "low": weighted_quantile(x, w, a),
                    "high": weighted_quantile(x, w, 1 - a),
                    "contraction": 1 - var / spec.variance,
                }
            )
        return pd.DataFrame(rows).set_index("name")


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def load_posterior(folder: str | Path) -> Posterior:
    """Read a calibration's posterior from the folder ``dualpower calibrate`` wrote.

    Args:
        folder: The calibration's folder.

    Returns:
        The posterior of its last complete generation.

    Raises:
        CalibrationError: If the folder holds no calibration, or no complete generation yet,
            or pyabc (the ``calibrate`` extra) is missing.
    """
    pyabc = import_pyabc()
    folder = Path(folder)
    info = read_json(folder / INFO)
    if info is None:
        raise CalibrationError(
            f"{folder}: not a calibration's folder ({INFO} is missing or unreadable)"
        )
    path = folder / HISTORY
    if not path.is_file():
        raise CalibrationError(f"{folder}: {HISTORY} is missing; run the calibration first")
    try:
        history = pyabc.History(f"sqlite:///{path.resolve()}", create=False)
        history.id = 1
        t = history.max_t
    except Exception as exc:  # pyabc wraps SQLAlchemy's errors in its own
        raise CalibrationError(f"{path}: not a readable pyabc history ({exc})") from None
    if t is None or t < 0:
        raise CalibrationError(
            f"{folder}: no complete generation yet; continue the calibration with resume=True"
        )
    priors = pd.DataFrame(info["priors"])
    priors["episode"] = [_none(e) for e in priors["episode"]]
    particles, weights = history.get_distribution(m=0, t=t)
    particles = particles[list(priors["name"])].reset_index(drop=True)
    particles.columns.name = None
    sum_weights, stats = history.get_weighted_sum_stats(t=t)
    targets = {k: float(v) for k, v in history.observed_sum_stat().items()}
    statistics = pd.DataFrame(stats)
    statistics["weight"] = np.asarray(sum_weights, dtype=float)
    statistics["distance"] = [distance(s, targets) for s in stats]
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0].reset_index(drop=True)
    generations = pd.DataFrame(
        {
            "generation": populations["t"].astype(int),
            "epsilon": populations["epsilon"].astype(float),
            "accepted": populations["particles"].astype(int),
            "proposed": populations["samples"].astype(int),
        }
    )
    generations["acceptance"] = generations["accepted"] / generations["proposed"]
    # Effective sample size of each generation's importance weights: few particles carry a
    # posterior whose weights have collapsed, whatever the number accepted.
    ess = []
    for g in generations["generation"]:
        _, w = history.get_distribution(m=0, t=int(g))
        ess.append(float(1.0 / np.sum(np.asarray(w, dtype=float) ** 2)))
    generations["ess"] = ess
    return Posterior(
        folder=folder,
        info=info,
        priors=priors,
        particles=particles,
        weights=np.asarray(weights, dtype=float),
        statistics=statistics,
        targets=targets,
        generations=generations,
    )
