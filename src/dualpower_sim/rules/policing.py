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

from ..kernels import policing as kernels
from ..params import param
from ..population import Status
from ..world import World
from .base import Rule

__all__ = ["Policing"]

if (int(Status.PASSIVE), int(Status.MOBILIZED), int(Status.JAILED)) != (
    kernels.PASSIVE,
    kernels.MOBILIZED,
    kernels.JAILED,
):
    raise ImportError("Status codes changed: the policing kernels use PASSIVE 0 to JAILED 2")


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
        # Jail terms end on an exact day: look for today's cohort only while some term the
        # police handed out has still to end.
        releasing = world.step <= world.memory.get("policing.last_release", 0)
        if self.arrest_rate == 0:
            if releasing:
                kernels.release(pop.status, pop.jail_release, world.step)
            return
        # Each officer makes an arrest today with probability arrest_rate: a binomial number per
        # neighbourhood, drawn officer by officer (far cheaper than numpy's binomial per element).
        officers = world.police().astype(np.int64)
        u = rng.random(int(officers.sum()))
        counter = world._mobilized_counter
        take = np.empty(officers.size)
        n_mobilized = kernels.plan_arrests(
            pop.status,
            pop.jail_release,
            world.step,
            releasing,
            counter.groups,
            counter.counts,
            counter.marked,
            officers,
            u,
            self.arrest_rate,
            take,
        )
        if not n_mobilized:
            return
        # Each mobilized resident is taken with probability min(arrests, A) / A, so a
        # neighbourhood loses min(arrests, A) of its A mobilized on average (a Bernoulli thinning
        # in place of Epstein's one-by-one arrests: same expectation, no sort). Random numbers
        # are drawn for every mobilized worker, only on days the police make arrests;
        # single-precision uniforms (steps of 2^-24) are ample for a probability and cheaper.
        u32 = rng.random(n_mobilized, dtype=np.float32)
        arrested = kernels.arrest(
            pop.status, counter.groups, u32, take, counter.counts, counter.marked
        )
        if arrested.size:
            # Terms uniform on 1..max_jail_term (floor of a uniform: rng.integers costs several
            # times more for the few hundred arrests of a small city's day).
            last = kernels.jail(
                pop.jail_release,
                arrested,
                rng.random(arrested.size),
                world.step,
                self.max_jail_term,
            )
            world.memory["policing.last_release"] = max(
                world.memory.get("policing.last_release", 0), last
            )
