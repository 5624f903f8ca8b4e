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

A config that ``extends`` another is merged over it: tables key by key; lists (shocks, lever events,
sectors, bands) and anything whose ``kind`` or ``rule`` changes are replaced whole. Overrides
(:func:`load_experiment`'s ``overrides``, ``seed``, ``n_workers`` and ``horizon``; on the command
line ``--set``, ``--seed``, ``--workers`` and ``--steps``) are merged last. Every key is then
checked against the typed, bounded parameter groups; the first problem raises
:class:`ConfigError`, whose message names the layer that set the key (a file, or an override as
it was given: ``override councils.formation_share=0.4``, ``horizon=200``), the key and what is
allowed. The command line names its own options instead.

The resolved config (every parameter, defaults included) and its hash identify a run: the same
config and seed give the same run. The hash leaves out the seed (stored beside it), the name and
the description, so replicates of one experiment share a hash.
"""

# Every public name of config from before it became a package can still be imported from it;
# those written `X as X` are left out of __all__, as they were.
from .experiment import Experiment, experiment_from_config, load_experiment
from .files import (
    check_name,
    experiments_dir,
    file_label,
    locate_config,
    read_toml,
    scenario_names,
)
from .layers import parse_assignment
from .schema import DISCRIMINATORS as DISCRIMINATORS
from .schema import DISTRIBUTIONS as DISTRIBUTIONS
from .schema import FIRM_SIZES as FIRM_SIZES
from .schema import MAX_DEPTH as MAX_DEPTH
from .schema import RUN_KEYS as RUN_KEYS
from .schema import SECTIONS as SECTIONS
from .schema import TEXT_KEYS as TEXT_KEYS
from .schema import TOP_KEYS as TOP_KEYS
from .schema import ConfigError
from .toml import WIDTH as WIDTH
from .toml import dumps as dumps

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
