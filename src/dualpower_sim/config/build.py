"""Building the typed parameter groups from a merged config, and back to plain TOML values."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from ..distributions import Distribution
from ..firm_sizes import FirmSizes, SizeBands
from ..params import ParameterError, ParamGroup, check, did_you_mean
from ..rules import MOBILIZATION_RULES, HardshipShock, LeverEvent, Policing, default_policing
from ..rules.events import lever_problem
from .layers import Origins
from .schema import (
    DISTRIBUTIONS,
    FIRM_SIZES,
    RUN_KEYS,
    SECTIONS,
    TEXT_KEYS,
    TOP_KEYS,
    ConfigError,
)
from .toml import shown


def _unknown(
    key: str, where: str, allowed: Sequence[str], origin: str, context: str = ""
) -> ConfigError:
    dotted = f"{where}.{key}" if where else key
    hint = did_you_mean(key, allowed)
    if not hint and not where and key in _SECTION_FIELDS():
        hint = f" (did you mean {_SECTION_FIELDS()[key]!r}?)"  # a section's key at top level
    table = f"[{where}]" if where else "the top level"
    return ConfigError(
        f"{origin}: unknown key {dotted!r}{hint}; allowed in {table}{context}: "
        + ", ".join(allowed)
    )


def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _SECTION_FIELDS() -> dict[str, str]:  # noqa: N802 - a constant, computed once
    """Every parameter's dotted key, by its last name (the first section that has it)."""
    out: dict[str, str] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = _hints(cls)
        for name in _fields(cls):
            out.setdefault(name, f"{prefix}.{name}")
            hint = hints[name]
            if (
                isinstance(hint, type)
                and issubclass(hint, ParamGroup)
                and not issubclass(hint, Distribution | FirmSizes)
            ):
                walk(hint, f"{prefix}.{name}")

    for section, cls in SECTIONS.items():
        walk(cls, section)
    for cls in MOBILIZATION_RULES.values():
        walk(cls, "mobilization")
    walk(HardshipShock, "shocks.0")
    walk(LeverEvent, "lever_events.0")
    return out


def _rewrap(exc: ParameterError, where: str, origins: Origins) -> ConfigError:
    """A parameter group's own message, renamed to the config key and its file."""
    attr = exc.name.rsplit(".", 1)[-1]
    dotted = f"{where}.{attr}" if where else attr
    return ConfigError(
        f"{origins.of(dotted)}: {dotted} = {shown(exc.value)} is not allowed; {exc.allowed}"
    )


def _need_table(value: Any, where: str, origins: Origins, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"{origins.of(where)}: {where} = {shown(value)} is not allowed; "
            f"allowed: a table ({what})"
        )
    return value


def _build_group(cls: type, table: Any, where: str, origins: Origins) -> Any:
    table = _need_table(table, where, origins, f"the parameters of {cls.__name__}")
    fields, hints = _fields(cls), _hints(cls)
    kwargs = {}
    for key, value in table.items():
        if key not in fields:
            context = f" (rule {getattr(cls, 'name', '')!r})" if where == "mobilization" else ""
            raise _unknown(key, where, list(fields), origins.of(f"{where}.{key}"), context)
        kwargs[key] = _convert(hints[key], value, f"{where}.{key}", origins)
    try:
        return cls(**kwargs)
    except ParameterError as exc:
        raise _rewrap(exc, where, origins) from None


def _build_choice(
    registry: Mapping[str, type], table: Any, where: str, origins: Origins, what: str
) -> Any:
    allowed = ", ".join(map(repr, registry))
    table = _need_table(table, where, origins, f"{what} with kind = {allowed}")
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in registry:
        raise ConfigError(
            f"{origins.of(where + '.kind')}: {where}.kind = {shown(kind)} is not allowed; "
            f"allowed: {allowed}"
        )
    rest = {k: v for k, v in table.items() if k != "kind"}
    return _build_group(registry[kind], rest, where, origins)


def _convert(hint: Any, value: Any, where: str, origins: Origins) -> Any:
    """A TOML value for a field of type ``hint``, built into the field's Python type."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(inner) == 1 and isinstance(inner[0], type) and issubclass(inner[0], ParamGroup):
            hint = inner[0]
    if isinstance(hint, type):
        if issubclass(hint, Distribution):
            return _build_choice(DISTRIBUTIONS, value, where, origins, "a distribution")
        if issubclass(hint, FirmSizes):
            return _build_choice(FIRM_SIZES, value, where, origins, "a firm-size distribution")
        if issubclass(hint, ParamGroup):
            return _build_group(hint, value, where, origins)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(
                f"{origins.of(where)}: {where} = {shown(value)} is not allowed; allowed: a list"
            )
        if len(args) == 2 and args[1] is Ellipsis and isinstance(args[0], type):
            item = args[0]
            if issubclass(item, ParamGroup):
                names = list(_fields(item))
                built = []
                for i, v in enumerate(value):
                    if isinstance(v, list):  # positional: [low, high, share], [name, share]
                        if len(v) != len(names):
                            raise ConfigError(
                                f"{origins.of(where)}: {where}.{i} = {shown(v)} is not allowed; "
                                f"allowed: [{', '.join(names)}] or a table with those keys"
                            )
                        v = dict(zip(names, v, strict=True))
                    built.append(_build_group(item, v, f"{where}.{i}", origins))
                return tuple(built)
        return tuple(value)
    return value


def _build_mobilization(table: Any, origins: Origins) -> Any:
    allowed = ", ".join(map(repr, MOBILIZATION_RULES))
    if isinstance(table, str):  # mobilization = "threshold"
        table = {"rule": table}
    table = _need_table(table, "mobilization", origins, f"rule = {allowed} and its parameters")
    rule = table.get("rule", "combined")
    if not isinstance(rule, str) or rule not in MOBILIZATION_RULES:
        raise ConfigError(
            f"{origins.of('mobilization.rule')}: mobilization.rule = {shown(rule)} is not allowed; "
            f"allowed: {allowed}"
        )
    rest = {k: v for k, v in table.items() if k != "rule"}
    return _build_choice(
        {rule: MOBILIZATION_RULES[rule]}, {"kind": rule, **rest}, "mobilization", origins, ""
    )


def build_kwargs(config: dict[str, Any], origins: Origins) -> dict[str, Any]:
    """The model's keyword arguments from a merged config."""
    for key in config:
        if key not in TOP_KEYS:
            raise _unknown(key, "", list(TOP_KEYS), origins.of(key))
    kwargs: dict[str, Any] = {}
    for key, (default, meta, _) in RUN_KEYS.items():
        try:
            kwargs[key] = check(key, config.get(key, default), **meta)
        except ParameterError as exc:
            raise _rewrap(exc, "", origins) from None
    for key in TEXT_KEYS:
        value = config.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(
                f"{origins.of(key)}: {key} = {shown(value)} is not allowed; allowed: text"
            )
    for key, cls in SECTIONS.items():
        kwargs[key] = _build_group(cls, config.get(key, {}), key, origins)
    kwargs["mobilization"] = _build_mobilization(config.get("mobilization", {}), origins)
    _check_initiators(kwargs["mobilization"], kwargs["n_workers"], origins)
    # Policing the config leaves unset is the model's default for the rule (no arrests under
    # the threshold rule), written out in the resolved config.
    default = default_policing(kwargs["mobilization"])
    given = config.get("policing", {})
    unset = {k: getattr(default, k) for k in _fields(Policing) if k not in given}
    kwargs["policing"] = dataclasses.replace(kwargs["policing"], **unset)
    shocks = config.get("shocks", [])
    if not isinstance(shocks, list):
        raise ConfigError(
            f"{origins.of('shocks')}: shocks = {shown(shocks)} is not allowed; allowed: a list of "
            "tables ([[shocks]] with start, duration, magnitude and optionally sector)"
        )
    kwargs["shocks"] = tuple(
        _build_group(HardshipShock, s, f"shocks.{i}", origins) for i, s in enumerate(shocks)
    )
    sectors = [s.name for s in kwargs["city"].workplaces.sectors]
    for i, shock in enumerate(kwargs["shocks"]):
        if shock.sector is not None and shock.sector not in sectors:
            where = f"shocks.{i}.sector"
            raise ConfigError(
                f"{origins.of(where)}: {where} = {shown(shock.sector)} is not allowed; "
                f"allowed: one of the city's sectors ({', '.join(map(repr, sectors))}) "
                "or no sector key"
            )
    kwargs["lever_events"] = _build_lever_events(config.get("lever_events", []), kwargs, origins)
    return kwargs


def _check_initiators(rule: Any, n_workers: int, origins: Origins) -> None:
    """The threshold rule's initiators must be workers of a city of ``n_workers``."""
    ids, count = getattr(rule, "initiators", None), getattr(rule, "initiator_count", None)
    if ids and max(ids) >= n_workers:
        where = "mobilization.initiators"
        raise ConfigError(
            f"{origins.of(where)}: {where} holds {max(ids)}, which is not allowed; allowed: "
            f"worker ids from 0 to n_workers - 1 = {n_workers - 1}"
        )
    if count is not None and count > n_workers:
        where = "mobilization.initiator_count"
        raise ConfigError(
            f"{origins.of(where)}: {where} = {count} is not allowed; allowed: "
            f"0 <= initiator_count <= n_workers = {n_workers}"
        )


def _build_lever_events(
    events: Any, kwargs: dict[str, Any], origins: Origins
) -> tuple[LeverEvent, ...]:
    if not isinstance(events, list):
        raise ConfigError(
            f"{origins.of('lever_events')}: lever_events = {shown(events)} is not allowed; "
            "allowed: a list of tables ([[lever_events]] with start, lever, mode, value and "
            "optionally over_days and sector)"
        )
    built = tuple(
        _build_group(LeverEvent, e, f"lever_events.{i}", origins) for i, e in enumerate(events)
    )
    sectors = [s.name for s in kwargs["city"].workplaces.sectors]
    for i, event in enumerate(built):
        problem = lever_problem(
            event,
            dual_power=kwargs["dual_power"],
            rule=kwargs["mobilization"].name,
            sectors=sectors,
        )
        if problem is not None:
            field, allowed = problem
            where = f"lever_events.{i}.{field}"
            raise ConfigError(
                f"{origins.of(where)}: {where} = {shown(getattr(event, field))} is not allowed; "
                f"{allowed}"
            )
    return built


# --------------------------------------------------------------------------------------------
# Back to plain TOML values: the resolved config
# --------------------------------------------------------------------------------------------


def _kind_of(obj: Any) -> str | None:
    for registry in (DISTRIBUTIONS, FIRM_SIZES):
        for name, cls in registry.items():
            if type(obj) is cls:
                return name
    return None


def _plain(obj: Any) -> Any:
    """A parameter group as TOML-ready values (None, meaning "derived", is left out)."""
    if isinstance(obj, SizeBands):  # bands read best as [low, high, share] triples
        bands = [[b.low, b.high, b.share] for b in obj.bands]
        return {"kind": "bands", "bands": bands, "within": obj.within}
    if isinstance(obj, ParamGroup):
        out: dict[str, Any] = {}
        kind = _kind_of(obj)
        if kind is not None:
            out["kind"] = kind
        for f in dataclasses.fields(typing.cast(Any, obj)):  # every group is a dataclass
            if not f.init:
                continue
            out[f.name] = _plain(getattr(obj, f.name))  # None: unset, derived (see docs)
        return out
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj


def resolved_config(kwargs: Mapping[str, Any], name: str, description: str) -> dict[str, Any]:
    """The model's keyword arguments as a config of plain TOML values, defaults included."""
    out: dict[str, Any] = {"name": name, "description": description}
    out.update({key: kwargs[key] for key in RUN_KEYS})
    out["city"] = _plain(kwargs["city"])
    mobilization = kwargs["mobilization"]
    out["mobilization"] = {"rule": mobilization.name, **_plain(mobilization)}
    out["shocks"] = [_plain(s) for s in kwargs["shocks"]]
    if kwargs["lever_events"]:  # left out when empty, so configs without any keep their hash
        out["lever_events"] = [_plain(e) for e in kwargs["lever_events"]]
    for key in SECTIONS:
        out[key] = _plain(kwargs[key])
    return out
