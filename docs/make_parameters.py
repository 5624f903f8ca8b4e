"""Write the parameter tables of docs/model.md from the code (run: python docs/make_parameters.py).

Every table row is read from the parameter classes themselves (default, allowed range, and the
meaning, unit and source given in each class's docstring), so the documentation cannot drift
from the code; a test checks that docs/model.md holds exactly what this script writes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dualpower_sim.city import Campuses, CityParams, Territory, Traits, Workplaces
from dualpower_sim.params import attribute_docs
from dualpower_sim.rules import (
    CombinedRule,
    CouncilRule,
    Debate,
    DeterrenceRule,
    HardshipShock,
    LeverEvent,
    Policing,
    Resolution,
    SoldierRule,
    StateStrategy,
    ThresholdRule,
)

CLASSES = (
    CityParams,
    Workplaces,
    Territory,
    Campuses,
    Traits,
    CombinedRule,
    ThresholdRule,
    DeterrenceRule,
    Policing,
    HardshipShock,
    LeverEvent,
    CouncilRule,
    Debate,
    SoldierRule,
    StateStrategy,
    Resolution,
)
BEGIN = "<!-- parameters: begin (written by docs/make_parameters.py) -->"
END = "<!-- parameters: end -->"
MODEL_MD = Path(__file__).with_name("model.md")


def _range(meta) -> str:
    if not meta:
        return ""
    if meta.get("choices"):
        return ", ".join(f"`{c!r}`" for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return "true / false" if meta.get("kind") is bool else ""
    left = "" if low is None else f"{low} {'<' if meta['low_open'] else '≤'} "
    right = "" if high is None else f" {'<' if meta['high_open'] else '≤'} {high}"
    text = f"{left}x{right}"
    return text + (" or None" if meta.get("optional") else "")


def _default(value) -> str:
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return "see below" if len(value) > 2 else repr(value)
    if dataclasses.is_dataclass(value):
        return type(value).__name__ if len(repr(value)) > 60 else repr(value)
    return repr(value)


def tables() -> str:
    """The parameter tables, as Markdown."""
    parts = [BEGIN, ""]
    for cls in CLASSES:
        name = getattr(cls, "name", "")
        title = f"### `{cls.__name__}`" + (f" (rule `{name}`)" if name else "")
        header = "| parameter | default | range | meaning, unit and source |"
        parts += [title, "", header, "|---|---|---|---|"]
        meaning = attribute_docs(cls)
        instance = cls()
        for field in dataclasses.fields(cls):
            text = meaning.get(field.name, "").replace("|", "\\|").replace("``", "`")
            default = _default(getattr(instance, field.name)).replace("|", "\\|")
            allowed = _range(dict(field.metadata))
            parts.append(f"| `{field.name}` | `{default}` | {allowed} | {text} |")
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def render(text: str) -> str:
    """``text`` with its parameter block replaced by freshly written tables."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + tables() + text[end:]


if __name__ == "__main__":
    MODEL_MD.write_text(render(MODEL_MD.read_text()))
    print(f"wrote the parameter tables of {MODEL_MD}")
