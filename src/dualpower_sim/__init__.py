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

import importlib
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets that its progress bars
# fall back to text; harmless, and not ours to fix, so it is silenced here, once, before any
# module of the package imports Mesa.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    import mesa  # noqa: F401

if TYPE_CHECKING:  # what the names below are, for type checkers and editors
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

#: The public names and the module each is loaded from, on first use (PEP 562): ``import
#: dualpower_sim`` loads neither the sweeps' statistics (scipy.stats) nor the calibration, the
#: discovery or the results stores until a name from them is used, so a script that only builds
#: and runs models starts in less time. (The ``dualpower`` command imports most of them itself.)
_MODULES = {
    "load_posterior": "calibration.posterior",
    "Campuses": "city",
    "City": "city",
    "CityParams": "city",
    "Sector": "city",
    "Territory": "city",
    "Traits": "city",
    "Workplaces": "city",
    "build_city": "city",
    "ConfigError": "config",
    "Experiment": "config",
    "load_experiment": "config",
    "scenario_names": "config",
    "Council": "councils",
    "discover": "discovery",
    "Beta": "distributions",
    "Constant": "distributions",
    "Explicit": "distributions",
    "Normal": "distributions",
    "Uniform": "distributions",
    "PETROGRAD_1917": "firm_sizes",
    "LognormalSizes": "firm_sizes",
    "ParetoSizes": "firm_sizes",
    "SizeBand": "firm_sizes",
    "SizeBands": "firm_sizes",
    "DualPowerModel": "model",
    "OUTCOMES": "outcomes",
    "ParameterError": "params",
    "Allegiance": "population",
    "Status": "population",
    "Worker": "population",
    "ResultsError": "results",
    "load_run": "results",
    "RULES": "rules",
    "CombinedRule": "rules",
    "CouncilRule": "rules",
    "Debate": "rules",
    "DeterrenceRule": "rules",
    "HardshipShock": "rules",
    "LeverEvent": "rules",
    "Policing": "rules",
    "Resolution": "rules",
    "SoldierRule": "rules",
    "StateStrategy": "rules",
    "ThresholdRule": "rules",
    "make_rule": "rules",
    "State": "state",
    "load_results": "sweeps.store",
}


#: The submodules that importing the package made attributes of it when it imported every name
#: at once; they stay attributes, loaded on first use. Others (the app, the command line, the
#: plots) are imported by name, as before: reaching for one by attribute would run it
#: (``__main__``) or need an extra (``app``).
_SUBMODULES = frozenset(
    {
        "agents",
        "calibration",
        "city",
        "config",
        "councils",
        "discovery",
        "discovery_conditions",
        "distributions",
        "files",
        "firm_sizes",
        "indicators",
        "kernels",
        "locking",
        "mesa_compat",
        "model",
        "networks",
        "outcomes",
        "params",
        "population",
        "provenance",
        "results",
        "rng",
        "rules",
        "stability",
        "state",
        "sweeps",
        "world",
    }
)

if not TYPE_CHECKING:  # type checkers see the imports above, and flag a misspelt name

    def __getattr__(name: str) -> Any:
        """Load a public name, or a submodule, on first use (then it is an ordinary attribute).

        Args:
            name: A name of :data:`__all__`, or one of the submodules in :data:`_SUBMODULES`
                (``dualpower_sim.sweeps``, as before the names were loaded lazily).

        Raises:
            AttributeError: For any other name.
        """
        module = _MODULES.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f".{module}", __name__), name)
        elif name in _SUBMODULES:
            value = importlib.import_module(f".{name}", __name__)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """The public names and submodules (loaded or not), without the module's own helpers."""
        dunders = (k for k in globals() if k.startswith("__") and k.endswith("__"))
        return sorted({*__all__, *_SUBMODULES, *dunders})


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
