"""The calibration file: the parameters to infer, their priors, the episodes and their targets.

A calibration is a TOML file::

    description = "The shared rule parameters against the article's episodes"
    seed = 1917                 # root seed: pyabc's draws and every run's seed come from it
    replicates = 2              # runs per episode per particle
    population_size = 100       # particles per generation
    generations = 8             # at most this many generations ...
    min_epsilon = 0.3           # ... or until epsilon falls below this (optional)
    horizon = 365               # optional: replaces every episode's horizon

    [parameters]                # shared by every episode: rule parameters
    "debate.persuasion" = { low = 0.02, high = 0.5 }
    "resolution.leverage_size" = { low = 20.0, high = 200.0, scale = "log" }

    [[episodes]]
    preset = "petrograd_1917"   # a preset's name or a path to a config (beside this file)
    n_workers = 6000            # the city's size (default: the preset's)
    outcome = ["council_power"] # the historical outcome(s)
    majority = 185              # days from dual power to a revolutionary majority (optional)
    end = 240                   # days from dual power to the end (optional)
    source = "timelines: the Soviet on 27 February, the insurrection on 24-25 October"
    [episodes.parameters]       # this episode's parameters to infer (optional)
    "legitimacy" = { low = 0.2, high = 0.4 }
    [episodes.guesses]          # its guesses, drawn afresh in every run (optional)
    "loyalty_mean" = { low = 0.3, high = 0.55 }

Every prior is uniform on ``[low, high]``, or log-uniform with ``scale = "log"``; a parameter
whose config value is a whole number (a shock's ``duration``) takes the nearest whole number in
each run. ``loyalty_mean`` is the mean of the garrison's Beta loyalty at the preset's own
concentration ``a + b``. A key is shared or an episode's, not both. A guess
(``[episodes.guesses]``) is not inferred: every run draws it afresh from its range, so the
calibration integrates over it, as a prior predictive does. Each episode's parameters
are named ``episode/key`` in the posterior (``petrograd_1917/legitimacy``), the shared ones by
their key.

Everything is checked when the file is read: an unknown key, a bad value, a prior whose bounds
the config refuses, in one line naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import (
    ConfigError,
    Experiment,
    check_name,
    experiment_from_config,
    file_label,
    load_experiment,
    locate_config,
    read_toml,
)
from ..outcomes import OUTCOMES
from ..params import ParameterError, ParamGroup, RunParams, did_you_mean, param

__all__ = [
    "CALIBRATION_KEYS",
    "EPISODE_KEYS",
    "TIMINGS",
    "Calibration",
    "CalibrationFile",
    "Episode",
    "Prior",
    "load_calibration",
]

#: The timings an episode may be calibrated to: days from the start of the run to dual power,
#: and from dual power to a revolutionary majority and to the end (resolution).
TIMINGS = ("dual_power", "majority", "end")

#: Keys of an ``[[episodes]]`` table.
EPISODE_KEYS = (
    "preset",
    "name",
    "n_workers",
    "outcome",
    *TIMINGS,
    "source",
    "parameters",
    "guesses",
)

#: A key that is not a config key: the garrison's mean loyalty (see the module docstring).
LOYALTY_MEAN = "loyalty_mean"


@dataclasses.dataclass(frozen=True)
class CalibrationFile(ParamGroup):
    """A calibration file's top-level values, checked as every parameter group is.

    Attributes:
        name: The calibration's name (default: the file's name).
        description: One line on what it infers.
        seed: Root seed: pyabc's draws each generation and every run's seed come from it.
        replicates: Runs per episode per particle.
        population_size: Particles accepted per generation.
        generations: Most generations (ABC-SMC populations).
        min_epsilon: Stop once a generation's epsilon is at most this (0: run every generation).
        horizon: Replaces every episode's horizon (days), if set.
        parameters: The shared parameters' priors: dotted keys to ``{low, high[, scale]}``.
        episodes: The ``[[episodes]]`` tables.
    """

    name: str = param("", kind=str)
    description: str = param("", kind=str)
    seed: int = param(0, kind=int, low=0, high=2**63 - 1)
    replicates: int = param(1, kind=int, low=1, high=1000)
    population_size: int = param(100, kind=int, low=2, high=100_000)
    generations: int = param(8, kind=int, low=1, high=1000)
    min_epsilon: float = param(0.0, kind=float, low=0.0)
    # The run's own bounds, so that a calibration file is told about its own key.
    horizon: int | None = param(None, **{**RunParams.meta("horizon"), "optional": True})
    parameters: Mapping[str, Any] = param(default_factory=dict, kind=dict)
    episodes: Sequence[Any] = param(default_factory=list, kind=list)

    def validate(self) -> None:
        """At least one episode."""
        if not self.episodes:
            raise ParameterError(
                "episodes", self.episodes, "allowed: one or more [[episodes]] tables"
            )


#: Keys of a calibration file.
CALIBRATION_KEYS = tuple(f.name for f in dataclasses.fields(CalibrationFile))


@dataclasses.dataclass(frozen=True)
class Prior:
    """The prior of one inferred parameter.

    Attributes:
        name: The parameter's name in the posterior: the key, or ``episode/key``.
        key: The dotted config key it sets (or ``loyalty_mean``).
        episode: The episode it belongs to, or None for a shared parameter.
        low: Lower bound.
        high: Upper bound.
        scale: ``"linear"`` (uniform) or ``"log"`` (log-uniform).
        integer: Whether each run takes the nearest whole number (the config's value is one).
    """

    name: str
    key: str
    episode: str | None
    low: float
    high: float
    scale: str = "linear"
    integer: bool = False

    @property
    def variance(self) -> float:
        """The prior's variance (of the parameter, on its own scale)."""
        if self.scale == "log":
            a, b = self.low, self.high
            r = math.log(b / a)
            mean = (b - a) / r
            return (b * b - a * a) / (2 * r) - mean * mean
        return (self.high - self.low) ** 2 / 12

    def value(self, x: float) -> float | int:
        """The value a run takes for a draw ``x`` (whole when the parameter is)."""
        return round(x) if self.integer else float(x)


@dataclasses.dataclass(frozen=True)
class Episode:
    """One episode of history: a preset, its targets and the source they come from.

    Attributes:
        name: The episode's name (its preset's, unless the table names it).
        experiment: The preset as every run starts from it (size and horizon applied).
        outcomes: The historical outcome or outcomes.
        days: Target days by timing (:data:`TIMINGS`), those the episode gives.
        source: Where the targets come from.
        guesses: The preset's guesses that are not inferred but drawn afresh in every run from
            their ranges (``[episodes.guesses]``): the calibration integrates over them.
    """

    name: str
    experiment: Experiment
    outcomes: tuple[str, ...]
    days: Mapping[str, float]
    source: str
    guesses: tuple[Prior, ...] = ()


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A checked calibration: its priors, its episodes and the SMC's budget.

    Attributes:
        name: The calibration's name (its ``name`` key or file name).
        source: The file it was read from.
        description: One line on what it infers.
        priors: Every inferred parameter, shared ones first.
        episodes: The episodes, in the file's order.
        seed: Root seed.
        replicates: Runs per episode per particle.
        population_size: Particles per generation.
        generations: Most generations.
        min_epsilon: Stop once epsilon is at most this.
        text: The file as written (copied into the output folder).
    """

    name: str
    source: str
    description: str
    priors: tuple[Prior, ...]
    episodes: tuple[Episode, ...]
    seed: int
    replicates: int
    population_size: int
    generations: int
    min_epsilon: float
    text: str = ""

    @property
    def calibration_hash(self) -> str:
        """SHA-256 of what determines the calibration: configs, priors, targets, budget, seed."""
        core = {
            "episodes": [
                [
                    e.name,
                    e.experiment.config_hash,
                    list(e.outcomes),
                    dict(e.days),
                    [dataclasses.astuple(g) for g in e.guesses],
                ]
                for e in self.episodes
            ],
            "priors": [dataclasses.astuple(p) for p in self.priors],
            "seed": self.seed,
            "replicates": self.replicates,
            "population_size": self.population_size,
            "generations": self.generations,
            "min_epsilon": self.min_epsilon,
        }
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()

    def episode(self, name: str) -> Episode:
        """The episode called ``name``."""
        for e in self.episodes:
            if e.name == name:
                return e
        raise KeyError(name)

    def without(self, name: str) -> Calibration:
        """The same calibration on every episode but ``name`` (and without its parameters).

        Args:
            name: An episode's name.

        Raises:
            ConfigError: If no episode has that name, or it is the only one.
        """
        names = [e.name for e in self.episodes]
        if name not in names:
            raise ConfigError(
                f"{self.source}: leave_out={name!r}: no such episode"
                f"{did_you_mean(name, names)}; allowed: {', '.join(names)}"
            )
        if len(names) == 1:
            raise ConfigError(f"{self.source}: leave_out={name!r}: it is the only episode")
        return dataclasses.replace(
            self,
            name=f"{self.name}-without-{name}",
            episodes=tuple(e for e in self.episodes if e.name != name),
            priors=tuple(p for p in self.priors if p.episode != name),
        )


def _fail(label: str, key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{label}: {key} = {value!r} is not allowed; allowed: {allowed}")


def _calibration_file(data: dict[str, Any], label: str) -> CalibrationFile:
    for key in data:
        if key not in CALIBRATION_KEYS:
            raise ConfigError(
                f"{label}: unknown key {key!r}{did_you_mean(key, CALIBRATION_KEYS)}; "
                f"allowed: {', '.join(CALIBRATION_KEYS)}"
            )
    try:
        spec = CalibrationFile(**data)
    except ParameterError as exc:
        key = exc.name.removeprefix("CalibrationFile.")
        raise _fail(label, key, exc.value, exc.allowed.removeprefix("allowed: ")) from None
    if spec.name:
        check_name(spec.name, label)
    return spec


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _prior(key: str, spec: Any, episode: str | None, where: str) -> Prior:
    """One ``key = { low, high[, scale] }`` entry as a :class:`Prior`."""
    shape = "a table { low = ..., high = ... [, scale = 'linear' or 'log'] }"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: {key!r} = {spec!r} is not allowed; allowed: {shape}")
    unknown = set(spec) - {"low", "high", "scale"}
    if unknown or "low" not in spec or "high" not in spec:
        raise ConfigError(f"{where}: {key!r} = {spec!r} is not allowed; allowed: {shape}")
    low, high, scale = spec["low"], spec["high"], spec.get("scale", "linear")
    if not (_number(low) and _number(high)) or not math.isfinite(low) or not math.isfinite(high):
        raise ConfigError(f"{where}: {key!r}: low and high must be numbers, not {low!r}, {high!r}")
    if not low < high:
        raise ConfigError(f"{where}: {key!r}: low ({low}) must be below high ({high})")
    if scale not in ("linear", "log"):
        raise ConfigError(f"{where}: {key!r}: scale = {scale!r}; allowed: 'linear', 'log'")
    if scale == "log" and low <= 0:
        raise ConfigError(f"{where}: {key!r}: a log scale needs low > 0, not {low}")
    if key == LOYALTY_MEAN and not (0 < low and high < 1):
        raise ConfigError(f"{where}: {key!r}: a mean loyalty lies in (0, 1), not {low} to {high}")
    name = key if episode is None else f"{episode}/{key}"
    return Prior(name, key, episode, float(low), float(high), scale)


def _same_setting(a: str, b: str) -> bool:
    """Whether two keys set the same thing (``loyalty_mean`` sets ``soldiers.loyalty``)."""
    if a == b:
        return True
    pair = {a, b}
    return LOYALTY_MEAN in pair and any(k.startswith("soldiers.loyalty") for k in pair)


def _config_value(config: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key of a resolved config (``shocks.0.duration``), or None."""
    value: Any = config
    for part in key.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _whole(prior: Prior, episodes: Sequence[Episode]) -> Prior:
    """The prior, made whole when the config's value at its key is a whole number."""
    mine = [e for e in episodes if prior.episode in (None, e.name)]
    value = _config_value(mine[0].experiment.config, prior.key) if mine else None
    whole = isinstance(value, int) and not isinstance(value, bool)
    return dataclasses.replace(prior, integer=whole)


def episode_overrides(experiment: Experiment, values: Mapping[str, Any]) -> dict[str, Any]:
    """Config overrides from parameter values by key (``loyalty_mean`` made a Beta).

    Args:
        experiment: The episode's experiment (its garrison's concentration is kept).
        values: Dotted config keys (or ``loyalty_mean``) to values.

    Returns:
        Dotted config keys to values, for :func:`~dualpower_sim.load_experiment`.
    """
    out = dict(values)
    mean = out.pop(LOYALTY_MEAN, None)
    if mean is not None:
        loyalty = experiment.kwargs["soldiers"].loyalty
        strength = getattr(loyalty, "a", 0.0) + getattr(loyalty, "b", 0.0)
        out["soldiers.loyalty"] = {
            "kind": "beta",
            "a": mean * strength,
            "b": (1 - mean) * strength,
        }
    return out


def _episode(
    table: Any, index: int, path: Path, label: str, horizon: int | None
) -> tuple[Episode, list[Prior]]:
    where = f"{label}: episodes[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} = {table!r} is not allowed; allowed: a table")
    for key in table:
        if key not in EPISODE_KEYS:
            raise ConfigError(
                f"{where}: unknown key {key!r}{did_you_mean(key, EPISODE_KEYS)}; "
                f"allowed: {', '.join(EPISODE_KEYS)}"
            )
    preset = table.get("preset")
    if not isinstance(preset, str) or not preset:
        raise ConfigError(f"{where}: preset = {preset!r}; allowed: a preset's name or a path")
    n_workers = table.get("n_workers")
    if n_workers is not None:
        try:
            RunParams.check_one("n_workers", n_workers)
        except ParameterError as exc:
            allowed = exc.allowed.removeprefix("allowed: ")
            raise _fail(where, "n_workers", n_workers, allowed) from None
    try:
        experiment = load_experiment(
            locate_config(preset, path), n_workers=n_workers, horizon=horizon
        )
    except ConfigError as exc:
        raise ConfigError(f"{exc} (episode {index} of calibration {label})") from None
    name = table.get("name", experiment.name)
    check_name(name, where)
    outcomes = table.get("outcome")
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if (
        not isinstance(outcomes, list)
        or not outcomes
        or not all(o in OUTCOMES for o in outcomes)
        or len(set(outcomes)) != len(outcomes)
    ):
        raise _fail(where, "outcome", table.get("outcome"), "a list of " + ", ".join(OUTCOMES))
    days: dict[str, float] = {}
    horizon_days = experiment.kwargs["horizon"]
    for timing in TIMINGS:
        if timing in table:
            value = table[timing]
            if not _number(value) or not 0 <= value <= horizon_days:
                raise _fail(
                    where, timing, value, f"a number of days from 0 to the horizon, {horizon_days}"
                )
            days[timing] = float(value)
    if days and set(outcomes) == {"no_dual_power"}:
        raise ConfigError(
            f"{where}: {', '.join(days)}: an episode without dual power has no days of it; "
            "give timings only to an episode whose history had dual power"
        )
    source = table.get("source", "")
    if not isinstance(source, str):
        raise _fail(where, "source", source, "text naming where the targets come from")
    raw = table.get("parameters", {})
    if not isinstance(raw, dict):
        raise _fail(where, "parameters", raw, "a table of dotted config keys to priors")
    priors = [_prior(k, v, name, f"{where}.parameters") for k, v in raw.items()]
    drawn = table.get("guesses", {})
    if not isinstance(drawn, dict):
        raise _fail(where, "guesses", drawn, "a table of dotted config keys to ranges")
    guesses = [_prior(k, v, name, f"{where}.guesses") for k, v in drawn.items()]
    for g in guesses:
        if any(_same_setting(g.key, p.key) for p in priors):
            raise ConfigError(
                f"{where}: {g.key!r} is both inferred (parameters) and drawn (guesses); keep one"
            )
    episode = Episode(name, experiment, tuple(outcomes), days, source, tuple(guesses))
    return episode, priors


def _check_bounds(calibration: Calibration, label: str) -> None:
    """Each prior's and guess's bounds through its episodes' checks: a bad range fails now."""
    ranges = [*calibration.priors, *(g for e in calibration.episodes for g in e.guesses)]
    for prior in ranges:
        episodes = [
            e for e in calibration.episodes if prior.episode is None or e.name == prior.episode
        ]
        for episode in episodes:
            if prior.key == LOYALTY_MEAN and not hasattr(
                episode.experiment.kwargs["soldiers"].loyalty, "a"
            ):
                raise ConfigError(
                    f"{label}: {prior.name!r}: loyalty_mean needs a Beta loyalty, and "
                    f"{episode.name}'s soldiers.loyalty is not one; set soldiers.loyalty's "
                    "keys instead"
                )
            for bound in (prior.low, prior.high):
                values = episode_overrides(episode.experiment, {prior.key: prior.value(bound)})
                try:
                    experiment_from_config(episode.experiment.config, values, "prior bound")
                except ConfigError as exc:
                    where = "parameters" if prior.episode is None else "episode parameters"
                    raise ConfigError(
                        f"{label}: {where} {prior.key!r} ({episode.name}): {exc}"
                    ) from None


def load_calibration(source: str | Path) -> Calibration:
    """Read and check a calibration file.

    Args:
        source: The calibration's TOML file.

    Returns:
        The calibration.

    Raises:
        ConfigError: On any problem, naming the file, the key and what is allowed.
    """
    path = Path(source)
    label = file_label(path)
    data = read_toml(path, label)
    spec = _calibration_file(data, label)
    if not isinstance(spec.parameters, dict):
        raise _fail(label, "parameters", spec.parameters, "a table of dotted config keys")
    shared = [_prior(k, v, None, f"{label}: parameters") for k, v in spec.parameters.items()]
    episodes: list[Episode] = []
    local: list[Prior] = []
    for i, table in enumerate(spec.episodes):
        episode, priors = _episode(table, i, path, label, spec.horizon)
        if any(e.name == episode.name for e in episodes):
            raise ConfigError(
                f"{label}: episodes[{i}]: a second episode named {episode.name!r}; give it a "
                'name = "..." of its own'
            )
        episodes.append(episode)
        local.extend(priors)
    shared_keys = [p.key for p in shared]
    for e in episodes:
        for g in e.guesses:
            if any(_same_setting(g.key, k) for k in shared_keys):
                raise ConfigError(
                    f"{label}: {g.name!r}: {g.key!r} is also a shared parameter; a guess drawn "
                    "in each run cannot also be inferred"
                )
    mine: dict[str | None, list[str]] = {}
    for p in local:
        if any(_same_setting(p.key, k) for k in shared_keys):
            raise ConfigError(
                f"{label}: {p.name!r}: {p.key!r} is also set by a shared parameter "
                "([parameters]); a key is shared or an episode's, not both"
            )
        if any(_same_setting(p.key, k) for k in mine.setdefault(p.episode, [])):
            raise ConfigError(
                f"{label}: {p.name!r}: loyalty_mean and soldiers.loyalty set the same garrison; "
                "keep one"
            )
        mine[p.episode].append(p.key)
    shared = [_whole(p, episodes) for p in shared]
    local = [_whole(p, episodes) for p in local]
    episodes = [
        dataclasses.replace(e, guesses=tuple(_whole(g, [e]) for g in e.guesses)) for e in episodes
    ]
    if not shared and not local:
        raise ConfigError(
            f"{label}: no parameters to infer; allowed: a [parameters] table or "
            "[episodes.parameters] tables of dotted keys to { low, high }"
        )
    calibration = Calibration(
        name=spec.name or path.stem,
        source=label,
        description=spec.description,
        priors=(*shared, *local),
        episodes=tuple(episodes),
        seed=spec.seed,
        replicates=spec.replicates,
        population_size=spec.population_size,
        generations=spec.generations,
        min_epsilon=spec.min_epsilon,
        text=path.read_text(encoding="utf-8"),
    )
    _check_bounds(calibration, label)
    return calibration
