"""What a config may hold: its top-level keys, its tables and their parameter groups."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..city import CityParams
from ..distributions import Beta, Constant, Distribution, Normal, Uniform
from ..firm_sizes import FirmSizes, LognormalSizes, ParetoSizes, SizeBands
from ..params import ParamGroup, RunParams, attribute_docs
from ..rules import CouncilRule, Debate, Policing, Resolution, SoldierRule, StateStrategy

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


#: Deepest nesting of tables and lists a config or an override's value may have (the deepest
#: real config, a sector's firm-size band, is five levels down).
MAX_DEPTH = 20
