"""Typed, bounded parameter groups that check themselves.

Every parameter of the model lives in a frozen dataclass built from :func:`param`. On creation the
group checks each value's type and range and raises :class:`ParameterError` naming the parameter,
the value and what is allowed, so a bad value never reaches the simulation (never an ``assert``:
``python -O`` removes those). The pattern follows EMA Workbench's ``RealParameter`` and Agents.jl's
model validation.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ParamGroup",
    "ParameterError",
    "RunParams",
    "attribute_docs",
    "check",
    "check_value",
    "did_you_mean",
    "param",
]


class ParameterError(ValueError):
    """A parameter value is of the wrong type or outside its allowed range.

    Attributes:
        name: Dotted name of the parameter, e.g. ``"ThresholdRule.seed_share"``.
        value: The rejected value.
        allowed: Human-readable description of what is allowed.
    """

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name} = {value!r} is not allowed; {allowed}")


def did_you_mean(word: str, choices: Sequence[str], *, quote: bool = True) -> str:
    """A hint naming the choice closest to a mistyped word, for an error message.

    Args:
        word: What was written.
        choices: What is allowed.
        quote: Quote the suggestion as Python does (``'formation_share'``); False leaves it bare,
            as a command-line option or a scenario's name is written.

    Returns:
        `` (did you mean 'x'?)`` for the closest choice (difflib's ratio at least 0.6), or ``""``
        when none is close.
    """
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"


def param(
    default: Any = dataclasses.MISSING,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: Sequence[Any] | None = None,
    kind: type | tuple[type, ...] | None = None,
    optional: bool = False,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """Declare a checked field of a :class:`ParamGroup`.

    Args:
        default: Default value.
        low: Smallest allowed value (inclusive unless ``low_open``).
        high: Largest allowed value (inclusive unless ``high_open``).
        low_open: Exclude ``low`` itself.
        high_open: Exclude ``high`` itself.
        choices: The allowed values, for a categorical parameter.
        kind: Required type (``int``, ``float``, ``bool``, ``str``); ints are accepted for floats.
        optional: Also accept None (meaning "derive it", as the field's docstring says).
        default_factory: Factory for mutable or composite defaults.

    Returns:
        A ``dataclasses.field`` carrying the checks in its metadata.
    """
    meta = {
        "low": low,
        "high": high,
        "low_open": low_open,
        "high_open": high_open,
        "choices": tuple(choices) if choices is not None else None,
        "kind": kind,
        "optional": optional,
    }
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _range_text(name: str, meta: dict[str, Any], what: str = "") -> str:
    low, high = meta["low"], meta["high"]
    if low is None and high is None:
        return f"allowed: {what or 'any value'}"
    left = "" if low is None else f"{low} {'<' if meta['low_open'] else '<='} "
    right = "" if high is None else f" {'<' if meta['high_open'] else '<='} {high}"
    bounds = f"{left}{name}{right}"
    return f"allowed: {what}, {bounds}" if what else f"allowed: {bounds}"


def check_value(qualname: str, value: Any, meta: dict[str, Any]) -> Any:
    """Check one value against a field's metadata and return it normalised.

    Args:
        qualname: Dotted parameter name used in the error message.
        value: The value to check.
        meta: The metadata written by :func:`param`.

    Returns:
        The value, with ints widened to float for float parameters.

    Raises:
        ParameterError: If the type, choice or range is wrong.
    """
    short = qualname.rsplit(".", 1)[-1]
    if value is None and meta.get("optional"):
        return None
    kind = meta.get("kind")
    if kind is bool:
        if not isinstance(value, bool | np.bool_):
            raise ParameterError(qualname, value, "allowed: true or false")
        return bool(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ParameterError(qualname, value, _range_text(short, meta, "an integer"))
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(qualname, value, _range_text(short, meta, "a number"))
        value = float(value)
        if math.isnan(value):
            raise ParameterError(qualname, value, _range_text(short, meta, "a number"))
    elif kind is str and not isinstance(value, str):
        raise ParameterError(qualname, value, _choices_text(meta) or "allowed: a string")
    elif kind is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ParameterError(qualname, value, f"allowed: a {names}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ParameterError(qualname, value, _choices_text(meta))
    if meta.get("low") is not None or meta.get("high") is not None:
        low, high = meta["low"], meta["high"]
        too_low = low is not None and (value <= low if meta["low_open"] else value < low)
        too_high = high is not None and (value >= high if meta["high_open"] else value > high)
        if too_low or too_high or (isinstance(value, float) and math.isinf(value)):
            raise ParameterError(qualname, value, _range_text(short, meta))
    return value


def _choices_text(meta: dict[str, Any]) -> str:
    choices = meta.get("choices")
    if not choices:
        return ""
    return "allowed: " + ", ".join(repr(c) for c in choices)


class ParamGroup:
    """Base for frozen dataclasses of checked parameters.

    Subclasses are declared with ``@dataclasses.dataclass(frozen=True)`` and fields made by
    :func:`param`. Cross-field checks go in :meth:`validate`, which runs after the per-field checks.
    Use :meth:`replace` to derive a changed copy; it runs the checks again.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if not f.metadata:
                continue
            value = getattr(self, f.name)
            checked = check_value(f"{type(self).__name__}.{f.name}", value, dict(f.metadata))
            if checked is not value:
                object.__setattr__(self, f.name, checked)
        self.validate()

    def validate(self) -> None:
        """Check relations between fields; override in subclasses."""

    def replace(self, **changes: Any) -> Any:
        """Return a copy with some parameters changed (checked again).

        Args:
            **changes: New values by parameter name.

        Returns:
            A new parameter group of the same type.

        Raises:
            ParameterError: If a name is unknown or a value is not allowed.
        """
        names = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        for key in changes:
            if key not in names:
                raise ParameterError(
                    f"{type(self).__name__}.{key}",
                    changes[key],
                    "unknown parameter; allowed: " + ", ".join(sorted(names)),
                )
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a plain dictionary (nested groups as dictionaries)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, ParamGroup):
                out[f.name] = {"kind": type(value).__name__, **value.to_dict()}
            elif isinstance(value, tuple) and value and isinstance(value[0], ParamGroup):
                out[f.name] = [v.to_dict() for v in value]
            else:
                out[f.name] = value
        return out


def check(name: str, value: Any, **meta: Any) -> Any:
    """Check a single value with the same keywords as :func:`param` (for plain function arguments).

    Args:
        name: Parameter name used in the error message.
        value: The value.
        **meta: ``low``, ``high``, ``low_open``, ``high_open``, ``choices``, ``kind``.

    Returns:
        The value, normalised.

    Raises:
        ParameterError: If the value is not allowed.
    """
    full = {
        "low": None,
        "high": None,
        "low_open": False,
        "high_open": False,
        "choices": None,
        "kind": None,
    }
    full.update(meta)
    return check_value(name, value, full)


def attribute_docs(cls: type) -> dict[str, str]:
    """Each attribute's description from a class's Google-style ``Attributes:`` section.

    Args:
        cls: A documented class (a parameter group).

    Returns:
        Attribute name to its description, continuation lines joined with spaces.
    """
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"Attributes:\n(.*)", doc, re.S)
    out: dict[str, str] = {}
    current = None
    for line in (match.group(1) if match else "").splitlines():
        head = re.match(r"    (\w+): (.*)", line)
        if head:
            current = head.group(1)
            out[current] = head.group(2)
        elif current and line.startswith("        "):
            out[current] += " " + line.strip()
        else:
            current = None
    return out


@dataclasses.dataclass(frozen=True)
class RunParams(ParamGroup):
    """A run's scalars: the city's size, the seed, the horizon and the state at the start.

    :class:`~dualpower_sim.model.DualPowerModel` checks its arguments of these names, and a
    config its top-level keys (:data:`dualpower_sim.config.RUN_KEYS`), against these fields, so
    the two always allow the same values.

    Attributes:
        n_workers: Number of workers.
        seed: Root seed of the run.
        horizon: Last day of the run; it stops earlier if dual power resolves.
        legitimacy: The state's legitimacy L at the start (Epstein 2002); grievance is H (1 - L).
        coercion: Police per resident at the start, the same in every neighbourhood.
        action_quorum: Share of a firm, neighbourhood or campus mobilized for it to count as
            striking, blockading or occupying in the indicators.
        dual_power: False runs the mobilization model alone (no councils, soldiers, state or
            outcome).
    """

    n_workers: int = param(10_000, kind=int, low=2, high=50_000_000)
    seed: int | None = param(None, kind=int, low=0, high=2**63 - 1, optional=True)
    horizon: int = param(365, kind=int, low=1, high=1_000_000)
    legitimacy: float = param(0.75, kind=float, low=0.0, high=1.0)
    coercion: float = param(0.06, kind=float, low=0.0, high=1.0)
    action_quorum: float = param(0.5, kind=float, low=0.0, low_open=True, high=1.0)
    dual_power: bool = param(True, kind=bool)

    @classmethod
    def check_one(cls, name: str, value: Any) -> Any:
        """Check one of the run's values alone, as the group would.

        Args:
            name: A field's name (``horizon``).
            value: Its value.

        Returns:
            The value, normalised (ints widened to float for float fields).

        Raises:
            ParameterError: Naming ``name`` (without the group's name), the value and what is
                allowed.
        """
        return check_value(name, value, cls.meta(name))

    @classmethod
    def meta(cls, name: str) -> dict[str, Any]:
        """A field's checks (the keywords of :func:`param`)."""
        return dict(next(f for f in dataclasses.fields(cls) if f.name == name).metadata)
