"""The state: legitimacy, coercion (police and soldiers), and a strategy against the councils.

The state is one Mesa agent (:class:`State`) whose levers live in :class:`StateLevels` and whose
soldiers are a population held as arrays (:class:`Soldiers`), like the workers. Its strategy
(:mod:`dualpower_sim.rules.state`) mixes repression, concessions and the *offensive*: "in the vast
majority of cases, the capitalist state took advantage of hesitations and divisions on the
workers' side to take to the offensive and crush the workers' councils" (the article).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .agents import CityAgent
from .kernels.soldiers import tally

__all__ = ["Soldiers", "State", "StateLevels"]


@dataclasses.dataclass(eq=False)
class Soldiers:
    """The soldiers as arrays (index = soldier id).

    Once reinforcements have arrived the arrays are views of longer buffers (see
    :meth:`reinforce`); they may be changed in place, or replaced, like any array.

    Attributes:
        loyalty: Loyalty to the state in [0, 1].
        barracks: Neighbourhood where each soldier is quartered (for a soldier outside the
            city, where it goes when the state sends it in).
        defected: Has gone over to the councils ("the armed people and soldiers").
        outside: Stands outside the city (Thiers's army at Versailles, 1871): it neither meets
            the crowds nor polices the streets until the state sends it in on an offensive.
    """

    loyalty: np.ndarray
    barracks: np.ndarray
    defected: np.ndarray
    outside: np.ndarray

    @classmethod
    def draw(
        cls,
        n: int,
        loyalty,
        n_neighbourhoods: int,
        rng,
        outside: int = 0,
        outside_loyalty=None,
    ) -> Soldiers:
        """Draw ``n`` soldiers quartered at random, the last ``outside`` of them outside the city.

        Args:
            n: Number of soldiers.
            loyalty: Distribution of the loyalty of the soldiers in the city.
            n_neighbourhoods: Neighbourhoods to quarter them in.
            rng: Generator.
            outside: How many of the ``n`` stand outside the city.
            outside_loyalty: Distribution of their loyalty (None: ``loyalty``).
        """
        inside = n - outside
        outside_loyalty = loyalty if outside_loyalty is None else outside_loyalty
        drawn = np.concatenate([loyalty.sample(rng, inside), outside_loyalty.sample(rng, outside)])
        return cls(
            loyalty=np.clip(drawn, 0.0, 1.0),
            barracks=rng.integers(0, n_neighbourhoods, n),
            defected=np.zeros(n, dtype=bool),
            outside=np.arange(n) >= inside,
        )

    def reinforce(self, n: int, loyalty, n_neighbourhoods: int, rng) -> None:
        """Bring ``n`` soldiers from outside the city to stand outside it, beside the others.

        Args:
            n: Number of soldiers.
            loyalty: Distribution of their loyalty.
            n_neighbourhoods: Neighbourhoods they would be sent into.
            rng: Generator.
        """
        drawn = loyalty.sample(rng, n)
        barracks = rng.integers(0, n_neighbourhoods, n)
        old = self.n
        self._make_room(old + n)
        np.clip(drawn, 0.0, 1.0, out=self.loyalty[old:])
        self.barracks[old:] = barracks
        self.defected[old:] = False
        self.outside[old:] = True

    #: The four per-soldier arrays, in the order of the buffers behind them.
    _ARRAYS = ("loyalty", "barracks", "defected", "outside")

    def _make_room(self, size: int) -> None:
        """Make the arrays ``size`` long: views of buffers with room to spare.

        Reinforcements arrive every day of dual power, a few at a time: copying the garrison's
        arrays for each arrival would cost a pass over all of them a day, so the arrays are
        views of buffers that grow by doubling. The buffers are made again (from the arrays)
        when the arrays are no longer views of them (after unpickling, or if replaced).

        Args:
            size: New number of soldiers (at least the current number; the new ones' values
                are left for the caller to fill).
        """
        arrays = [getattr(self, name) for name in self._ARRAYS]
        buffers = self.__dict__.get("_buffers")
        if (
            buffers is None
            or buffers[0].size < size
            or any(a.base is not b for a, b in zip(arrays, buffers, strict=True))
        ):
            room = max(size, 2 * self.n)
            buffers = [np.empty(room, dtype=a.dtype) for a in arrays]
            for a, b in zip(arrays, buffers, strict=True):
                b[: a.size] = a
            self._buffers = buffers
        for name, b in zip(self._ARRAYS, buffers, strict=True):
            setattr(self, name, b[:size])

    def __getstate__(self) -> dict:
        """Pickle the arrays alone (the buffers behind them are made again when needed)."""
        state = dict(self.__dict__)
        state.pop("_buffers", None)
        return state

    @property
    def n(self) -> int:
        """Number of soldiers."""
        return int(self.loyalty.size)

    def defected_share(self) -> float:
        """Share of soldiers who have defected (0 with no soldiers)."""
        # count / n is exactly what ndarray.mean() gives for booleans, without its wrapper
        return np.count_nonzero(self.defected) / self.n if self.n else 0.0

    def loyal(self) -> tuple[int, int, float]:
        """The soldiers still with the state, in one pass over the garrison.

        Returns:
            How many have not defected, how many of those stand outside the city, and the mean
            loyalty of those who have not defected (0 if none).
        """
        n, outside, total = tally(self.loyalty, self.defected, self.outside)
        return n, outside, total / n if n else 0.0


@dataclasses.dataclass(eq=False)
class StateLevels:
    """The state's levers and what it remembers, changed by its strategy each day.

    Attributes:
        repression: Repression level in [0, 1].
        concession: Concession level in [0, 1].
        deployed: Share of loyal soldiers sent into the streets beside the police.
        offensive_until: Last day of the current offensive (-1 if none).
        offensives: Offensives launched so far.
        base_coercion: Police per resident before any surge.
        offensive_began: Day the last offensive began (-1 if none).
        repelled: Day the last offensive ended with the councils still standing (-1 if none).
        conceded: Highest concession level since dual power began.
        seat_outside: The government sits outside the city (Versailles, 1871): the city's
            crowds and blockades do not wear away its consent.
        forces_ready: Day the state's reinforcements had all arrived (-1 if not yet): from then
            it may attack with its forces concentrated, whether or not the movement hesitates.
        incorporates: The state order can take the councils' moderates in (ministries in a
            coalition, a constituent assembly): only then can councils be co-opted (set from
            :attr:`dualpower_sim.rules.StateStrategy.incorporation`).
    """

    repression: float = 0.0
    concession: float = 0.0
    deployed: float = 0.0
    offensive_until: int = -1
    offensives: int = 0
    base_coercion: float = 0.0
    offensive_began: int = -1
    repelled: int = -1
    conceded: float = 0.0
    seat_outside: bool = False
    forces_ready: int = -1
    incorporates: bool = True

    def launch(self, step: int, days: int) -> None:
        """Begin an offensive on ``step`` lasting ``days`` days."""
        self.offensive_until = step + days
        self.offensive_began = step
        self.offensives += 1

    def on_offensive(self, step: int) -> bool:
        """Whether an offensive is under way on ``step``."""
        return step <= self.offensive_until

    def prepared(self) -> bool:
        """Whether the state's concentrated forces stand ready and have not yet been committed."""
        return self.forces_ready >= 0 and self.offensive_began < self.forces_ready


class State(CityAgent):
    """The state, as a Mesa agent for inspection (``model.state``).

    Its levers (:class:`StateLevels`), legitimacy and soldiers are read from the model's world;
    the state's strategy rule changes them.
    """

    @property
    def _world(self):
        return self.model.world

    @property
    def legitimacy(self) -> float:
        """Legitimacy in [0, 1]."""
        return float(self._world.legitimacy)

    @property
    def repression(self) -> float:
        """Repression level in [0, 1]."""
        return self._world.levels.repression

    @property
    def concession(self) -> float:
        """Concession level in [0, 1]."""
        return self._world.levels.concession

    @property
    def on_offensive(self) -> bool:
        """Whether an offensive is under way."""
        return self._world.levels.on_offensive(self._world.step)

    @property
    def soldiers(self) -> Soldiers:
        """The soldiers."""
        return self._world.soldiers

    def __repr__(self) -> str:
        return (
            f"State(legitimacy={self.legitimacy:.2f}, repression={self.repression:.2f}, "
            f"concession={self.concession:.2f}, soldiers={self.soldiers.n}, "
            f"defected={self.soldiers.defected_share():.1%})"
        )
