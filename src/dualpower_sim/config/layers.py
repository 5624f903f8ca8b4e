"""Merging layers (a config, what it extends, overrides), with the layer that set every key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import depth, file_label, locate_config, read_toml, scenario_names
from .schema import DISCRIMINATORS, MAX_DEPTH, ConfigError


class Origins:
    """Which layer (a file, or an override) set each key."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.by_path: dict[tuple[str, ...], str] = {}

    def mark(self, path: tuple[str, ...], value: Any, label: str) -> None:
        """Record that ``label`` set ``path`` (and everything in it, for a table)."""
        self.by_path[path] = label
        if isinstance(value, dict):
            for key, inner in value.items():
                self.mark((*path, str(key)), inner, label)

    def of(self, dotted: str) -> str:
        """The layer that set a dotted key, or the table holding it (else the default)."""
        path = tuple(dotted.split("."))
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path[:-1]
        return self.default


def merge(
    base: dict[str, Any], top: Mapping[str, Any], origins: Origins, label: str, path=()
) -> dict[str, Any]:
    """``base`` with ``top`` merged over it, table by table; ``origins`` notes what ``top`` set."""
    out = dict(base)
    for key, value in top.items():
        here = (*path, key)
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not switches(old, value):
            out[key] = merge(old, value, origins, label, here)
        else:
            out[key] = value
            origins.mark(here, value, label)
    return out


def switches(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` picks another kind or rule than ``old`` (then it replaces it whole)."""
    return any(k in new and old.get(k, new[k]) != new[k] for k in DISCRIMINATORS)


def read_layers(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
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
        base = read_layers(locate_config(parent, path), (*seen, resolved))
    except ConfigError as exc:
        if "extends itself in a loop" in str(exc) or "(extended by" in str(exc):
            raise
        raise ConfigError(f"{exc} (extended by {label})") from None
    return [*base, (label, data)]


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split an override ``key=value``; the value is read as TOML if it can be.

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
            f"override {text!r}: allowed: key=value with a dotted key, e.g. "
            "councils.formation_share=0.4"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        value = None
    if value is None or depth(value) > MAX_DEPTH:
        raise ConfigError(
            f"override {text[:60]!r}...: lists or tables nested too deep; allowed: at most "
            f"{MAX_DEPTH} levels"
        )
    return key, value


def assign(config: dict[str, Any], dotted: str, value: Any, label: str) -> dict[str, Any]:
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
        if isinstance(old, dict) and isinstance(value, dict) and not switches(old, value):
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
