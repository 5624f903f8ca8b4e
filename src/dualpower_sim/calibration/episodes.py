"""Running a particle: every episode of a calibration, with the particle's parameter values.

A particle's runs take their seeds from the calibration's root seed, the generation, the
particle's parameter values (their 64-bit patterns) and the (episode, replicate), through
``numpy.random.SeedSequence``: the same particle gives the same statistics in any process, on
any executor. (pyabc does not tell a model which particle it is simulating; its parameter
values are what identifies it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..config import experiment_from_config
from .spec import Calibration, Episode, episode_overrides
from .summaries import episode_statistics, observation

__all__ = ["ParticleModel", "draw_guesses", "observe_run", "particle_seed", "run_episode"]


def particle_seed(
    root: int, generation: int, values: Mapping[str, float], episode: int, replicate: int
) -> int:
    """The seed of one run of a particle.

    Args:
        root: The calibration's root seed.
        generation: The ABC-SMC generation (``t``; pyabc's sample from the prior that sets the
            first epsilon is simulated as generation 0 too, its particles' values differ; -2
            for the dry run's timing runs).
        values: The particle's parameter values by name (sorted by name for the key).
        episode: The episode's index in the calibration.
        replicate: The replicate's index.

    Returns:
        A seed in ``[0, 2^63)``.
    """
    bits = np.array([float(values[k]) for k in sorted(values)], dtype=np.float64).view(np.uint32)
    key = (generation + 2, episode, replicate, *(int(b) for b in bits))
    sequence = np.random.SeedSequence(root, spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def draw_guesses(episode: Episode, seed: int) -> dict[str, float | int]:
    """An episode's guesses for one run, drawn from their ranges.

    Args:
        episode: The episode.
        seed: The run's seed (the draws take a stream of their own spawned from it, apart
            from the model's).

    Returns:
        Config keys to values (uniform, or log-uniform on a log scale; whole where the
        config's value is).
    """
    if not episode.guesses:
        return {}
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    u = rng.random(len(episode.guesses))
    out: dict[str, float | int] = {}
    for g, x in zip(episode.guesses, u, strict=True):
        value = g.low * (g.high / g.low) ** x if g.scale == "log" else g.low + x * (g.high - g.low)
        out[g.key] = g.value(float(value))
    return out


def observe_run(model: Any) -> dict[str, Any]:
    """A finished run's observation for the summary statistics.

    Args:
        model: A :class:`~dualpower_sim.DualPowerModel` that has run.

    Returns:
        See :func:`~dualpower_sim.calibration.summaries.observation`.
    """
    s = model.summary()
    began = s["dual_power_began"]
    majority_day = None
    if began is not None:
        share = model.indicators()["revolutionary_share"]
        after = share.index[(share.index >= began) & (share > s["majority"]).to_numpy()]
        majority_day = int(after[0]) if len(after) else None
    # At the horizon a run still under dual power is closed as unresolved: it did not end.
    resolved = s["resolved_step"] if s["outcome"] != "unresolved" else None
    return observation(s["outcome"], began, majority_day, resolved, model.horizon)


def run_episode(episode: Episode, values: Mapping[str, float | int], seed: int) -> dict[str, Any]:
    """One run of an episode with some of its parameters set.

    Args:
        episode: The episode.
        values: Dotted config keys (or ``loyalty_mean``) to values.
        seed: The run's root seed.

    Returns:
        The run's observation (:func:`observe_run`).
    """
    # From the resolved config (size and horizon in it): no file is read, on any worker.
    experiment = experiment_from_config(
        episode.experiment.config,
        episode_overrides(episode.experiment, values),
        episode.name,
        seed=seed,
    )
    return observe_run(experiment.build_model().run())


class ParticleModel:
    """The model pyabc simulates: every episode, ``replicates`` runs each, for a particle.

    Args:
        calibration: The calibration.

    Calling it with a particle's parameters (a mapping by prior name) and a generation returns
    the summary statistics of every episode.
    """

    def __init__(self, calibration: Calibration) -> None:
        self.calibration = calibration

    def episode_values(self, parameters: Mapping[str, float], episode: str) -> dict[str, Any]:
        """The config values one episode's runs take from a particle."""
        return {
            p.key: p.value(parameters[p.name])
            for p in self.calibration.priors
            if p.episode is None or p.episode == episode
        }

    def observations(
        self, parameters: Mapping[str, float], generation: int, episode: int
    ) -> list[dict[str, Any]]:
        """The runs of one episode (by index) for a particle."""
        c = self.calibration
        e = c.episodes[episode]
        values = self.episode_values(parameters, e.name)
        runs = []
        for r in range(c.replicates):
            seed = particle_seed(c.seed, generation, parameters, episode, r)
            runs.append(run_episode(e, {**values, **draw_guesses(e, seed)}, seed))
        return runs

    def __call__(self, parameters: Mapping[str, float], generation: int) -> dict[str, float]:
        """Summary statistics of every episode for a particle.

        Args:
            parameters: The particle's values by prior name.
            generation: The ABC-SMC generation.

        Returns:
            Every episode's statistics (:func:`episode_statistics`).
        """
        stats: dict[str, float] = {}
        for i, e in enumerate(self.calibration.episodes):
            runs = self.observations(parameters, generation, i)
            stats.update(episode_statistics(e.name, runs, e.outcomes, tuple(e.days)))
        return stats
