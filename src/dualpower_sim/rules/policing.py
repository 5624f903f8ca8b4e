"""Policing: arrests of mobilized workers and release from jail.

Each officer in a neighbourhood makes an arrest on a given day with probability ``arrest_rate``
if there is a mobilized resident to arrest (Epstein 2002: each cop arrests one random active
agent in vision per step). Arrested workers are jailed for a term drawn uniformly from
``1..max_jail_term`` days (Epstein: ``J ~ U(0, J_max)``, ``J_max = 30``; we start at 1 day so an
arrest always removes the worker for at least one step) and come back passive.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ..params import param
from ..population import Status
from ..world import World
from .base import Rule

__all__ = ["Policing"]

PASSIVE, MOBILIZED, JAILED = int(Status.PASSIVE), int(Status.MOBILIZED), int(Status.JAILED)


@dataclasses.dataclass(frozen=True)
class Policing(Rule):
    """Arrests by neighbourhood police and release at the end of a jail term.

    Attributes:
        arrest_rate: Probability that an officer arrests one mobilized resident on a given day.
            Under the ``threshold`` rule the default is 0 (Granovetter's and Watts's models
            have no police); set it for arrests.
        max_jail_term: Longest jail term, in days (steps).
    """

    name: ClassVar[str] = "policing"

    arrest_rate: float = param(0.2, kind=float, low=0.0, high=1.0)
    max_jail_term: int = param(30, kind=int, low=1, high=100_000)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        pop = world.population
        status = pop.status
        # Jail terms end on an exact day: look only at today's cohort, and only while some
        # term the police handed out has still to end.
        if world.step <= world.memory.get("policing.last_release", 0):
            due = (pop.jail_release == world.step).nonzero()[0]
            status[due[status[due] == JAILED]] = PASSIVE

        if self.arrest_rate == 0:
            return
        # Each officer makes an arrest today with probability arrest_rate: a binomial number per
        # neighbourhood, drawn officer by officer (far cheaper than numpy's binomial per element).
        police = world.police().astype(np.int64)
        on_duty = np.repeat(np.arange(police.size), police)
        capacity = np.bincount(
            on_duty[rng.random(on_duty.size) < self.arrest_rate], minlength=police.size
        )
        mobilized = world.mobilized_by_neighbourhood()
        arrests = np.minimum(capacity, mobilized)
        if not arrests.any():
            return
        # Each mobilized resident is taken with probability min(capacity, A) / A, so a
        # neighbourhood loses min(capacity, A) of its A mobilized on average (a Bernoulli thinning
        # in place of Epstein's one-by-one arrests: same expectation, no sort). Random numbers
        # are drawn only for the mobilized of neighbourhoods where the police make arrests.
        take = np.divide(arrests, mobilized, out=np.zeros(arrests.size), where=mobilized > 0)
        candidates = (status == MOBILIZED).nonzero()[0]
        # Single-precision uniforms (steps of 2^-24) are ample for a probability and cheaper.
        u = rng.random(candidates.size, dtype=np.float32)
        arrested = candidates[u < take[pop.neighbourhood[candidates]]]
        status[arrested] = JAILED
        # Terms uniform on 1..max_jail_term (floor of a uniform: rng.integers costs several
        # times more for the few hundred arrests of a small city's day).
        term = (rng.random(arrested.size) * self.max_jail_term).astype(np.int64) + 1
        release = world.step + term
        pop.jail_release[arrested] = release
        if release.size:
            last = world.memory.get("policing.last_release", 0)
            world.memory["policing.last_release"] = max(last, int(release.max()))
