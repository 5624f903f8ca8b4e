"""Posterior predictive checks: each episode simulated from posterior draws, against history.

Particles are drawn by weight from the posterior; each draw runs every episode ``replicates``
times. An episode the calibration left out (``--leave-out``) has no posterior for its own
guesses: its draws take the shared parameters from the posterior and its own from their
priors, as a new episode with only plausible ranges would. That is the held-out prediction.
An episode's guesses (``[episodes.guesses]``) are drawn afresh in every run, as in the
calibration.

Every run's seed and values are fixed before any runs, so the runs give the same rows on one
process or several (``jobs``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import pandas as pd

from .episodes import ParticleModel, draw_guesses, run_episode
from .posterior import Posterior
from .smc import CalibrationError
from .spec import Calibration, Episode

__all__ = ["posterior_predictive", "predictive_seed"]


def predictive_seed(root: int, draw: int, episode: int, replicate: int) -> int:
    """The seed of one predictive run (spawned from the root seed apart from the SMC's).

    Args:
        root: The calibration's root seed.
        draw: The posterior draw's index.
        episode: The episode's index in the calibration file.
        replicate: The replicate's index.

    Returns:
        A seed in ``[0, 2^63)``.
    """
    sequence = np.random.SeedSequence(root, spawn_key=(0, draw, episode, replicate))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def posterior_predictive(
    calibration: Calibration,
    posterior: Posterior,
    draws: int = 20,
    replicates: int = 1,
    episodes: Sequence[str] | None = None,
    jobs: int = 1,
) -> pd.DataFrame:
    """Simulate episodes from posterior draws.

    Args:
        calibration: The whole calibration (every episode, the left-out one included).
        posterior: The posterior to draw from.
        draws: Posterior draws.
        replicates: Runs per episode per draw.
        episodes: The episodes to simulate (default: every episode of ``calibration``).
        jobs: Processes to run on (1: this process). The rows are the same whatever ``jobs``.

    Returns:
        One row per run: ``episode``, ``draw``, ``replicate``, ``held_out`` (the episode was
        left out of the calibration), ``outcome``, ``historical`` (the run ended as history
        did), and the days ``dual_power``, ``majority``, ``end``
        (:func:`~dualpower_sim.calibration.summaries.observation`).
    """
    # Key (0,): apart from the generations' keys (t + 2,) and from the runs' (0, d, e, r).
    rng = np.random.default_rng(np.random.SeedSequence(calibration.seed, spawn_key=(0,)))
    sample = posterior.sample(draws, rng)
    model = ParticleModel(calibration)
    held_out = posterior.info.get("leave_out")
    names = [e.name for e in calibration.episodes] if episodes is None else list(episodes)
    tasks: list[tuple[Episode, dict[str, Any], int]] = []
    keys = []
    for i, episode in enumerate(calibration.episodes):
        if episode.name not in names:
            continue
        own = [p for p in calibration.priors if p.episode == episode.name]
        for d in range(draws):
            values = {k: float(v) for k, v in sample.iloc[d].items()}
            for p in own:
                if p.name not in values:  # left out: its own guesses from their priors
                    u = rng.random()
                    values[p.name] = (
                        float(p.low * (p.high / p.low) ** u)
                        if p.scale == "log"
                        else float(p.low + u * (p.high - p.low))
                    )
            config = model.episode_values(values, episode.name)
            for r in range(replicates):
                seed = predictive_seed(calibration.seed, d, i, r)
                tasks.append((episode, {**config, **draw_guesses(episode, seed)}, seed))
                keys.append((episode, d, r))
    if jobs > 1 and len(tasks) > 1:
        # Fresh interpreters (spawn), as the sweeps' pool: no state inherited from this one.
        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                chunk = max(1, len(tasks) // (4 * jobs))
                observations = list(pool.map(_run, tasks, chunksize=chunk))
        except BrokenProcessPool as error:  # killed, or out of memory: nothing was written
            raise CalibrationError(
                f"a process of the predictive runs died ({error}); run again, or with jobs=1 "
                "to see the error in this process"
            ) from None
    else:
        observations = [_run(task) for task in tasks]
    rows = [
        {
            "episode": episode.name,
            "draw": d,
            "replicate": r,
            "held_out": episode.name == held_out,
            **obs,
            "historical": obs["outcome"] in episode.outcomes,
        }
        for (episode, d, r), obs in zip(keys, observations, strict=True)
    ]
    return pd.DataFrame(rows)


def _run(task: tuple[Episode, dict[str, Any], int]) -> dict[str, Any]:
    """One predictive run (a pool's task): the episode, its values and its seed."""
    episode, values, seed = task
    return run_episode(episode, values, seed)
