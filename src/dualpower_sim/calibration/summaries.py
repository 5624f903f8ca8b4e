"""Summary statistics of an episode's runs, history's values of them, and the distance between.

For each episode the statistics are:

- ``EPISODE:outcome``: the share of its runs that end in (one of) the historical outcome(s);
  history's value is 1.
- ``EPISODE:TIMING`` for each timing the episode gives (:data:`~.spec.TIMINGS`): the median
  over its runs of the days from the start of the run to dual power (``dual_power``), or from
  dual power to the first day with a revolutionary majority (``majority``) or to the day the
  run resolved (``end``). An event that did not come by the horizon (dual power that never
  began, a majority never won, dual power still standing at the horizon) counts at **twice the
  horizon** (censored): later than anything a run can show, so at least a factor of two (one
  unit of distance) from any target within the horizon.

The distance is the root mean square of scaled differences, each episode weighing the same:

    d = sqrt( mean over episodes of ( mean over its statistics of z^2 ) )

with ``z = (share - 1) / 0.5`` for the outcome and ``z = log2((days + 1) / (history + 1))``
for a timing. One unit of ``z`` is half the runs ending otherwise than history, or a timing
off by a factor of two (either way; the ``+ 1`` keeps a day-0 event finite). Why this and not
pyabc's adaptive distances (which rescale each statistic by its spread in the last
generation): an outcome share is often the same in every particle (0 or 1), a spread of zero
that an adaptive scale would divide by; fixed scales keep epsilon's meaning the same in every
generation and every calibration (an epsilon of 0.5 is "typically a quarter of the runs wrong,
or timings off by a factor of 1.4"), and a timing's error is relative because the targets run
from 51 days (1905) to 470 (Gdansk) and their dates are approximate. Episodes weigh the same
so that one with three targets does not count three times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "OUTCOME_SCALE",
    "distance",
    "episode_statistics",
    "observation",
    "target_statistics",
]

#: A share of runs ending otherwise than history of this much counts as one unit of distance.
OUTCOME_SCALE = 0.5


def observation(
    outcome: str, began: int | None, majority_day: int | None, resolved: int | None, horizon: int
) -> dict[str, Any]:
    """What the summary statistics need of one run.

    Args:
        outcome: The run's outcome.
        began: The day dual power began, or None if it never did.
        majority_day: The first day with a revolutionary majority after dual power began, or
            None.
        resolved: The day the run resolved, or None if dual power still stood at the horizon
            (or never began).
        horizon: The run's horizon (days).

    Returns:
        ``outcome`` and the days ``dual_power``, ``majority`` and ``end`` as
        :mod:`this module <dualpower_sim.calibration.summaries>` defines them, an event that
        never came at twice the horizon.
    """
    never = 2 * horizon
    if began is None:
        return {"outcome": outcome, "dual_power": never, "majority": never, "end": never}
    return {
        "outcome": outcome,
        "dual_power": began,
        "majority": majority_day - began if majority_day is not None else never,
        "end": resolved - began if resolved is not None else never,
    }


def episode_statistics(
    name: str, runs: Sequence[Mapping[str, Any]], outcomes: Sequence[str], timings: Sequence[str]
) -> dict[str, float]:
    """One episode's summary statistics from its runs.

    Args:
        name: The episode's name (the statistics' prefix).
        runs: Observations (:func:`observation`), one per replicate.
        outcomes: The historical outcome(s).
        timings: The timings history gives for it.

    Returns:
        ``name:outcome`` and ``name:TIMING`` for each timing.
    """
    stats = {f"{name}:outcome": float(np.mean([r["outcome"] in outcomes for r in runs]))}
    for timing in timings:
        stats[f"{name}:{timing}"] = float(np.median([r[timing] for r in runs]))
    return stats


def target_statistics(
    episodes: Sequence[tuple[str, Mapping[str, float]]],
) -> dict[str, float]:
    """History's values of the summary statistics.

    Args:
        episodes: (name, target days by timing) for each episode.

    Returns:
        ``name:outcome`` = 1 and ``name:TIMING`` = the target days.
    """
    out: dict[str, float] = {}
    for name, days in episodes:
        out[f"{name}:outcome"] = 1.0
        for timing, value in days.items():
            out[f"{name}:{timing}"] = float(value)
    return out


def _z(key: str, x: float, x0: float) -> float:
    if key.endswith(":outcome"):
        return (x - x0) / OUTCOME_SCALE
    return math.log2((x + 1.0) / (x0 + 1.0))


def distance(x: Mapping[str, float], x0: Mapping[str, float]) -> float:
    """The distance between simulated and historical statistics (the module docstring).

    Args:
        x: Simulated statistics (:func:`episode_statistics` of every episode).
        x0: History's (:func:`target_statistics`); its keys are the ones compared.

    Returns:
        The distance, >= 0 (0 when every run ends as history did, on history's days).
    """
    by_episode: dict[str, list[float]] = {}
    for key, target in x0.items():
        episode = key.rsplit(":", 1)[0]
        by_episode.setdefault(episode, []).append(_z(key, float(x[key]), float(target)) ** 2)
    return math.sqrt(sum(float(np.mean(z)) for z in by_episode.values()) / len(by_episode))
