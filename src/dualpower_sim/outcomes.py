"""The balance of the two powers, dual power, and the five ways a run ends.

**Council power** (in [0, 1]) is a weighted sum of three sources (the article: workers' power
"stems ultimately from the collective strength that they have to paralyse and take control of
production"; El Alto's blockades "cut off the roads so gas and food couldn't get through"; the
Petrograd Soviet rested "on the armed people and soldiers"):

- production: the share of the workforce in workplace units whose council sits and whose
  mobilized share has reached the action quorum;
- territory: the share of residents in neighbourhoods whose assembly sits and whose mobilized
  share has reached the quorum (a blockade);
- arms: the share of the soldiers who have defected.

**State power** (in [0, 1]) is ``c x legitimacy x supply + (1 - c) x coercion x loyalty``:
consent and coercion combine (a state rules by consent armoured by coercion, so a regime with a
loyal army and little legitimacy still has power, and one whose soldiers will not fire can still
rule while it is believed), with ``c`` the consent weight; coercion is the share of the armed
forces (police and soldiers, counted equally per head) still with the state, those in the city
counted at the supply that reaches them, loyalty the mean loyalty of its soldiers, and supply
the share of the city's supply reaching the state, ``1 - blockade_effect x territory``.

Every sitting council counts: a factory committee outside the federation still stops its
plant. Only the federation, though, can move to take power (below). **Dual power** holds while
both powers are at or above their thresholds. The run resolves, and
stops, when one of these happens (each is absorbing):

- ``council_power``: an insurrection succeeds. The federation attempts one when council power is
  at or above its threshold (with the state still standing, or already fallen below its own),
  its revolutionary share is a majority and council power is at least ``insurrection_ratio``
  times state power; it succeeds with probability ``r^s / (1 + r^s)``, ``r`` the power ratio
  and ``s`` the steepness (one half when the powers are equal). A failed attempt is followed by an
  offensive (July 1917) and no new attempt for ``insurrection_cooldown`` days.
- ``co_opted``: after dual power arose, the federation still sits but its revolutionary share
  has collapsed below ``coopt_share`` (concessions moderate members; see the debate rule), for
  ``settle_days`` days, or when council power has fallen away: a reformist body inside the
  state order. Only a state order that can take the councils in co-opts them
  (``state.incorporation``); beside a one-party state a moderate federation stays a power.
- ``state_restored``: after dual power arose, council power stays below its threshold for
  ``settle_days`` days (the councils were crushed, usually by an offensive, or melted away)
  and the councils are not co-opted.
- ``unresolved``: the councils still stand as a power at the horizon, beside the state (dual
  power) or over a state fallen below its threshold that they did not move to overthrow (a run
  whose councils no longer stand as a power at the horizon is settled as restored or co-opted).
- ``no_dual_power``: dual power never arose (Eastern Europe 1989).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "OUTCOMES",
    "RECORD_KEYS",
    "Power",
    "Verdict",
    "explain_outcome",
    "power_balance",
    "run_record",
    "success_probability",
]

#: The five outcomes, in a fixed order.
OUTCOMES: tuple[str, ...] = (
    "council_power",
    "state_restored",
    "co_opted",
    "unresolved",
    "no_dual_power",
)


def success_probability(ratio: float, steepness: float) -> float:
    """Probability ``r^s / (1 + r^s)`` that an insurrection succeeds at power ratio ``r``.

    Args:
        ratio: Council power over state power (infinite if the state has none).
        steepness: ``s``; larger makes the outcome hinge more sharply on the ratio.

    Returns:
        The probability, one half at equal powers.
    """
    if not np.isfinite(ratio):
        return 1.0
    x = ratio**steepness
    return float(x / (1.0 + x))


@dataclasses.dataclass(frozen=True)
class Power:
    """Today's balance of the two powers and their parts (all zero before it is first measured).

    Attributes:
        council_power: Council power in [0, 1].
        state_power: State power in [0, 1].
        production: Share of the workforce in councils' hands and on strike.
        territory: Share of residents in assembly-held, blockaded neighbourhoods.
        armed: Share of soldiers who defected.
        supply: Share of the state's supply still reaching it.
    """

    council_power: float = 0.0
    state_power: float = 0.0
    production: float = 0.0
    territory: float = 0.0
    armed: float = 0.0
    supply: float = 0.0

    @property
    def ratio(self) -> float:
        """Council power over state power (state power floored at 10^-12)."""
        return self.council_power / max(self.state_power, 1e-12)


def power_balance(
    weights: tuple[float, float, float],
    blockade_effect: float,
    production: float,
    territory: float,
    defected: float,
    coercion_share: float,
    loyalty: float,
    legitimacy: float,
    consent_weight: float = 0.5,
) -> Power:
    """Council power, state power and their parts (formulas in the module docstring).

    Args:
        weights: Weights of production, territory and arms in council power (sum to 1).
        blockade_effect: Share of the state's supply cut at full territorial control.
        production: Share of the workforce in councils' hands and on strike.
        territory: Share of residents in assembly-held, blockaded neighbourhoods.
        defected: Share of soldiers who defected.
        coercion_share: Share of the armed forces (police and soldiers) still with the state
            and supplied (the caller cuts the forces in the city by the supply).
        loyalty: Mean loyalty of the state's soldiers (1 if it has none).
        legitimacy: The state's legitimacy.
        consent_weight: Weight of consent (legitimacy) against coercion (armed forces still
            with the state times their loyalty) in state power, in [0, 1].

    Returns:
        The balance: both powers, the supply and the inputs.
    """
    council = weights[0] * production + weights[1] * territory + weights[2] * defected
    supply = 1.0 - blockade_effect * territory
    force = coercion_share * loyalty
    state = consent_weight * legitimacy * supply + (1.0 - consent_weight) * force
    return Power(
        council_power=float(council),
        state_power=float(state),
        production=float(production),
        territory=float(territory),
        armed=float(defected),
        supply=float(supply),
    )


@dataclasses.dataclass(eq=False)
class Verdict:
    """Where a run stands: dual power so far, and the outcome once resolved.

    Attributes:
        outcome: The outcome once resolved (absorbing), else None.
        resolved_step: Step of resolution, or -1.
        dual_power: Dual power holds now.
        dual_power_began: First step dual power held, or -1.
        dual_power_ended: Last step it held after it began (updated while it holds), or -1.
        weak_days: Consecutive days council power has been below its threshold since dual power.
        coopted_days: Consecutive days the sitting councils have been co-opted.
        last_insurrection: Step of the last failed insurrection, or a large negative number.
        fallen_days: Consecutive days state power has been below its threshold.
        regime_changed: Step of the last regime change (the government gave way), or -1.
        regime_changes: Regime changes so far.
    """

    outcome: str | None = None
    resolved_step: int = -1
    dual_power: bool = False
    dual_power_began: int = -1
    dual_power_ended: int = -1
    weak_days: int = 0
    coopted_days: int = 0
    last_insurrection: int = -(10**9)
    fallen_days: int = 0
    regime_changed: int = -1
    regime_changes: int = 0

    def provisional(self) -> str:
        """The outcome if the run stopped now."""
        if self.outcome is not None:
            return self.outcome
        return "unresolved" if self.dual_power_began >= 0 else "no_dual_power"


def explain_outcome(summary: Mapping[str, Any], indicators: pd.DataFrame) -> str:
    """One sentence on why a run ended as it did, from its summary and indicators.

    Args:
        summary: The run's summary (outcome, thresholds, majority).
        indicators: Its per-step indicators.

    Returns:
        The sentence.
    """
    outcome = summary.get("outcome")
    council_t, state_t = summary.get("thresholds") or (0.2, 0.1)
    majority = summary.get("majority", 0.5)
    peak_council = float(indicators["council_power"].max())
    last = indicators.iloc[-1]
    rev = float(indicators.get("revolutionary_share", pd.Series([0.0])).max())
    regime = summary.get("regime_changed")
    if outcome == "no_dual_power":
        if not summary.get("dual_power", True):
            return "the mobilization model alone (dual_power = false) has no councils or outcome"
        if regime is not None:
            return (
                f"the government gave way on day {regime} before the councils stood as a power "
                f"(peak council power {peak_council:.2f}): a change of regime without dual power"
            )
        if peak_council < council_t:
            return (
                f"the councils never stood as a power (peak council power {peak_council:.2f}, "
                f"below its threshold of {council_t})"
            )
        return (
            f"the councils rose (peak council power {peak_council:.2f}) only after the state's "
            f"power had fallen below its threshold of {state_t}, and the run ended before the "
            "government gave way: the model counts no dual power"
        )
    if outcome == "unresolved":
        state_now = float(last["state_power"])
        no_majority = (
            f"the federation's revolutionary share peaked at {rev:.2f}, short of the "
            f"{majority} majority needed to move to take power"
        )
        if state_now < state_t:
            return (
                f"the state's power fell below its threshold ({state_now:.2f} < {state_t}) but "
                f"{no_majority}"
            )
        if rev <= majority:
            return f"dual power still stood at the horizon; {no_majority}"
        return (
            "dual power still stood at the horizon: the councils had a revolutionary majority "
            "but never enough power over the state to attempt an insurrection"
        )
    if outcome == "council_power":
        return "an insurrection succeeded: the councils took power"
    if outcome == "state_restored":
        if summary.get("offensives", 0):
            return (
                "council power fell below its threshold and stayed there after the state's "
                "offensive: the councils were crushed"
            )
        return "council power fell below its threshold and stayed there: the councils melted away"
    if outcome == "co_opted":
        # The last day tells the three ways apart: the federation still sits with its
        # revolutionaries gone, or the councils fell away (their revolutionary share is then 0)
        # under a successor government or after concessions, never attacked.
        sitting = float(last.get("federation_councils", 0.0)) > 0
        if sitting and float(last.get("revolutionary_share", 0.0)) < 0.1:
            return (
                "the federation sat on with its revolutionaries gone: a reformist body inside the "
                "state order"
            )
        if regime is not None:
            return (
                f"the government gave way on day {regime} and the councils, who had not taken "
                "power, melted away under its successor"
            )
        return (
            "the councils melted away, never attacked, after the state's concessions had bought "
            "them off"
        )
    return ""


#: What :func:`run_record` holds, in this order: the facts of how a run went and ended.
RECORD_KEYS = (
    "outcome",
    "steps",
    "resolved_step",
    "dual_power_began",
    "dual_power_ended",
    "peak_council_power",
    "peak_council_power_day",
    "peak_state_power",
    "peak_mobilized",
    "councils",
    "offensives",
    "regime_changed",
    "defected",
    "dual_power",
    "thresholds",
    "majority",
    "explanation",
)


def run_record(summary: Mapping[str, Any], indicators: pd.DataFrame) -> dict[str, Any]:
    """A run's record: the one account of a run that ``summary.json`` and a sweep's rows share.

    Args:
        summary: The model's summary (:meth:`~dualpower_sim.model.DualPowerModel.summary`).
        indicators: Its per-step indicators (``council_power`` and ``state_power`` at least).

    Returns:
        The keys of :data:`RECORD_KEYS`: the summary's facts, with the day council power
        peaked and the state's peak power read from the indicators.
    """
    record = {key: summary[key] for key in RECORD_KEYS if key in summary}
    record["peak_council_power_day"] = int(indicators["council_power"].idxmax())
    record["peak_state_power"] = float(indicators["state_power"].max())
    return {key: record[key] for key in RECORD_KEYS}
