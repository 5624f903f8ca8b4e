"""The experiment: a config read, merged and checked, ready to build a model."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..params import ParameterError
from .build import build_kwargs, resolved_config
from .files import check_name, locate_config
from .layers import Origins, assign, merge, parse_assignment, read_layers
from .schema import TEXT_KEYS, ConfigError
from .toml import dumps


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A checked, fully resolved config: what a run needs, and how to say what it was.

    Attributes:
        name: The config's name: its ``name`` key, or its file name without ``.toml``.
        source: The file it was read from.
        config: The resolved config: every parameter, defaults included, as TOML values
            (None for an optional parameter left unset, which the model derives).
        kwargs: The same as :class:`~dualpower_sim.model.DualPowerModel` keyword arguments.
        layers: The files merged into it, most basic first, then the overrides and keyword
            arguments (``override councils.min_members=5``, ``horizon=200``).
    """

    name: str
    source: str
    config: dict[str, Any]
    kwargs: dict[str, Any]
    layers: tuple[str, ...]
    origins: Origins | None = dataclasses.field(repr=False, compare=False, default=None)

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
        from ..model import DualPowerModel

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
            to values, merged last. Messages name each as ``override KEY=VALUE`` (a string)
            or ``override KEY`` (a mapping's).
        seed: Replace the root seed.
        n_workers: Replace the number of workers.
        horizon: Replace the horizon (days). Messages name these three as they were passed,
            e.g. ``horizon=2000000``.

    Returns:
        The experiment.

    Raises:
        ConfigError: On a missing or unreadable file, malformed TOML, an unknown key, a value of
            the wrong type or out of range; the message names the file, the key and what is
            allowed.
    """
    path = locate_config(source, None)
    return _experiment(read_layers(path), path.stem, overrides, seed, n_workers, horizon)


def experiment_from_config(
    config: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
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
    return _experiment([(label, data)], label, dict(overrides or {}), seed, None, None)


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
    origins = Origins(layers[-1][0])
    merged: dict[str, Any] = {}
    for label, data in layers:
        merged = merge(merged, data, origins, label)
    merged.pop("extends", None)
    if isinstance(overrides, Mapping):
        pairs = [(k, v, f"override {k}") for k, v in overrides.items()]
    else:
        pairs = []
        for text in overrides:
            key, value = parse_assignment(text)
            pairs.append((key, value, f"override {text}"))
    for key, value in (("seed", seed), ("n_workers", n_workers), ("horizon", horizon)):
        if value is not None:
            pairs.append((key, value, f"{key}={value}"))  # named as the keyword argument
    for key, value, label in pairs:
        if key.split(".")[0] == "extends":
            raise ConfigError(
                f"{label}: extends cannot be overridden; allowed: extends = NAME in a config "
                "file (or the scenario NAME itself in place of this config)"
            )
        merged = assign(merged, key, value, label)
        origins.mark(tuple(key.split(".")), value, label)
    kwargs = build_kwargs(merged, origins)
    description = merged.get("description", "")
    if merged.get("name"):  # an empty name means the file's
        check_name(merged["name"], origins.of("name"))
    name = merged.get("name") or default_name
    return Experiment(
        name=name,
        source=layers[-1][0],
        config=resolved_config(kwargs, name, description),
        kwargs=kwargs,
        layers=tuple(label for label, _ in layers) + tuple(label for *_, label in pairs),
        origins=origins,
    )
