"""The dual-power model: a city of workers on their networks, stepped one day at a time.

:class:`DualPowerModel` is a ``mesa.Model``. It draws a city (:mod:`dualpower_sim.city`), then
each step runs a pipeline of rules over the worker arrays (hardship shocks, mobilization,
policing, councils, debate, soldiers, resolution, the state's strategy), keeps a Mesa agent per
sitting council and one for the state, and records indicators through Mesa's
``DataCollector``. Hardship shocks are the external driver.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import mesa
import numpy as np
import pandas as pd

from .city import City, CityParams, build_city
from .councils import Council
from .indicators import IndicatorRecord, Indicators
from .mesa_compat import drop_step_wrapper
from .outcomes import explain_outcome
from .params import ParameterError, RunParams, check
from .population import WorkerView
from .rng import make_streams
from .rules import (
    MOBILIZATION_RULES,
    CouncilRule,
    Debate,
    HardshipShock,
    HardshipShocks,
    LeverEvent,
    LeverEvents,
    Pipeline,
    Policing,
    Resolution,
    Rule,
    SoldierRule,
    StateStrategy,
    default_policing,
    make_rule,
)
from .rules.events import checked_events
from .stability import fingerprint, scheduled, unchanged
from .state import State
from .world import World

__all__ = ["DualPowerModel"]


_R = TypeVar("_R", bound=Rule)


def _rule(name: str, rule: _R | None, cls: type[_R]) -> _R:
    if rule is None:
        return cls()
    if not isinstance(rule, cls):
        raise ParameterError(name, rule, f"allowed: a {cls.__name__} or None for the default")
    return rule


def _shock_tuple(shocks) -> tuple[HardshipShock, ...]:
    if isinstance(shocks, HardshipShock):
        return (shocks,)
    try:
        out = tuple(shocks)
    except TypeError:
        out = None
    if out is None or not all(isinstance(s, HardshipShock) for s in out):
        raise ParameterError("shocks", shocks, "allowed: a HardshipShock or a list of them")
    return out


class DualPowerModel(mesa.Model):
    """Workers of a city mobilizing on workplace, territorial and campus networks.

    Args:
        n_workers: Number of workers (2 to 5 x 10^7).
        city: The city's description; default :class:`~dualpower_sim.city.CityParams()`, a
            mixed city organised half by workplace and half by territory.
        mobilization: The mobilization rule: a name from
            :data:`~dualpower_sim.rules.MOBILIZATION_RULES` (``"threshold"``, ``"deterrence"``,
            ``"combined"``) with default parameters, or a rule object.
        policing: Arrests and jail; None for the default,
            :class:`~dualpower_sim.rules.Policing()`, or ``Policing(arrest_rate=0)`` (no
            arrests) under the ``threshold`` rule, whose sources have no police
            (:func:`~dualpower_sim.rules.default_policing`). Pass ``Policing(arrest_rate=0)``
            for no arrests under another rule, ``Policing()`` for arrests under the threshold
            rule.
        shocks: Hardship shocks (:class:`~dualpower_sim.rules.HardshipShock`).
        lever_events: Scheduled changes to the state's and the workers' levers, legitimacy,
            police, repression, concessions, the soldiers' loyalty, risk aversion, thresholds
            (:class:`~dualpower_sim.rules.LeverEvent`), made at the start of their days.
        legitimacy: The state's legitimacy L in [0, 1] (Epstein 2002); grievance is H (1 - L).
        coercion: Police per resident, in [0, 1], the same in every neighbourhood.
        action_quorum: Share of a firm, neighbourhood or campus that must be mobilized for it to
            count as striking, blockading or occupying in the indicators, in (0, 1]. (The power
            measure has its own, ``Resolution.action_quorum``; both default to 0.5.)
        councils: How councils form, federate and dissolve
            (:class:`~dualpower_sim.rules.CouncilRule`).
        debate: Party cadres and the debate inside councils (:class:`~dualpower_sim.rules.Debate`).
        soldiers: The garrison and its loyalty (:class:`~dualpower_sim.rules.SoldierRule`).
        state: The state's strategy (:class:`~dualpower_sim.rules.StateStrategy`).
        resolution: How power is measured and dual power resolves
            (:class:`~dualpower_sim.rules.Resolution`).
        horizon: Last day of the run (at most 10^6); a run stops at resolution or at the
            horizon.
        dual_power: False runs the mobilization model alone (shocks, mobilization, policing:
            no councils, debate, soldiers, state strategy or resolution), for validating the
            mobilization rules against their sources; its outcome is always ``no_dual_power``.
        seed: Root seed (integer >= 0); None draws fresh entropy, recorded in ``model.seed``.

    Attributes:
        city: The drawn city (population, networks, firms, neighbourhoods).
        world: The state the rules act on.
        pipeline: The rules run each step, by name (iterating gives them in order).
        workers: Per-worker views (``model.workers[i]``), for inspection.
        state: The state, a Mesa agent.
        datacollector: Mesa's collector; the per-step indicators are its table
            ``"indicators"`` (read from the run's record when the attribute is read).
        seed: The root seed; the same seed and arguments give the same run.
        running: False once the run has resolved or reached its horizon.
        stable_since: The last day anything changed, when ``run(until="stable")`` stopped a
            run as stable; None otherwise.

    Example:
        >>> m = DualPowerModel(n_workers=2000, seed=1).run(10)
        >>> m.indicators().shape[0]
        11
    """

    def __init__(
        self,
        n_workers: int = 10_000,
        *,
        city: CityParams | None = None,
        mobilization: str | Rule = "combined",
        policing: Policing | None = None,
        shocks: Sequence[HardshipShock] = (),
        lever_events: Sequence[LeverEvent] = (),
        legitimacy: float = 0.75,
        coercion: float = 0.06,
        action_quorum: float = 0.5,
        councils: CouncilRule | None = None,
        debate: Debate | None = None,
        soldiers: SoldierRule | None = None,
        state: StateStrategy | None = None,
        resolution: Resolution | None = None,
        horizon: int = 365,
        dual_power: bool = True,
        seed: int | None = None,
    ) -> None:
        """Build the city and set up the rules (arguments are described in the class docstring)."""
        streams = make_streams(seed)
        super().__init__(rng=streams.dynamics)
        # Mesa's step wrapper is a reference cycle: without it a dropped model is freed at once,
        # and our own ``step`` counts the steps.
        drop_step_wrapper(self)
        self.seed = streams.seed
        self.stable_since: int | None = None
        self._diagnostics_rng = streams.diagnostics
        # Checked as a config's top-level keys are (one RunParams for both).
        legitimacy = RunParams.check_one("legitimacy", legitimacy)
        coercion = RunParams.check_one("coercion", coercion)
        action_quorum = RunParams.check_one("action_quorum", action_quorum)
        n_workers = RunParams.check_one("n_workers", n_workers)
        city = CityParams() if city is None else city
        if not isinstance(city, CityParams):
            raise ParameterError("city", city, "allowed: a CityParams")

        self.city: City = build_city(city, n_workers, streams.city)
        self.city_params = city
        self.world = World(
            city=self.city,
            legitimacy=legitimacy,
            coercion=np.full(self.city.n_neighbourhoods, coercion),
            hardship=self.city.population.hardship.copy(),
        )
        self.horizon = RunParams.check_one("horizon", horizon)
        self.council_rule = _rule("councils", councils, CouncilRule)
        self.dual_power = RunParams.check_one("dual_power", dual_power)
        mobilization_rule = self._mobilization_rule(mobilization)
        events = checked_events(
            lever_events, self.dual_power, mobilization_rule.name, self.city.population.sector_names
        )
        mobilizing = {
            **({"lever_events": LeverEvents(events=events)} if events else {}),
            "hardship": HardshipShocks(shocks=_shock_tuple(shocks)),
            "mobilization": mobilization_rule,
            "policing": _rule("policing", policing, Policing)
            if policing is not None
            else default_policing(mobilization_rule),
        }
        struggle = {
            "councils": self.council_rule,
            "debate": _rule("debate", debate, Debate),
            "soldiers": _rule("soldiers", soldiers, SoldierRule),
            "resolution": _rule("resolution", resolution, Resolution),
            "state": _rule("state", state, StateStrategy),
        }
        # The resolution rule's thresholds describe the run even when it does not run.
        self._resolution = cast(Resolution, struggle["resolution"])  # checked by _rule
        self.pipeline = Pipeline(**mobilizing, **(struggle if self.dual_power else {}))
        for rule in self.pipeline:
            rule.setup(self.world, self.rng)
        self.state = State(self)
        self._council_agents: dict[int, Council] = {}
        if self.world.councils is not None:
            self._alive_before = np.zeros_like(self.world.councils.alive)
            self._formed_before = self.world.councils.formed.copy()

        self.workers = WorkerView(self.city.population)
        self._measure = Indicators(self.world, quorum=action_quorum)
        # One preallocated row per day, filled in place: a model reporter per indicator would
        # cost a call and a deepcopy each, and a DataCollector table row a list append each.
        self._record = IndicatorRecord(self._measure.names, self.horizon + 1)
        self._collector = mesa.DataCollector()
        self._collect()

    @staticmethod
    def _mobilization_rule(rule: str | Rule) -> Rule:
        if isinstance(rule, str):
            return make_rule(rule, registry=MOBILIZATION_RULES)
        if not isinstance(rule, tuple(MOBILIZATION_RULES.values())):
            raise ParameterError(
                "mobilization",
                rule,
                "allowed: " + ", ".join(map(repr, MOBILIZATION_RULES)) + " or such a rule object",
            )
        return rule

    @property
    def mobilization(self) -> Rule:
        """The mobilization rule in force."""
        return self.pipeline.mobilization

    def _collect(self) -> None:
        self._measure.into(self.world, self._record.next_row())

    @property
    def datacollector(self) -> mesa.DataCollector:
        """The indicators as Mesa's collector: its table ``"indicators"``, one row per step.

        The collector is the model's own, so reporters and tables a user adds to it stay; its
        ``"indicators"`` table is refreshed from the run's record at each access (the model
        records its rows in a preallocated table, :meth:`indicators` reads them as a frame).
        """
        self._collector.tables["indicators"] = self._record.columns()
        return self._collector

    def step(self) -> None:
        """Advance one day: run every rule of the pipeline, then record the indicators.

        A run that has resolved or reached its horizon stays as it is (outcomes are absorbing):
        stepping it does nothing, so a loop of ``step()`` calls (Mesa's Play button, a user's
        own loop) stops at the same day as :meth:`run`.
        """
        if self.world.verdict.outcome is not None or self.steps >= self.horizon:
            self.running = False
            return
        self.steps += 1  # what Mesa's step wrapper did (see mesa_compat)
        self.world.step = self.steps
        for rule in self.pipeline:
            rule.step(self.world, self.rng)
            if self.world.verdict.outcome is not None:
                break  # the run has resolved: nothing else happens that day
        self._sync_councils()
        self._collect()
        if self.steps >= self.horizon and self.world.verdict.outcome is None and self.dual_power:
            self._resolution.close(self.world)
        if self.world.verdict.outcome is not None or self.steps >= self.horizon:
            self.running = False

    def _sync_councils(self) -> None:
        """Create a Mesa agent for each council that formed today, remove those dissolved."""
        table = self.world.councils
        if table is None:
            return
        agents = self._council_agents
        changed = (table.alive != self._alive_before) | (table.formed != self._formed_before)
        if not changed.any():  # most days
            return
        for unit in changed.nonzero()[0].tolist():  # councils that changed today, not workers
            if unit in agents:
                agents.pop(unit).remove()
            if table.alive[unit]:
                agents[unit] = Council(self, unit)
        self._alive_before = table.alive.copy()
        self._formed_before = table.formed.copy()

    def run(
        self,
        steps: int | None = None,
        *,
        until: str | Callable[[DualPowerModel], bool] | None = None,
        stable_days: int = 7,
    ) -> DualPowerModel:
        """Run ``steps`` days, or until the run resolves or reaches its horizon, or is stable.

        With ``until="stable"`` the run also stops once nothing changes. A day is *quiet* when,
        at its end, no worker's status or allegiance differs from the day before, no party
        cadre was recruited, and every indicator of the day (shares mobilized and jailed,
        legitimacy, repression, concessions, councils, both powers, the soldiers' loyalty and
        defections...) equals the day before's exactly. The run is *stable* after
        ``stable_days`` quiet days in a row, provided nothing is scheduled to change it: no
        hardship shock or lever event still to start or end, no worker in jail (a release
        changes a status), no offensive under way. :attr:`stable_since` is then the last day
        on which anything changed, and ``steps`` is ``stable_since + stable_days``.

        Under the threshold rule without arrests and without the struggle for power
        (``dual_power=False``) one quiet day is a fixed point: every rule is then a function of
        the day before, so nothing will ever change. Other rules draw random numbers (arrests,
        councils forming, debate) or carry what no indicator shows (the combined rule's
        weariness), so a quiet spell can end: a larger ``stable_days`` makes that less likely.
        A stable run is not over (``running`` stays true).

        Args:
            steps: Most steps to run (>= 0); None runs to resolution or the horizon.
            until: None; ``"stable"`` to stop also when the run is stable (above); or a
                function of the model, called after each step, that returns True to stop.
            stable_days: With ``until="stable"``, the quiet days in a row that make a run
                stable (>= 1).

        Returns:
            The model itself, so calls can be chained.
        """
        steps = self.horizon if steps is None else check("steps", steps, kind=int, low=0)
        if until is None:
            for _ in range(steps):
                if not self.running:
                    break
                self.step()
            return self
        if until != "stable" and not callable(until):
            raise ParameterError(
                "until",
                until,
                "allowed: None, 'stable', or a function of the model that returns True to stop",
            )
        stable_days = check("stable_days", stable_days, kind=int, low=1)
        self.stable_since = None
        quiet, before = 0, fingerprint(self)
        for _ in range(steps):
            if not self.running:
                break
            self.step()
            if callable(until):
                if until(self):
                    break
                continue
            now = fingerprint(self)
            quiet = quiet + 1 if unchanged(now, before) else 0
            before = now
            if quiet >= stable_days and not scheduled(self):
                self.stable_since = self.steps - quiet
                break
        return self

    @property
    def outcome(self) -> str:
        """The outcome: final once resolved or at the horizon, provisional before.

        One of :data:`~dualpower_sim.outcomes.OUTCOMES`: ``council_power``, ``state_restored``,
        ``co_opted``, ``unresolved`` (dual power still standing), ``no_dual_power``.
        """
        return self.world.verdict.provisional()

    @property
    def councils(self) -> list[Council]:
        """The sitting councils, as Mesa agents."""
        return list(self._council_agents.values())

    def events(self) -> pd.DataFrame:
        """The event log: one row per event, with step, event, magnitude and detail.

        Events: ``council_formed`` (magnitude: members), ``council_dissolved`` (members),
        ``federation_founded`` (councils), ``federation_milestone`` (councils),
        ``councils_broken_up`` (councils), ``repression_wave`` (level), ``concession`` (level),
        ``offensive`` (state-to-council power ratio), ``defections`` (soldiers that day),
        ``dual_power_began`` / ``dual_power_ended`` (council-to-state power ratio),
        ``insurrection`` (success probability; detail: succeeded or failed),
        ``offensive_repelled`` (council power), ``regime_change`` (state power), ``outcome``.
        """
        df = pd.DataFrame(self.world.events, columns=["step", "event", "magnitude", "detail"])
        return df.astype({"step": "int64", "event": "str", "magnitude": "float64", "detail": "str"})

    def summary(self) -> dict[str, Any]:
        """A short account of the run: outcome, when dual power began and ended, peaks.

        Returns:
            ``outcome``, ``seed``, ``steps``, ``resolved_step``, ``dual_power_began``,
            ``dual_power_ended`` (the last day dual power held: today, while it still holds),
            ``peak_council_power``, ``peak_mobilized``, ``councils``, ``offensives``,
            ``regime_changed`` (the day the government last gave way, or None) and
            ``regime_changes``, ``defected``, the ``thresholds`` of council and state power and
            the revolutionary ``majority`` the outcome is judged by, ``dual_power`` (False for
            the mobilization model alone), and ``explanation``: one sentence on why the run
            ended as it did (or stands as it does, before the end).
        """
        df = self.indicators()
        v = self.world.verdict
        resolution = self._resolution
        out = {
            "outcome": self.outcome,
            "seed": self.seed,
            "steps": self.steps,
            "resolved_step": v.resolved_step if v.outcome is not None else None,
            "dual_power_began": v.dual_power_began if v.dual_power_began >= 0 else None,
            "dual_power_ended": v.dual_power_ended if v.dual_power_began >= 0 else None,
            "peak_council_power": float(df["council_power"].max()),
            "peak_mobilized": float(df["mobilized"].max()),
            "councils": int(self.world.councils.count) if self.world.councils is not None else 0,
            "offensives": int(self.world.levels.offensives),
            "regime_changed": v.regime_changed if v.regime_changed >= 0 else None,
            "regime_changes": v.regime_changes,
            "defected": float(df["defected"].iloc[-1]),
            "thresholds": (resolution.council_threshold, resolution.state_threshold),
            "majority": resolution.majority,
            "dual_power": self.dual_power,
        }
        out["explanation"] = explain_outcome(out, df)
        return out

    def indicators(self) -> pd.DataFrame:
        """The per-step indicators as a DataFrame indexed by step (0 is the initial state).

        Returns:
            One row per recorded step; columns are described in :mod:`dualpower_sim.indicators`.
        """
        return pd.DataFrame(
            self._record.table.copy(),
            columns=self._record.names,
            index=pd.RangeIndex(self._record.rows, name="step"),
        )

    def network_stats(self, sample: int = 2000) -> dict[str, Any]:
        """Statistics to check the city against (see :meth:`City.report`).

        Sampling for the clustering estimate uses a generator of its own, so calling this never
        changes the run.

        Args:
            sample: Workers sampled per layer for the clustering estimate.

        Returns:
            Firm-size table, share in firms of 1,000+, degree and clustering tables, and counts.
        """
        sample = check("sample", sample, kind=int, low=1)
        return self.city.report(
            copy.deepcopy(self._diagnostics_rng), sample
        )  # same sample every call
