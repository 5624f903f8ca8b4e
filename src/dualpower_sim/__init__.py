"""dualpower_sim: an agent-based simulation of dual power.

Workers' councils stand beside a state and one of the two must give way. This package models the
workers of a city on workplace, territorial and campus networks and how they mobilize; see the
README for a tour.

Example:
    >>> from dualpower_sim import DualPowerModel
    >>> model = DualPowerModel(n_workers=20_000, seed=1).run(100)
    >>> model.indicators().tail()  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, version

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets that its progress bars
# fall back to text; harmless, and not ours to fix, so it is silenced here, once.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    import mesa  # noqa: F401

from .calibration.posterior import load_posterior
from .city import Campuses, City, CityParams, Sector, Territory, Traits, Workplaces, build_city
from .config import ConfigError, Experiment, load_experiment, scenario_names
from .councils import Council
from .discovery import discover
from .distributions import Beta, Constant, Explicit, Normal, Uniform
from .firm_sizes import PETROGRAD_1917, LognormalSizes, ParetoSizes, SizeBand, SizeBands
from .model import DualPowerModel
from .outcomes import OUTCOMES
from .params import ParameterError
from .population import Allegiance, Status, Worker
from .results import ResultsError, load_run
from .rules import (
    RULES,
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
    make_rule,
)
from .state import State
from .sweeps.store import load_results

try:
    __version__ = version("dualpower_sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "OUTCOMES",
    "PETROGRAD_1917",
    "RULES",
    "Allegiance",
    "Beta",
    "Campuses",
    "City",
    "CityParams",
    "CombinedRule",
    "ConfigError",
    "Constant",
    "Council",
    "CouncilRule",
    "Debate",
    "DeterrenceRule",
    "DualPowerModel",
    "Experiment",
    "Explicit",
    "HardshipShock",
    "LeverEvent",
    "LognormalSizes",
    "Normal",
    "ParameterError",
    "ParetoSizes",
    "Policing",
    "Resolution",
    "ResultsError",
    "Sector",
    "SizeBand",
    "SizeBands",
    "SoldierRule",
    "State",
    "StateStrategy",
    "Status",
    "Territory",
    "ThresholdRule",
    "Traits",
    "Uniform",
    "Worker",
    "Workplaces",
    "__version__",
    "build_city",
    "discover",
    "load_experiment",
    "load_posterior",
    "load_results",
    "load_run",
    "make_rule",
    "scenario_names",
]
