"""What every rule is: a named mechanism with checked parameters, run once per step.

A rule is a frozen :class:`~dualpower_sim.params.ParamGroup` (its parameters) with two methods:
``setup`` once when the model starts, and ``step`` every day. Both get the :class:`World` and the
model's dynamics generator; per-worker state a rule needs between steps goes in ``world.memory``
under keys that start with the rule's name. Rules change arrays in place and never loop over
workers in Python.

At 10^4 workers a step is a few hundred numpy calls on small arrays, so each call's fixed cost
counts: hot paths write ``mask.nonzero()[0]`` for ``np.flatnonzero(mask)`` and ``x.sum() / x.size``
for ``x.mean()``, which give the same results without the wrappers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..params import ParamGroup
from ..world import World

__all__ = ["Rule"]


class Rule(ParamGroup):
    """Base class of all rules.

    Attributes:
        name: The rule's registry name (class attribute).
    """

    name: ClassVar[str] = ""

    def setup(self, world: World, rng: np.random.Generator) -> None:
        """Prepare per-worker state before the first step (default: nothing).

        Args:
            world: The world the rule will act on.
            rng: The model's dynamics generator.
        """

    def step(self, world: World, rng: np.random.Generator) -> None:
        """Apply the rule for one day, changing ``world`` in place.

        Args:
            world: The world.
            rng: The model's dynamics generator.
        """
        raise NotImplementedError
