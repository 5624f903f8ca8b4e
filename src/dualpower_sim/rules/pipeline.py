"""The day's rules by name, in the order they run."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from .base import Rule

__all__ = ["Pipeline"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pipeline:
    """The rules a model runs each day, each under its own name.

    Iterating gives the rules in the order they run (the scheduled lever events when there are
    any, hardship, mobilization, policing, then, when the model runs the struggle for power,
    councils, debate, soldiers, resolution, state); a rule is reached by name
    (``model.pipeline.resolution``), never by position.

    Attributes:
        lever_events: Scheduled changes to the state's and the workers' levers (None when none
            is scheduled).
        hardship: The hardship shocks.
        mobilization: Who mobilizes (threshold, deterrence or combined).
        policing: Arrests and releases.
        councils: Councils form, federate, dissolve (None for the mobilization model alone).
        debate: Party cadres and the debate inside councils (None likewise).
        soldiers: The garrison's loyalty and defections (None likewise).
        resolution: The balance of power and how dual power resolves (None likewise).
        state: The state's strategy (None likewise).
    """

    lever_events: Rule | None = None
    hardship: Rule
    mobilization: Rule
    policing: Rule
    councils: Rule | None = None
    debate: Rule | None = None
    soldiers: Rule | None = None
    resolution: Rule | None = None
    state: Rule | None = None

    def __iter__(self) -> Iterator[Rule]:
        for field in dataclasses.fields(self):
            rule = getattr(self, field.name)
            if rule is not None:
                yield rule

    def __len__(self) -> int:
        return sum(1 for _ in self)
