"""Rules: named, swappable mechanisms run in a pipeline every step.

Look a rule up by name with :func:`make_rule` (``make_rule("threshold", seed_share=0.01)``) or
build its class directly. :data:`RULES` lists every registered rule.
"""

from __future__ import annotations

from typing import Any

from ..params import ParameterError, did_you_mean
from .base import Rule
from .councils import CouncilRule
from .debate import Debate
from .events import LeverEvent, LeverEvents
from .hardship import HardshipShock, HardshipShocks
from .mobilization import CombinedRule, DeterrenceRule, ThresholdRule
from .pipeline import Pipeline
from .policing import Policing
from .resolution import Resolution
from .soldiers import SoldierRule
from .state import StateStrategy

__all__ = [
    "MOBILIZATION_RULES",
    "RULES",
    "CombinedRule",
    "CouncilRule",
    "Debate",
    "DeterrenceRule",
    "HardshipShock",
    "HardshipShocks",
    "LeverEvent",
    "LeverEvents",
    "Pipeline",
    "Policing",
    "Resolution",
    "Rule",
    "SoldierRule",
    "StateStrategy",
    "ThresholdRule",
    "default_policing",
    "make_rule",
]

#: Mobilization rules by name.
MOBILIZATION_RULES: dict[str, type[Rule]] = {
    cls.name: cls for cls in (ThresholdRule, DeterrenceRule, CombinedRule)
}

#: Every rule by name.
RULES: dict[str, type[Rule]] = {
    **MOBILIZATION_RULES,
    Policing.name: Policing,
    HardshipShocks.name: HardshipShocks,
    LeverEvents.name: LeverEvents,
    CouncilRule.name: CouncilRule,
    Debate.name: Debate,
    SoldierRule.name: SoldierRule,
    Resolution.name: Resolution,
    StateStrategy.name: StateStrategy,
}


def default_policing(mobilization: Rule) -> Policing:
    """The policing a model gets when none is given, which depends on its mobilization rule.

    The ``threshold`` rule is Granovetter's (1978) and Watts's (2002) model, which have no
    police: its workers ignore the police, and by default the police arrest nobody
    (``Policing(arrest_rate=0)``), so the rule alone reproduces those models. The other rules
    weigh the risk of arrest, and the police make arrests (``Policing()``).

    Args:
        mobilization: The model's mobilization rule.

    Returns:
        The default policing rule.
    """
    if isinstance(mobilization, ThresholdRule):
        return Policing(arrest_rate=0.0)
    return Policing()


def make_rule(name: str, registry: dict[str, type[Rule]] | None = None, **params: Any) -> Rule:
    """Build a rule by its registry name.

    Args:
        name: Registry name, e.g. ``"threshold"``.
        registry: Where to look (default: :data:`RULES`).
        **params: The rule's parameters; unknown names are refused.

    Returns:
        The rule.

    Raises:
        ParameterError: If the name or a parameter is unknown or a value is not allowed.
    """
    registry = RULES if registry is None else registry
    if name not in registry:
        hint = did_you_mean(name, list(registry))
        raise ParameterError("rule", name, "allowed: " + ", ".join(map(repr, registry)) + hint)
    cls = registry[name]
    return cls().replace(**params) if params else cls()
