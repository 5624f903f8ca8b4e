"""Random streams of a model, all spawned from one root ``SeedSequence``.

A model's seed (an integer, or None for fresh OS entropy that is then recorded) makes a root
``numpy.random.SeedSequence``. Its children, in a fixed order, seed independent PCG64 generators:

- ``city``: draws the city (firms, residences, traits, networks);
- ``dynamics``: everything drawn while the model runs (Mesa's ``model.rng``);
- ``diagnostics``: samples drawn only to describe the model (clustering estimates), so that
  looking at a model never changes its run.

Keeping the city on its own stream means two runs with the same seed and different rule
parameters share the same city (common random numbers, which sharpen comparisons in a sweep).
Nothing in the package uses Python's ``random`` module or NumPy's global state.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .params import ParameterError

__all__ = ["MAX_SEED", "Streams", "make_streams"]

_STREAMS = ("city", "dynamics", "diagnostics")

#: The largest seed: seeds are 63-bit everywhere (the API, the CLI, configs, sweeps, summaries),
#: so any seed a run records can be written in TOML (a signed 64-bit integer) and replayed.
MAX_SEED = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Streams:
    """The generators of one model and the seed that made them.

    Attributes:
        seed: The root entropy (pass it back as ``seed`` to reproduce the model).
        city: Generator for building the city.
        dynamics: Generator for the model's steps.
        diagnostics: Generator for descriptive statistics only.
    """

    seed: int
    city: np.random.Generator
    dynamics: np.random.Generator
    diagnostics: np.random.Generator


def make_streams(seed: int | None) -> Streams:
    """Spawn a model's generators from a root seed.

    Args:
        seed: An integer from 0 to :data:`MAX_SEED`, or None for fresh entropy (a seed in
            that range is drawn and recorded).

    Returns:
        The streams; ``Streams.seed`` holds the root entropy either way.

    Raises:
        ParameterError: If the seed is negative or not an integer.
    """
    if seed is None:
        # Fresh entropy, folded into the seeds' range: the seed recorded can be given back in a
        # config or on the command line to replay the run.
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    elif (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not 0 <= int(seed) <= MAX_SEED
    ):
        raise ParameterError(
            "seed", seed, "allowed: an integer from 0 to 2**63 - 1, or None for fresh entropy"
        )
    root = np.random.SeedSequence(int(seed))
    children = root.spawn(len(_STREAMS))
    gens = {
        name: np.random.Generator(np.random.PCG64(ss))
        for name, ss in zip(_STREAMS, children, strict=True)
    }
    return Streams(seed=int(root.entropy), **gens)  # type: ignore[arg-type]
