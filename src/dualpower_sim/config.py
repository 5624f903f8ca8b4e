"""Experiment configs: a TOML file describes one run and is checked key by key before it runs.

A config mirrors :class:`~dualpower_sim.model.DualPowerModel`'s arguments. Top-level keys are
the run's scalars; each table is one parameter group, with the same names as in Python::

    description = "Petrograd 1917: giant factories, a garrison that can go over"
    extends = "st_petersburg_1905"  # optional: a preset's name, or a path relative to this file
    n_workers = 20000
    seed = 1
    horizon = 365
    legitimacy = 0.35

    [city]
    territorial_share = 0.15

    [city.workplaces]
    sizes = { kind = "bands", bands = [[1, 50, 0.03], [51, 100, 0.032], ...] }

    [[city.workplaces.sectors]]
    name = "metalworking"
    share = 0.6

    [mobilization]
    rule = "combined"          # or "threshold", "deterrence"; the rule's parameters follow
    example_weight = 0.3

    [[shocks]]
    start = 20
    duration = 60
    magnitude = 0.3

    [[lever_events]]           # scheduled changes to a lever: legitimacy, coercion, loyalty...
    start = 100
    lever = "legitimacy"
    mode = "add"
    value = -0.3

    [councils]                 # also [policing], [debate], [soldiers], [state], [resolution]
    formation_share = 0.4

Distributions and firm sizes are inline tables with a ``kind``: ``{ kind = "beta", a = 2,
b = 3 }`` (``constant``, ``uniform``, ``beta``, ``normal``) and ``{ kind = "lognormal",
median = 8, sigma = 1.6 }`` (``lognormal``, ``pareto``, ``bands``).

A config that ``extends`` another is merged over it: tables key by key; lists (shocks, lever
events, sectors, bands) and anything whose ``kind`` or ``rule`` changes are replaced whole.
Overrides from the command line (``--set councils.formation_share=0.4``, ``--seed``,
``--workers``, ``--steps``) are merged last. Every key is then checked against the typed,
bounded parameter groups; the first problem raises :class:`ConfigError`, whose message names
the file that set the key, the key and what is allowed.

The resolved config (every parameter, defaults included) and its hash identify a run: the same
config and seed give the same run. The hash leaves out the seed (stored beside it), the name and
the description, so replicates of one experiment share a hash.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
import textwrap
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .city import Campuses, CityParams, Sector, Territory, Traits, Workplaces
from .distributions import Beta, Constant, Distribution, Normal, Uniform
from .firm_sizes import FirmSizes, LognormalSizes, ParetoSizes, SizeBands
from .params import ParameterError, ParamGroup, RunParams, attribute_docs, check, did_you_mean
from .rules import (
    MOBILIZATION_RULES,
    CouncilRule,
    Debate,
    HardshipShock,
    LeverEvent,
    Policing,
    Resolution,
    SoldierRule,
    StateStrategy,
    default_policing,
)
from .rules.events import lever_problem

__all__ = [
    "ConfigError",
    "Experiment",
    "check_name",
    "experiment_from_config",
    "experiments_dir",
    "file_label",
    "load_experiment",
    "locate_config",
    "parse_assignment",
    "read_toml",
    "scenario_names",
]

#: Scalar keys at the top of a config: ``(default, checks, meaning)`` of each field of
#: :class:`~dualpower_sim.params.RunParams`, the model's own checks, so that a config and the
#: model allow the same values. The defaults are the model's, except the seed: a config without
#: one runs with seed 1, so that it is reproducible (and a config's seed cannot be unset).
RUN_KEYS: dict[str, tuple[Any, dict[str, Any], str]] = {
    f.name: (
        1 if f.name == "seed" else f.default,
        {**RunParams.meta(f.name), "optional": False},
        attribute_docs(RunParams)[f.name],
    )
    for f in dataclasses.fields(RunParams)
}

#: Keys that describe the config rather than the run: its name (by default the file's name),
#: one line on what it describes, and the config it extends.
TEXT_KEYS = ("name", "description", "extends")

#: Tables holding one parameter group each, and their classes.
SECTIONS: dict[str, type[ParamGroup]] = {
    "city": CityParams,
    "policing": Policing,
    "councils": CouncilRule,
    "debate": Debate,
    "soldiers": SoldierRule,
    "state": StateStrategy,
    "resolution": Resolution,
}

#: ``kind`` names of the distributions a config can draw traits from.
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    "constant": Constant,
    "uniform": Uniform,
    "beta": Beta,
    "normal": Normal,
}

#: ``kind`` names of the firm-size distributions.
FIRM_SIZES: dict[str, type[FirmSizes]] = {
    "lognormal": LognormalSizes,
    "pareto": ParetoSizes,
    "bands": SizeBands,
}

#: Keys whose change of value replaces the whole table when configs are merged.
DISCRIMINATORS = ("kind", "rule")

#: Every key a config may hold at its top level.
TOP_KEYS = (*TEXT_KEYS, *RUN_KEYS, *SECTIONS, "mobilization", "shocks", "lever_events")


class ConfigError(Exception):
    """A config cannot be used. The message names the file, the key and what is allowed."""


# --------------------------------------------------------------------------------------------
# Finding configs
# --------------------------------------------------------------------------------------------


def experiments_dir() -> Path:
    """The folder of preset scenarios.

    Installed from a wheel, the presets travel inside the package (``dualpower_sim/experiments``);
    in a source checkout (an editable install) they are the repository's ``experiments/``.

    Returns:
        The folder (it may not exist in a broken installation).
    """
    here = Path(__file__).resolve().parent
    packaged = here / "experiments"
    if packaged.is_dir():
        return packaged
    return here.parents[1] / "experiments"


def scenario_names() -> list[str]:
    """Names of the preset scenarios, sorted."""
    folder = experiments_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def locate_config(ref: str | Path, relative_to: Path | None) -> Path:
    """The file a config reference points to: a path, or a preset's name.

    Args:
        ref: A path to a ``.toml`` file, or a preset's name.
        relative_to: The file that names ``ref``: a relative path is read beside it.

    Returns:
        The file's path (it may not exist; :func:`read_toml` says so).
    """
    text = str(ref)
    path = Path(text).expanduser()
    if relative_to is not None and not path.is_absolute():
        beside = relative_to.parent / path
        if beside.suffix == ".toml" or "/" in text or "\\" in text:
            return beside
    if path.suffix == ".toml" or "/" in text or "\\" in text or path.exists():
        return path
    return experiments_dir() / f"{text}.toml"


def read_toml(path: Path, label: str) -> dict[str, Any]:
    """Read a config's (or a sweep's) TOML file.

    Args:
        path: The file.
        label: How the file is named in messages (see :func:`file_label`).

    Returns:
        The file's tables and values.

    Raises:
        ConfigError: If the file is missing (naming the closest preset when a name was meant),
            unreadable, not UTF-8, not TOML, or nested too deep.
    """
    if path.exists() and not path.is_file():
        raise ConfigError(f"{label}: not a file (a config is a .toml file)")
    if not path.is_file():
        known = scenario_names()
        hint = f"; scenarios: {', '.join(known)}" if known else ""
        if path.parent == experiments_dir() and not path.exists():  # a name, not a path
            meant = did_you_mean(path.stem, known, quote=False)
            raise ConfigError(f"{path.stem}: no such file or scenario{meant}{hint}")
        raise ConfigError(f"{label}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_DEPTH:
        raise ConfigError(
            f"{label}: tables or lists nested too deep; allowed: at most {MAX_DEPTH} levels"
        )
    return data


#: Deepest nesting of tables and lists a config or a --set value may have (the deepest real
#: config, a sector's firm-size band, is five levels down).
MAX_DEPTH = 20


def _depth(value: Any) -> int:
    """How deep tables and lists nest in ``value`` (without recursion: any depth is safe)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


#: What a name (of a run or a sweep, and so of its results folder) may not hold.
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_name(name: Any, where: str) -> str:
    """A run's or a sweep's ``name``: a plain file name, as its results folder is named by it.

    Raises:
        ConfigError: For path separators, control characters, a leading dot (so ``..``), a
            blank name or one over 100 characters, naming ``where``.
    """
    allowed = (
        "a plain file name (it names the results folder): no / or \\, no control "
        "characters, not starting with a dot, 1 to 100 characters"
    )
    if (
        not isinstance(name, str)
        or not name.strip()
        or name.startswith(".")
        or _BAD_NAME.search(name)
        or any(0x80 <= ord(c) <= 0x9F for c in name)
        or len(name) > 100
    ):
        raise ConfigError(f"{where}: name = {_show(name)} is not allowed; allowed: {allowed}")
    return name


def file_label(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when it is inside it.

    Args:
        path: The file.

    Returns:
        Its path relative to the working folder, or as given when it lies outside.
    """
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(path)
    return str(relative) if relative.parts else str(path)


# --------------------------------------------------------------------------------------------
# Merging layers, with the origin of every key
# --------------------------------------------------------------------------------------------


class _Origins:
    """Which layer (file, or command-line option) set each key."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.by_path: dict[tuple[str, ...], str] = {}

    def mark(self, path: tuple[str, ...], value: Any, label: str) -> None:
        self.by_path[path] = label
        if isinstance(value, dict):
            for key, inner in value.items():
                self.mark((*path, str(key)), inner, label)

    def of(self, dotted: str) -> str:
        path = tuple(dotted.split("."))
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path[:-1]
        return self.default


def _merge(
    base: dict[str, Any], top: Mapping[str, Any], origins: _Origins, label: str, path=()
) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        here = (*path, key)
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not _switches(old, value):
            out[key] = _merge(old, value, origins, label, here)
        else:
            out[key] = value
            origins.mark(here, value, label)
    return out


def _switches(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` picks another kind or rule than ``old`` (then it replaces it whole)."""
    return any(k in new and old.get(k, new[k]) != new[k] for k in DISCRIMINATORS)


def _layers(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """The file and everything it extends, most basic first."""
    label = file_label(path)
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(file_label(p) for p in (*seen, resolved))
        raise ConfigError(f"{label}: extends itself in a loop ({chain})")
    data = read_toml(path, label)
    if not data:
        raise ConfigError(
            f"{label}: an empty config is not allowed; allowed: at least one key, e.g. "
            'extends = "petrograd_1917", or name = "defaults" to run every default'
        )
    parent = data.get("extends")
    if parent is None:
        return [(label, data)]
    if not isinstance(parent, str) or not parent:
        raise ConfigError(
            f"{label}: extends = {parent!r} is not allowed; allowed: a scenario name "
            f"({', '.join(scenario_names())}) or a path to a .toml file"
        )
    try:
        base = _layers(locate_config(parent, path), (*seen, resolved))
    except ConfigError as exc:
        if "extends itself in a loop" in str(exc) or "(extended by" in str(exc):
            raise
        raise ConfigError(f"{exc} (extended by {label})") from None
    return [*base, (label, data)]


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split a command-line override ``key=value``; the value is read as TOML if it can be.

    ``councils.formation_share=0.4`` gives a float, ``dual_power=false`` a boolean,
    ``mobilization.rule=threshold`` a string (quotes are optional for strings).

    Args:
        text: The override.

    Returns:
        The dotted key and the value.

    Raises:
        ConfigError: If there is no ``=`` or no key.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", key):
        raise ConfigError(
            f"--set {text!r}: allowed: key=value with a dotted key, e.g. "
            "councils.formation_share=0.4"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        value = None
    if value is None or _depth(value) > MAX_DEPTH:
        raise ConfigError(
            f"--set {text[:60]!r}...: lists or tables nested too deep; allowed: at most "
            f"{MAX_DEPTH} levels"
        )
    return key, value


def _assign(config: dict[str, Any], dotted: str, value: Any, label: str) -> dict[str, Any]:
    """``config`` with ``dotted`` set to ``value`` (list items by index: ``shocks.0.start``)."""
    parts = dotted.split(".")
    node: Any = config
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _item(node, part, where, label)
        else:
            if part not in node:
                node[part] = {}
            node = node[part]
        if not isinstance(node, dict | list):
            raise ConfigError(f"{label}: {where} is a value, not a table; cannot set {dotted}")
    last = parts[-1]
    if isinstance(node, list):
        index = _index(node, last, dotted, label)
        node[index] = value
    else:
        old = node.get(last)
        if isinstance(old, dict) and isinstance(value, dict) and not _switches(old, value):
            node[last] = {**old, **value}
        else:
            node[last] = value
    return config


def _index(items: list, part: str, where: str, label: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(
            f"{label}: {where}: allowed: an index from 0 to {len(items) - 1}"
            if items
            else f"{label}: {where}: the list is empty"
        )
    return int(part)


def _item(items: list, part: str, where: str, label: str) -> Any:
    return items[_index(items, part, where, label)]


# --------------------------------------------------------------------------------------------
# Building the typed parameter groups
# --------------------------------------------------------------------------------------------


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


def _show(value: Any) -> str:
    """A value for messages: as in TOML (true, 0.5, [1, 2]), text quoted as in the allowed lists."""
    if isinstance(value, str):
        return repr(value)
    try:
        return _value(value)
    except TypeError:
        return repr(value)


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


def _rewrap(exc: ParameterError, where: str, origins: _Origins) -> ConfigError:
    """A parameter group's own message, renamed to the config key and its file."""
    attr = exc.name.rsplit(".", 1)[-1]
    dotted = f"{where}.{attr}" if where else attr
    return ConfigError(
        f"{origins.of(dotted)}: {dotted} = {_show(exc.value)} is not allowed; {exc.allowed}"
    )


def _need_table(value: Any, where: str, origins: _Origins, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"{origins.of(where)}: {where} = {_show(value)} is not allowed; "
            f"allowed: a table ({what})"
        )
    return value


def _build_group(cls: type, table: Any, where: str, origins: _Origins) -> Any:
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
    registry: Mapping[str, type], table: Any, where: str, origins: _Origins, what: str
) -> Any:
    allowed = ", ".join(map(repr, registry))
    table = _need_table(table, where, origins, f"{what} with kind = {allowed}")
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in registry:
        raise ConfigError(
            f"{origins.of(where + '.kind')}: {where}.kind = {_show(kind)} is not allowed; "
            f"allowed: {allowed}"
        )
    rest = {k: v for k, v in table.items() if k != "kind"}
    return _build_group(registry[kind], rest, where, origins)


def _convert(hint: Any, value: Any, where: str, origins: _Origins) -> Any:
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
                f"{origins.of(where)}: {where} = {_show(value)} is not allowed; allowed: a list"
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
                                f"{origins.of(where)}: {where}.{i} = {_show(v)} is not allowed; "
                                f"allowed: [{', '.join(names)}] or a table with those keys"
                            )
                        v = dict(zip(names, v, strict=True))
                    built.append(_build_group(item, v, f"{where}.{i}", origins))
                return tuple(built)
        return tuple(value)
    return value


def _build_mobilization(table: Any, origins: _Origins) -> Any:
    allowed = ", ".join(map(repr, MOBILIZATION_RULES))
    if isinstance(table, str):  # mobilization = "threshold"
        table = {"rule": table}
    table = _need_table(table, "mobilization", origins, f"rule = {allowed} and its parameters")
    rule = table.get("rule", "combined")
    if not isinstance(rule, str) or rule not in MOBILIZATION_RULES:
        raise ConfigError(
            f"{origins.of('mobilization.rule')}: mobilization.rule = {_show(rule)} is not allowed; "
            f"allowed: {allowed}"
        )
    rest = {k: v for k, v in table.items() if k != "rule"}
    return _build_choice(
        {rule: MOBILIZATION_RULES[rule]}, {"kind": rule, **rest}, "mobilization", origins, ""
    )


def _check_initiators(rule: Any, n_workers: int, origins: _Origins) -> None:
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


def _build(config: dict[str, Any], origins: _Origins) -> dict[str, Any]:
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
                f"{origins.of(key)}: {key} = {_show(value)} is not allowed; allowed: text"
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
            f"{origins.of('shocks')}: shocks = {_show(shocks)} is not allowed; allowed: a list of "
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
                f"{origins.of(where)}: {where} = {_show(shock.sector)} is not allowed; "
                f"allowed: one of the city's sectors ({', '.join(map(repr, sectors))}) "
                "or no sector key"
            )
    kwargs["lever_events"] = _build_lever_events(config.get("lever_events", []), kwargs, origins)
    return kwargs


def _build_lever_events(
    events: Any, kwargs: dict[str, Any], origins: _Origins
) -> tuple[LeverEvent, ...]:
    if not isinstance(events, list):
        raise ConfigError(
            f"{origins.of('lever_events')}: lever_events = {_show(events)} is not allowed; "
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
                f"{origins.of(where)}: {where} = {_show(getattr(event, field))} is not allowed; "
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
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            out[f.name] = _plain(getattr(obj, f.name))  # None: unset, derived (see docs)
        return out
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj


def _resolved(kwargs: Mapping[str, Any], name: str, description: str) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A checked, fully resolved config: what a run needs, and how to say what it was.

    Attributes:
        name: The config's name: its ``name`` key, or its file name without ``.toml``.
        source: The file it was read from.
        config: The resolved config: every parameter, defaults included, as TOML values
            (None for an optional parameter left unset, which the model derives).
        kwargs: The same as :class:`~dualpower_sim.model.DualPowerModel` keyword arguments.
        layers: The files (and command-line options) merged into it, most basic first.
    """

    name: str
    source: str
    config: dict[str, Any]
    kwargs: dict[str, Any]
    layers: tuple[str, ...]
    origins: _Origins = dataclasses.field(repr=False, compare=False, default=None)

    @property
    def seed(self) -> int:
        """The run's root seed."""
        return self.kwargs["seed"]

    @property
    def description(self) -> str:
        """One line on what the config describes."""
        return self.config.get("description", "")

    @property
    def config_hash(self) -> str:
        """SHA-256 of the resolved config without its seed, name and description (hex)."""
        core = {k: v for k, v in self.config.items() if k not in ("seed", *TEXT_KEYS)}
        text = json.dumps(core, sort_keys=True, separators=(",", ":"), allow_nan=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def build_model(self):
        """Build the model this config describes.

        Returns:
            A :class:`~dualpower_sim.model.DualPowerModel`.

        Raises:
            ConfigError: If the model refuses a combination the config checks could not see.
        """
        from .model import DualPowerModel

        try:
            return DualPowerModel(**self.kwargs)
        except ParameterError as exc:
            origin = self.origins.of(exc.name) if self.origins is not None else self.source
            raise ConfigError(f"{origin}: {exc}") from None

    def to_toml(self, comments: bool = True) -> str:
        """The resolved config as TOML, each key under a comment saying what it means.

        Args:
            comments: Write each parameter's meaning above it.

        Returns:
            TOML text that loads back to :attr:`config` without its unset (None) parameters,
            which are written as comments.
        """
        return dumps(self.config, comments=comments)


def load_experiment(
    source: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    *,
    seed: int | None = None,
    n_workers: int | None = None,
    horizon: int | None = None,
) -> Experiment:
    """Read, merge and check a config.

    Args:
        source: A path to a ``.toml`` file, or a preset's name (``"petrograd_1917"``).
        overrides: ``key=value`` strings (as given to ``--set``) or a mapping of dotted keys
            to values, merged last.
        seed: Replace the root seed.
        n_workers: Replace the number of workers.
        horizon: Replace the horizon (days).

    Returns:
        The experiment.

    Raises:
        ConfigError: On a missing or unreadable file, malformed TOML, an unknown key, a value of
            the wrong type or out of range; the message names the file, the key and what is
            allowed.
    """
    path = locate_config(source, None)
    return _experiment(_layers(path), path.stem, overrides, seed, n_workers, horizon)


def experiment_from_config(
    config: Mapping[str, Any],
    overrides: Mapping[str, Any] = (),
    label: str = "config",
    *,
    seed: int | None = None,
) -> Experiment:
    """An experiment from a config held in memory (a resolved config, as sweeps pass to workers).

    Args:
        config: Config values, as :func:`load_experiment` reads them from a file (``extends``
            is not followed).
        overrides: Dotted keys to values, merged last.
        label: How the config is named in messages.
        seed: Replace the root seed.

    Returns:
        The experiment.

    Raises:
        ConfigError: As :func:`load_experiment`.
    """
    data = {k: v for k, v in _strip_none(dict(config)).items() if k != "extends"}
    return _experiment([(label, data)], label, dict(overrides), seed, None, None)


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _experiment(
    layers: list[tuple[str, dict[str, Any]]],
    default_name: str,
    overrides: Sequence[str] | Mapping[str, Any],
    seed: int | None,
    n_workers: int | None,
    horizon: int | None,
) -> Experiment:
    origins = _Origins(layers[-1][0])
    merged: dict[str, Any] = {}
    for label, data in layers:
        merged = _merge(merged, data, origins, label)
    merged.pop("extends", None)
    if isinstance(overrides, Mapping):
        pairs = [(k, v, f"override {k}") for k, v in overrides.items()]
    else:
        pairs = []
        for text in overrides:
            key, value = parse_assignment(text)
            pairs.append((key, value, f"--set {text}"))
    for flag, key, value in (
        ("--seed", "seed", seed),
        ("--workers", "n_workers", n_workers),
        ("--steps", "horizon", horizon),
    ):
        if value is not None:
            pairs.append((key, value, f"{flag} {value}"))
    for key, value, label in pairs:
        if key.split(".")[0] == "extends":
            raise ConfigError(
                f"{label}: extends cannot be set from the command line; allowed: extends = "
                "NAME in a config file (or run the scenario itself: dualpower run NAME)"
            )
        merged = _assign(merged, key, value, label)
        origins.mark(tuple(key.split(".")), value, label)
    kwargs = _build(merged, origins)
    description = merged.get("description", "")
    if merged.get("name"):  # an empty name means the file's
        check_name(merged["name"], origins.of("name"))
    name = merged.get("name") or default_name
    return Experiment(
        name=name,
        source=layers[-1][0],
        config=_resolved(kwargs, name, description),
        kwargs=kwargs,
        layers=tuple(label for label, _ in layers) + tuple(label for *_, label in pairs),
        origins=origins,
    )


# --------------------------------------------------------------------------------------------
# Writing TOML (the standard library only reads it)
# --------------------------------------------------------------------------------------------

#: Parameter groups documented in each table of the resolved config, for comments.
_DOCUMENTED: dict[str, type] = {
    "city": CityParams,
    "city.workplaces": Workplaces,
    "city.territory": Territory,
    "city.campuses": Campuses,
    "city.traits": Traits,
    "city.workplaces.sectors": Sector,
    "shocks": HardshipShock,
    "lever_events": LeverEvent,
    **{k: v for k, v in SECTIONS.items() if k != "city"},
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
#: Width of the written TOML's comment lines.
WIDTH = 100


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _docs_for(table: str, mobilization_rule: str | None) -> dict[str, str]:
    if table == "":
        return {
            "name": "The experiment's name (default: the config file's name).",
            "description": "What this config describes, in one line.",
            **{key: text for key, (_, _, text) in RUN_KEYS.items()},
        }
    if table == "mobilization" and mobilization_rule in MOBILIZATION_RULES:
        docs = attribute_docs(MOBILIZATION_RULES[mobilization_rule])
        docs["rule"] = "Mobilization rule: " + ", ".join(map(repr, MOBILIZATION_RULES)) + "."
        return docs
    cls = _DOCUMENTED.get(table)
    return attribute_docs(cls) if cls is not None else {}


def _comment(text: str) -> list[str]:
    """A parameter's meaning as plain-text comment lines (reST markup removed, wrapped)."""
    text = re.sub(r":mod:`~?([\w.]+)`", r"\1", text)  # :mod:`a.b` -> a.b
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"\1", text)  # :class:`~a.B` -> B
    text = text.replace("``", "`")
    return ["# " + line for line in textwrap.wrap(text, width=WIDTH - 2)]


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_inline(value: dict[str, Any]) -> bool:
    # Distributions and firm sizes read best on one line, when it is short enough.
    return "kind" in value and len(_value(value)) <= WIDTH - 30


def dumps(config: Mapping[str, Any], comments: bool = True) -> str:
    """Write a config as TOML.

    Args:
        config: Nested dictionaries and lists of TOML values.
        comments: Write each documented parameter's meaning (first sentence) above it.

    Returns:
        TOML text.
    """
    rule = config.get("mobilization", {}).get("rule") if isinstance(config, Mapping) else None
    lines: list[str] = []

    def table(path: str, body: Mapping[str, Any], header: str | None, intro=()) -> None:
        docs = _docs_for(re.sub(r"\.\d+", "", path), rule) if comments else {}
        scalars = [
            (k, v)
            for k, v in body.items()
            if not (isinstance(v, dict) and not _is_inline(v)) and not _is_table_list(v)
        ]
        if header is not None:
            if lines:
                lines.append("")
            lines.extend(intro)
            lines.append(header)
        for key, value in scalars:
            if key in docs:
                lines.extend(_comment(docs[key]))
            if value is None:  # TOML has no null: an unset parameter is shown commented out
                lines.append(f"# {_key(key)} = (not set)")
                continue
            text = f"{_key(key)} = {_value(value)}"
            if len(text) > WIDTH and isinstance(value, list) and value:
                items = ",\n".join(f"    {_value(v)}" for v in value)
                text = f"{_key(key)} = [\n{items},\n]"
            lines.append(text)
        for key, value in body.items():
            sub = f"{path}.{key}" if path else key
            if isinstance(value, dict) and not _is_inline(value):
                intro = _comment(docs[key]) if key in docs else []
                table(sub, value, f"[{sub}]", intro)
            elif _is_table_list(value):
                for item in value:
                    table(sub, item, f"[[{sub}]]")

    table("", config, None)
    return "\n".join(lines) + "\n"
