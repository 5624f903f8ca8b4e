"""Mobilization: who strikes, blockades or occupies today.

Three swappable rules, each updating all workers synchronously from yesterday's state (jailed and
removed workers cannot mobilize):

- ``threshold`` (:class:`ThresholdRule`): Granovetter (1978) on networks (Watts 2002): a worker is
  mobilized when the weighted share of mobilized network neighbours reaches their threshold.
- ``deterrence`` (:class:`DeterrenceRule`): Epstein (2002): grievance ``G = H (1 - L)``; a worker
  is mobilized iff ``G - R P > T`` with arrest probability ``P = 1 - exp(-k f(C / A))``.
- ``combined`` (:class:`CombinedRule`, the default): grievance, neighbours' example and fear of
  repression together: mobilized iff ``G + example_weight * s - R P > T``.

Locality of the arrest probability: Epstein counts cops ``C`` and actives ``A`` within an agent's
vision on a grid. Here the locality is the worker's neighbourhood (the police are in the street):
``C`` is the neighbourhood's officers and ``A`` its mobilized residents plus the worker
(Epstein's ``A`` counts the agent itself). This departs from the source's spatial vision.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar

import numpy as np

from ..distributions import Distribution, Normal
from ..kernels import mobilization as kernels
from ..params import ParameterError, param
from ..population import Status
from ..world import World
from .base import Rule

__all__ = [
    "CA_FORMS",
    "CombinedRule",
    "DeterrenceRule",
    "ThresholdRule",
    "arrest_probability",
    "grievance",
]

#: How the ratio C / A enters the arrest probability: ``"floor"`` as in NetLogo's Rebellion model,
#: ``"round"`` as in Mesa's Epstein example, ``"literal"`` as printed in Epstein (2002), which
#: gives no outbursts (calibration.md).
CA_FORMS = ("floor", "round", "literal")

#: Tolerance when comparing a neighbour share with a threshold: a share such as 1/3 is not exact in
#: floating point, so "reaches its threshold" means ``share >= threshold - 1e-6``, or less than
#: 1e-6 for a worker with so many ties that one neighbour is worth less (see
#: :func:`share_tolerance`).
SHARE_TOLERANCE = 1e-6


def share_tolerance(network) -> float | np.ndarray:
    """Each worker's tolerance: :data:`SHARE_TOLERANCE`, or half its smallest tie's weight.

    A share moves by at least the weight of one neighbour, so a tolerance below half of it can
    never count a worker one neighbour short as having reached the threshold, however large the
    city (on a complete network of N workers one neighbour is worth 1 / (N - 1), less than 1e-6
    once N > 10^6 + 1). Workers whose ties all weigh more than 2e-6 keep 1e-6.

    Args:
        network: The city's :class:`~dualpower_sim.networks.SocialNetwork`.

    Returns:
        A number (the same for everyone) or one per worker.
    """
    if network.kind == "complete":
        return min(SHARE_TOLERANCE, 0.5 / max(network.n - 1, 1))
    mix = network.mix
    lengths = np.diff(mix.indptr)
    smallest = np.full(network.n, np.inf)
    has = lengths > 0
    if mix.data.size:
        smallest[has] = np.minimum.reduceat(mix.data, mix.indptr[:-1][has])
    return np.minimum(SHARE_TOLERANCE, 0.5 * smallest)


if (int(Status.PASSIVE), int(Status.MOBILIZED)) != (kernels.PASSIVE, kernels.MOBILIZED):
    raise ImportError("Status codes changed: the mobilization kernels use PASSIVE 0, MOBILIZED 1")

#: Stand-ins for the network's arrays when a kernel is not to track the shares itself.
_NO_INDEX = np.zeros(1, dtype=np.int32)
_NO_FLOAT = np.zeros(0)
_NO_MARKS = np.zeros(0, dtype=bool)


def grievance(hardship: np.ndarray, legitimacy: float) -> np.ndarray:
    """Epstein's grievance ``G = H (1 - L)``.

    Args:
        hardship: Hardship H of each worker, in [0, 1].
        legitimacy: The state's legitimacy L, in [0, 1].

    Returns:
        Grievance of each worker, in [0, 1].
    """
    return hardship * (1.0 - legitimacy)


def arrest_probability(police: np.ndarray, active: np.ndarray, k: float, form: str) -> np.ndarray:
    """Estimated arrest probability ``P = 1 - exp(-k f(C / A))`` (Epstein 2002).

    Args:
        police: Officers C in the worker's locality.
        active: Mobilized workers A in the locality, counting the worker (so A >= 1).
        k: Constant making P = 0.9 when C = A = 1 (Epstein: 2.3).
        form: How C / A is taken: ``"floor"``, ``"round"`` (half to even, like Python's
            ``round`` in Mesa's example) or ``"literal"``.

    Returns:
        Arrest probability of each worker, in [0, 1].
    """
    if form not in kernels.CA_FORM_CODES:
        raise ParameterError("form", form, "allowed: " + ", ".join(repr(f) for f in CA_FORMS))
    c, a = np.broadcast_arrays(np.asarray(police, dtype=np.float64), np.asarray(active, float))
    out = np.empty(c.shape)
    kernels.arrest_probabilities(c.ravel(), a.ravel(), k, kernels.CA_FORM_CODES[form], out.ravel())
    return out


def _local_arrest_probability(
    world: World, k: float, form: str, mobilized: np.ndarray
) -> np.ndarray:
    """Each worker's arrest probability in their neighbourhood (``mobilized``: today's mask)."""
    return kernels.local_arrest_probability(
        world.population.neighbourhood,
        mobilized,
        world.police(),
        world.mobilized_by_neighbourhood(mobilized),
        k,
        kernels.CA_FORM_CODES[form],
    )


def _share_state(
    world: World, example_weight: float
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The share-tracking arguments of a mobilization kernel (``track_share`` to ``weights``).

    On a city or random network the kernel brings the world's tracker of mobilized shares up to
    date itself; a complete network has no mix, and its shares are computed here instead.
    """
    if example_weight <= 0:
        return False, _NO_FLOAT, _NO_MARKS, _NO_INDEX, _NO_INDEX, _NO_FLOAT
    net = world.network
    if net.mix is None:
        share = world.mobilized_share()
        return False, share, _NO_MARKS, _NO_INDEX, _NO_INDEX, _NO_FLOAT
    tracker = world._mobilized_share
    return (
        True,
        tracker.share,
        tracker.marked,
        net.mix.indptr,
        net.mix.indices,
        net.mix_transposed_data,
    )


def _count_state(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The count-keeping arguments of a mobilization kernel (``neighbourhood`` to ``marked``).

    The kernels keep the world's counter of mobilized residents up to date as they set statuses,
    so the rules after them (the police, the soldiers, the indicators) find it current.
    """
    counter = world._mobilized_counter
    return counter.groups, counter.counts, counter.marked


def _worker_ids(ids: object) -> tuple[int, ...]:
    """Worker ids as a tuple of ints (from a list, a tuple or an integer array)."""
    allowed = "allowed: a list of worker ids (integers >= 0), or None"
    if isinstance(ids, str | bytes) or not hasattr(ids, "__iter__"):
        raise ParameterError("ThresholdRule.initiators", ids, allowed)
    out = []
    for i in ids:
        if isinstance(i, bool | np.bool_) or not isinstance(i, numbers.Integral) or i < 0:
            raise ParameterError("ThresholdRule.initiators", i, allowed)
        out.append(int(i))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class ThresholdRule(Rule):
    """Granovetter's threshold model on the city's networks.

    A worker is mobilized when the weighted share of their mobilized neighbours reaches their
    threshold. On the complete network this is Granovetter (1978): thresholds 0, 1, ..., 99 (as
    shares of 100) mobilize everyone; move the threshold-1 worker to 2 and only one mobilizes.
    Its workers ignore hardship and the police, and a model with this rule and no policing of
    its own makes no arrests (:func:`~dualpower_sim.rules.default_policing`), so these examples
    hold as they are; pass ``policing=Policing()`` for arrests.

    Initiators are mobilized from the start (day 0) and whenever free. Choose them in one of
    three ways: a share drawn at random (``seed_share``), an exact number drawn at random
    (``initiator_count``), or by worker id (``initiators``).

    Attributes:
        thresholds: Distribution of thresholds (share of neighbours, in [0, 1]), or
            :class:`~dualpower_sim.distributions.Explicit` values per worker.
        seed_share: Share of workers who are initiators, each drawn with this probability
            (Watts 2002's seed); 0 leaves only zero-threshold workers to start.
        sticky: If true, a mobilized worker stays mobilized until jailed (Watts 2002's
            irreversible activation); if false, workers whose neighbours fall below their
            threshold go home.
        initiator_count: Exact number of initiators, drawn at random, or None to use
            ``seed_share``. A count and a share draw from the same random numbers, so with one
            seed the smaller set of initiators is inside the larger.
        initiators: The initiators' worker ids (0 to n - 1), or None to draw them.
    """

    name: ClassVar[str] = "threshold"

    thresholds: Distribution = dataclasses.field(default_factory=lambda: Normal(0.25, 0.12))
    seed_share: float = param(0.0, kind=float, low=0.0, high=1.0)
    sticky: bool = param(False, kind=bool)
    initiator_count: int | None = param(None, kind=int, low=0, optional=True)
    initiators: tuple[int, ...] | None = None

    def validate(self) -> None:  # noqa: D102
        if not isinstance(self.thresholds, Distribution):
            raise ParameterError(
                "ThresholdRule.thresholds", self.thresholds, "allowed: a Distribution"
            )
        if self.initiators is not None:
            object.__setattr__(self, "initiators", _worker_ids(self.initiators))
        chosen = [
            name
            for name, given in (
                ("seed_share", self.seed_share > 0),
                ("initiator_count", self.initiator_count is not None),
                ("initiators", self.initiators is not None),
            )
            if given
        ]
        if len(chosen) > 1:
            raise ParameterError(
                f"ThresholdRule.{chosen[-1]}",
                getattr(self, chosen[-1]),
                f"allowed: one way of choosing initiators, not both {chosen[0]} and {chosen[-1]}",
            )

    def _initiators(self, n: int, u: np.ndarray) -> np.ndarray:
        """The initiators' mask, from the uniforms ``u`` drawn for them (one per worker)."""
        if self.initiators is not None:
            ids = np.asarray(self.initiators, dtype=np.int64)
            if ids.size and ids.max() >= n:
                raise ParameterError(
                    "ThresholdRule.initiators",
                    int(ids.max()),
                    f"allowed: worker ids from 0 to {n - 1}",
                )
            mask = np.zeros(n, dtype=bool)
            mask[ids] = True
            return mask
        if self.initiator_count is not None:
            k = self.initiator_count
            if k > n:
                raise ParameterError(
                    "ThresholdRule.initiator_count", k, f"allowed: 0 <= initiator_count <= {n}"
                )
            mask = np.zeros(n, dtype=bool)
            if k:
                mask[np.argpartition(u, k - 1)[:k]] = True  # the k smallest draws
            return mask
        return u < self.seed_share

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        pop = world.population
        n = pop.n
        # Each worker's threshold is a population array (model.workers[i].threshold, to_frame);
        # the memory key names the same array, for code that read it there before.
        pop.threshold = self.thresholds.sample(rng, n)
        world.memory["threshold.theta"] = pop.threshold
        # As an array (one value for everyone, or one per worker): what the kernel takes.
        world.memory["threshold.tolerance"] = np.atleast_1d(
            np.asarray(share_tolerance(world.network), dtype=np.float64)
        )
        # One uniform per worker whichever way initiators are chosen, so the rest of the run
        # draws the same random numbers (common random numbers across the three ways).
        initiators = self._initiators(n, rng.random(n))
        world.memory["threshold.initiator"] = initiators
        kernels.set_mobilized(pop.status, initiators | pop.mobilized())

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        # Read from the population each day, so that a threshold changed during the run (by a
        # LeverEvent or by hand) counts from the next day.
        theta = world.population.threshold
        if theta is None:
            raise RuntimeError("the threshold rule's thresholds are drawn by its set-up")
        kernels.threshold_step(
            world.population.status,
            theta,
            world.memory["threshold.tolerance"],
            world.memory["threshold.initiator"],
            self.sticky,
            *_share_state(world, 1.0),
            *_count_state(world),
        )


@dataclasses.dataclass(frozen=True)
class DeterrenceRule(Rule):
    """Epstein's (2002) civil-violence activation rule.

    Mobilized iff ``H (1 - L) - R P > T``, with ``P`` the arrest probability in the worker's
    neighbourhood (see :func:`arrest_probability`).

    Attributes:
        k: Arrest-probability constant (Epstein: 2.3, so that P = 0.9 when C = A = 1).
        threshold: Net-grievance threshold T (Epstein: 0.1).
        ca_form: How C / A enters P: ``"floor"`` (NetLogo), ``"round"`` (Mesa) or ``"literal"``.
    """

    name: ClassVar[str] = "deterrence"

    k: float = param(2.3, kind=float, low=0.0, high=100.0)
    threshold: float = param(0.1, kind=float, low=-1.0, high=1.0)
    ca_form: str = param("floor", kind=str, choices=CA_FORMS)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        # The combined rule's kernel without example, habituation or fatigue is this rule.
        pop = world.population
        kernels.combined_step(
            pop.status,
            world.hardship,
            pop.hardship,
            pop.risk_aversion,
            _NO_FLOAT,
            *_share_state(world, 0.0),
            *_count_state(world),
            world.police(),
            world.legitimacy,
            0.0,
            0.0,
            self.k,
            kernels.CA_FORM_CODES[self.ca_form],
            0.0,
            0.0,
            self.threshold,
        )


@dataclasses.dataclass(frozen=True)
class CombinedRule(Rule):
    """Grievance, neighbours' example and fear of repression (the default rule).

    Mobilized iff ``max(0, H - h H0) (1 - L) + example_weight * s - R P > T + fatigue * d``,
    where ``H0`` is the worker's accustomed (base) hardship and ``h`` the ``habituation``,
    ``s`` is the weighted share of mobilized network neighbours and ``d`` the worker's
    weariness: it grows by one each day mobilized and shrinks by the share ``recovery`` each day
    not. With ``example_weight = 0``, ``fatigue = 0`` and ``habituation = 0`` it is
    :class:`DeterrenceRule`; with no grievance, police or fatigue a worker is mobilized iff
    ``s > T / example_weight``.

    Habituation is our addition too: Epstein's grievance ``H (1 - L)`` makes a poor population
    under a regime with little legitimacy rebel every day, before anything happens (every preset
    mobilized nine workers in ten by its third day, before its shock). Workers rebel against
    hardship beyond what they are used to: "the mere existence of privations is not enough to
    cause an insurrection; if it were, the masses would be always in revolt" (Trotsky, *History
    of the Russian Revolution*); relative deprivation (Gurr 1970); a sharp reversal after a
    period of improvement (Davies 1962). With ``h = 1`` only shocks aggrieve.

    Fatigue is our addition, not Epstein's: a long strike or blockade wears out those in it
    (wages lost, strike funds spent), so a movement whose grievance subsides hesitates instead of
    standing forever, the hesitation the article says states wait for.

    Attributes:
        k: Arrest-probability constant (Epstein: 2.3).
        threshold: Threshold T (Epstein: 0.1).
        example_weight: Weight of the neighbours' example, the share ``s`` in [0, 1].
        ca_form: How C / A enters P: ``"floor"``, ``"round"`` or ``"literal"``.
        fatigue: Rise of the threshold per day of weariness.
        recovery: Share of weariness lost each day a worker is not mobilized.
        habituation: Share of a worker's base hardship they are used to and no longer resent
            (0: Epstein's grievance; 1: only hardship beyond the base, the shocks, aggrieves).
    """

    name: ClassVar[str] = "combined"

    k: float = param(2.3, kind=float, low=0.0, high=100.0)
    threshold: float = param(0.1, kind=float, low=-1.0, high=1.0)
    example_weight: float = param(0.3, kind=float, low=0.0, high=10.0)
    ca_form: str = param("floor", kind=str, choices=CA_FORMS)
    fatigue: float = param(0.005, kind=float, low=0.0, high=1.0)
    recovery: float = param(0.1, kind=float, low=0.0, high=1.0)
    habituation: float = param(1.0, kind=float, low=0.0, high=1.0)

    def setup(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        if self.fatigue > 0:
            world.memory["combined.days"] = np.zeros(world.population.n, dtype=np.float64)

    def step(self, world: World, rng: np.random.Generator) -> None:  # noqa: D102
        pop = world.population
        kernels.combined_step(
            pop.status,
            world.hardship,
            pop.hardship,
            pop.risk_aversion,
            world.memory["combined.days"] if self.fatigue > 0 else _NO_FLOAT,
            *_share_state(world, self.example_weight),
            *_count_state(world),
            world.police(),
            world.legitimacy,
            self.habituation,
            self.example_weight,
            self.k,
            kernels.CA_FORM_CODES[self.ca_form],
            self.fatigue,
            self.recovery,
            self.threshold,
        )
