"""The shared state that rules read and change during a step.

Rules receive a :class:`World`, its parameters and a generator; they never see the Mesa model.
Model-level inputs that the councils and the state will move in later stages (legitimacy, police
density, current hardship) live here beside the city.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .city import City
from .networks import ShareTracker, SocialNetwork
from .population import Population

__all__ = ["World"]


@dataclasses.dataclass(eq=False)
class World:
    """A city in motion.

    Attributes:
        city: The city (population, networks, firms, neighbourhoods).
        legitimacy: The state's legitimacy L in [0, 1] (Epstein 2002); grievance is H (1 - L).
        coercion: Police per resident in each neighbourhood (Epstein's cop density relative to
            citizens is about 0.04 / 0.7 = 0.057).
        hardship: Current hardship of each worker in [0, 1]: the base trait plus active shocks.
        step: Number of completed steps (days).
        memory: Per-worker arrays owned by rules, keyed ``"<rule>.<name>"`` (e.g. thresholds).
    """

    city: City
    legitimacy: float
    coercion: np.ndarray
    hardship: np.ndarray
    step: int = 0
    memory: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def population(self) -> Population:
        """The workers."""
        return self.city.population

    @property
    def network(self) -> SocialNetwork:
        """The workers' ties."""
        return self.city.network

    @cached_property
    def _mobilized_share(self) -> ShareTracker:
        return self.network.share_tracker()

    def mobilized_share(self) -> np.ndarray:
        """Each worker's weighted share of mobilized network neighbours (read-only, float64)."""
        return self._mobilized_share(self.population.mobilized())

    @cached_property
    def residents(self) -> np.ndarray:
        """Number of residents of each neighbourhood (fixed: jailed workers keep their home)."""
        return np.bincount(self.population.neighbourhood, minlength=self.city.n_neighbourhoods)

    def police(self) -> np.ndarray:
        """Number of police officers in each neighbourhood now (density x residents, rounded)."""
        return np.rint(self.coercion * self.residents)

    @cached_property
    def _neighbourhood_members(self) -> sp.csr_matrix:
        """Neighbourhood-by-worker 0/1 matrix: ``M @ x`` sums ``x`` over each neighbourhood."""
        nb = self.population.neighbourhood
        order = np.argsort(nb, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(self.residents)])
        shape = (self.city.n_neighbourhoods, self.population.n)
        return sp.csr_matrix((np.ones(nb.size), order, indptr), shape=shape)

    def sum_by_neighbourhood(self, x: np.ndarray) -> np.ndarray:
        """Sum of a per-worker quantity over each neighbourhood's residents.

        Args:
            x: Per-worker values (booleans count).

        Returns:
            One float sum per neighbourhood.
        """
        # A sparse product is 2-3x faster here than np.bincount with weights.
        return self._neighbourhood_members @ np.asarray(x, dtype=np.float64)

    def sum_by_firm(self, x: np.ndarray) -> np.ndarray:
        """Sum of a per-worker quantity over each firm's workforce (firms hold consecutive ids).

        Args:
            x: Per-worker values (booleans count).

        Returns:
            One float sum per firm.
        """
        return np.add.reduceat(np.asarray(x, dtype=np.float64), self.city.firm_start)

    def mobilized_by_neighbourhood(self) -> np.ndarray:
        """Number of mobilized residents of each neighbourhood now."""
        return self.sum_by_neighbourhood(self.population.mobilized())
