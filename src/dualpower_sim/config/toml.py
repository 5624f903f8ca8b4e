"""Writing TOML (the standard library only reads it): the resolved config, with comments."""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from ..city import Campuses, CityParams, Sector, Territory, Traits, Workplaces
from ..params import attribute_docs
from ..rules import MOBILIZATION_RULES, HardshipShock, LeverEvent
from .schema import RUN_KEYS, SECTIONS

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


def toml_value(value: Any) -> str:
    """A value as TOML writes it, on one line."""
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
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def shown(value: Any) -> str:
    """A value for messages: as in TOML (true, 0.5, [1, 2]), text quoted as in the allowed lists."""
    if isinstance(value, str):
        return repr(value)
    try:
        return toml_value(value)
    except TypeError:
        return repr(value)


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
    return "kind" in value and len(toml_value(value)) <= WIDTH - 30


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
            text = f"{_key(key)} = {toml_value(value)}"
            if len(text) > WIDTH and isinstance(value, list) and value:
                items = ",\n".join(f"    {toml_value(v)}" for v in value)
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
