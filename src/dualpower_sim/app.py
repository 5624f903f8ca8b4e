"""The interactive app: a Mesa ``SolaraViz`` page to move sliders and watch dual power unfold.

Start it with ``dualpower app [CONFIG]`` (the ``app`` extra: ``pip install 'dualpower_sim[app]'``).
A student picks a scenario, moves the sliders a student reaches for first (organising by
workplace or territory, big factories, the state's strategy, party cadres, the army's loyalty,
legitimacy, the hardship shock), presses Reset to build that city, then Step or Play.

Each slider starts at the picked scenario's own value, and a slider left there leaves the
scenario exactly as its config says: the app's model at its defaults is the preset's model (a
test checks this). A moved slider overrides one key of the config (see :data:`KNOBS`).

The live views are the two powers with the dual-power interval shaded and events marked (with
a banner once the run resolves), mobilization by layer, a map of the city, the federation of
councils as a network, and on a second page the councils' and the state's own figures.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import solara

with warnings.catch_warnings():
    # Solara's hook checker flags a line of Mesa 3.3.1's own ComponentsView when it is
    # imported (a use_state after an early return); it is Mesa's to fix and harmless here.
    warnings.filterwarnings("ignore", message=".*ComponentsView.*", category=UserWarning)
    from mesa.visualization import SolaraViz

from . import plots
from .config import Experiment, load_experiment, scenario_names
from .firm_sizes import REPORT_BANDS
from .model import DualPowerModel

__all__ = [
    "CONFIG_ENV",
    "KNOBS",
    "PLACEMENTS",
    "SIZES",
    "VIEWS",
    "AppModel",
    "Knob",
    "Page",
    "app_experiment",
    "check_config",
    "city_tables",
    "federation_ties",
    "knob_defaults",
    "model_params",
    "run_summary",
]

#: Environment variable through which ``dualpower app CONFIG`` tells the page its first config.
CONFIG_ENV = "DUALPOWER_APP_CONFIG"
#: City sizes a student can pick. Every preset needs 10,000 workers or more (Petrograd's and the
#: US's biggest firms must fit), and at 10,000 a step and a redraw take well under a second.
SIZES = (10_000, 20_000, 50_000)
DEFAULT_SIZE = 10_000
#: Firms of more than this many workers count as big factories (Smith's top Petrograd band).
BIG_FIRM = 1000
#: Councils above which the federation is not drawn as a network (it would be a hairball).
FEDERATION_MAX = 250


@dataclasses.dataclass(frozen=True)
class Knob:
    """A slider of the app and the config key it sets.

    Attributes:
        name: Keyword argument of :class:`AppModel`.
        label: What the student reads.
        key: Dotted config key the slider sets (``state.repression_weight``).
        low: Lowest value.
        high: Highest value.
        step: Slider increment.
    """

    name: str
    label: str
    key: str
    low: float
    high: float
    step: float


#: The sliders, in the order shown. ``big_firms``, ``soldiers_loyalty`` and ``hardship_shock``
#: are derived: they set a distribution or a list (see :func:`_override`).
KNOBS: tuple[Knob, ...] = (
    Knob(
        "territorial_share",
        "Organised by territory (0: workplace, 1: barrio)",
        "city.territorial_share",
        0.0,
        1.0,
        0.05,
    ),
    Knob("big_firms", "Workers in factories of 1,000+", "city.workplaces.sizes", 0.0, 0.95, 0.01),
    Knob("legitimacy", "State legitimacy", "legitimacy", 0.0, 1.0, 0.01),
    Knob(
        "repression",
        "Repression (per unit of council power)",
        "state.repression_weight",
        0.0,
        3.0,
        0.05,
    ),
    Knob(
        "concessions",
        "Concessions (per unit of council power)",
        "state.concession_weight",
        0.0,
        2.0,
        0.05,
    ),
    Knob(
        "offensive_readiness",
        "Offensive readiness (daily chance)",
        "state.offensive_readiness",
        0.0,
        1.0,
        0.05,
    ),
    Knob("cadre_share", "Party cadres (share of workers)", "debate.cadre_share", 0.0, 0.05, 0.001),
    Knob("soldiers_loyalty", "Soldiers' loyalty (mean)", "soldiers.loyalty", 0.05, 0.95, 0.01),
    Knob("hardship_shock", "Hardship shock (rise in hardship)", "shocks", -0.3, 0.6, 0.01),
)
_KNOB = {k.name: k for k in KNOBS}
#: Where party cadres work or live (``debate.placement``), offered as a picker.
PLACEMENTS = ("workplace", "territorial", "random")


# --------------------------------------------------------------------------------------------
# From sliders to a config
# --------------------------------------------------------------------------------------------


def _size_sample(experiment: Experiment) -> np.ndarray:
    # A fixed large draw estimates the scenario's firm-size distribution; it is a description of
    # the config, not part of any run, so it has a generator of its own with a fixed seed.
    sizes = experiment.kwargs["city"].workplaces.sizes
    return sizes.draw(200_000, np.random.default_rng(0)).astype(float)


def _band_shares(firm_size: np.ndarray) -> np.ndarray:
    """Share of workers in each of Smith's bands (``firm_sizes.REPORT_BANDS``)."""
    edges = np.array([lo for lo, _ in REPORT_BANDS] + [np.inf])
    which = np.searchsorted(edges, firm_size, side="right") - 1
    workers = np.bincount(which, weights=firm_size, minlength=len(REPORT_BANDS))
    return workers[: len(REPORT_BANDS)] / max(firm_size.sum(), 1.0)


def _mean_of(dist: Mapping[str, Any]) -> float:
    kind = dist.get("kind")
    if kind == "beta":
        return dist["a"] / (dist["a"] + dist["b"])
    if kind == "uniform":
        return (dist["low"] + dist["high"]) / 2
    if kind == "constant":
        return dist["value"]
    if kind == "normal":
        return float(np.clip(dist["mean"], 0.0, 1.0))
    return 0.5


def knob_defaults(experiment: Experiment) -> dict[str, Any]:
    """Each slider's value in a config: where the app's sliders start for that scenario.

    Args:
        experiment: The loaded config.

    Returns:
        Knob name to value, plus ``cadre_placement``.
    """
    c = experiment.config
    sample = _size_sample(experiment)
    debate = c["debate"]
    n = experiment.kwargs["n_workers"]
    cadre_share = debate["cadre_share"] if debate.get("cadre_share") is not None else 0.0
    if debate.get("cadre_share") is None and debate.get("cadres"):
        cadre_share = debate["cadres"] / n
    shocks = c.get("shocks") or []
    return {
        "territorial_share": c["city"]["territorial_share"],
        "big_firms": round(float(_band_shares(sample)[-1]), 2),
        "legitimacy": c["legitimacy"],
        "repression": c["state"]["repression_weight"],
        "concessions": c["state"]["concession_weight"],
        "offensive_readiness": c["state"]["offensive_readiness"],
        "cadre_share": round(float(cadre_share), 3),
        "soldiers_loyalty": round(_mean_of(c["soldiers"]["loyalty"]), 2),
        "hardship_shock": shocks[0]["magnitude"] if shocks else 0.0,
        "cadre_placement": debate["placement"],
    }


def _override(name: str, value: Any, experiment: Experiment) -> Any:
    """The config value a moved slider sets."""
    c = experiment.config
    if name == "big_firms":
        # The scenario's own mix of firm sizes in Smith's bands, with the share of workers in
        # firms of 1,000+ set to the slider's value and the smaller bands scaled to the rest.
        sample = _size_sample(experiment)
        shares = _band_shares(sample)
        small = shares[:-1] if shares[:-1].sum() > 0 else np.ones(len(shares) - 1)
        weights = np.append(small / small.sum() * (1.0 - value), value)
        lows = np.array([lo for lo, _ in REPORT_BANDS], dtype=float)
        # A band whose share of the city cannot hold one firm of its smallest size is dropped
        # (a 10,000-worker city has no room for 3% of its workers in firms of 1,000+).
        weights[weights * experiment.kwargs["n_workers"] < lows] = 0.0
        weights /= weights.sum()
        # The biggest firms as big as the scenario's own (Petrograd's reach 30,000 workers).
        top = max(5 * BIG_FIRM, int(sample.max()))
        bands = [
            [int(lo), int(hi) if np.isfinite(hi) else top, float(w)]
            for (lo, hi), w in zip(REPORT_BANDS, weights, strict=True)
            if w > 0
        ]
        return {"kind": "bands", "bands": bands, "within": "loguniform"}
    if name == "soldiers_loyalty":
        old = c["soldiers"]["loyalty"]
        strength = old["a"] + old["b"] if old.get("kind") == "beta" else 8.0
        return {"kind": "beta", "a": value * strength, "b": (1.0 - value) * strength}
    if name == "hardship_shock":
        shocks = c.get("shocks") or [{"start": 10, "duration": 150}]
        return [
            {**{k: v for k, v in s.items() if v is not None}, "magnitude": value} for s in shocks
        ]
    return value


def app_experiment(
    scenario: str | Path, n_workers: int, seed: int, knobs: Mapping[str, Any]
) -> Experiment:
    """The config a set of slider values describes.

    Args:
        scenario: A preset's name or a config file.
        n_workers: Number of workers.
        seed: Root seed.
        knobs: Slider values by knob name (and ``cadre_placement``); a value equal to the
            scenario's own, or None, leaves the config as it is.

    Returns:
        The checked experiment.

    Raises:
        ConfigError: If a value is out of range.
    """
    base = load_experiment(scenario, n_workers=n_workers, seed=seed)
    defaults = knob_defaults(base)
    overrides: dict[str, Any] = {}
    for name, value in knobs.items():
        if value is None or value == defaults.get(name):
            continue
        if name == "cadre_placement":
            overrides["debate.placement"] = value
        elif isinstance(value, float) and abs(value - defaults[name]) < 1e-9:
            continue
        else:
            if name == "cadre_share":
                overrides["debate.cadres"] = 0
            overrides[_KNOB[name].key] = _override(name, value, base)
    if not overrides:
        return base
    return load_experiment(scenario, overrides, n_workers=n_workers, seed=seed)


class AppModel(DualPowerModel):
    """The model behind the app: a scenario with the app's sliders applied.

    Every argument but ``scenario``, ``n_workers`` and ``seed`` defaults to None, the scenario's
    own value; :data:`KNOBS` says which config key each one sets.

    Args:
        scenario: A preset's name (``"petrograd_1917"``) or a config file.
        n_workers: Number of workers.
        seed: Root seed.
        territorial_share: Weight of territorial organising, in [0, 1].
        big_firms: Share of workers in firms of 1,000+, in [0, 1).
        legitimacy: The state's legitimacy, in [0, 1].
        repression: Repression target per unit of council power.
        concessions: Concession target per unit of council power.
        offensive_readiness: Daily probability of an offensive when the movement hesitates.
        cadre_share: Party cadres as a share of the workers.
        cadre_placement: Where cadres work or live: ``"workplace"``, ``"territorial"``,
            ``"random"``.
        soldiers_loyalty: Mean initial loyalty of the soldiers, in (0, 1).
        hardship_shock: Magnitude of the scenario's hardship shocks (one from day 10 for 150
            days if it has none).

    Attributes:
        experiment: The config the model was built from.
    """

    def __init__(
        self,
        scenario: str = "petrograd_1917",
        n_workers: int = DEFAULT_SIZE,
        seed: int = 1,
        territorial_share: float | None = None,
        big_firms: float | None = None,
        legitimacy: float | None = None,
        repression: float | None = None,
        concessions: float | None = None,
        offensive_readiness: float | None = None,
        cadre_share: float | None = None,
        cadre_placement: str | None = None,
        soldiers_loyalty: float | None = None,
        hardship_shock: float | None = None,
    ) -> None:
        """Load the scenario, apply the sliders and build the model (see the class docstring)."""
        knobs = {k: v for k, v in locals().items() if k in _KNOB or k == "cadre_placement"}
        self.experiment = app_experiment(scenario, int(n_workers), int(seed), knobs)
        super().__init__(**self.experiment.kwargs)


# --------------------------------------------------------------------------------------------
# What the views draw
# --------------------------------------------------------------------------------------------


def run_summary(model: DualPowerModel) -> dict[str, Any]:
    """The model's summary, and whether its outcome is final.

    Args:
        model: A model.

    Returns:
        :meth:`DualPowerModel.summary` (outcome, thresholds, explanation, ...) plus
        ``resolved``: the run has ended, at resolution or its horizon.
    """
    return {**model.summary(), "resolved": not model.running}


def _golden(i: np.ndarray, a: float) -> np.ndarray:
    # A low-discrepancy offset in [-0.4, 0.4): spreads a neighbourhood's firms over its cell
    # without a random draw (the layout must not touch the model's generator).
    return ((i * a) % 1.0 - 0.5) * 0.8


def city_tables(model: DualPowerModel) -> dict[str, pd.DataFrame]:
    """Today's city as tables for :func:`~dualpower_sim.plots.plot_city_map`.

    Args:
        model: A model.

    Returns:
        ``neighbourhoods`` (x, y, mobilized, blockading), ``firms`` (x, y, size, striking) and
        ``councils`` (indexed by unit: x, y, kind, federated, members, revolutionary).
    """
    city, world = model.city, model.world
    xy = city.neighbourhood_xy
    mobilized = world.population.mobilized().astype(float)
    quorum = model._measure.quorum
    # Plain sums, not the rules' incremental counters, so drawing never touches their state.
    share = world.sum_by_neighbourhood(mobilized) / np.maximum(world.residents, 1)
    neighbourhoods = pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "mobilized": share, "blockading": share >= quorum}
    )
    ids = np.arange(city.n_firms)
    home = xy[city.firm_neighbourhood]
    firm_share = world.sum_by_firm(mobilized) / np.maximum(city.firm_size, 1)
    firms = pd.DataFrame(
        {
            "x": home[:, 0] + _golden(ids, 0.6180339887),
            "y": home[:, 1] + _golden(ids, 0.7548776662),
            "size": city.firm_size,
            "striking": firm_share >= quorum,
        }
    )
    table = world.councils
    units = np.flatnonzero(table.alive) if table is not None else np.zeros(0, dtype=np.int64)
    n_firms = city.n_firms
    work = units < n_firms
    # A workplace council sits at its firm, an assembly at its neighbourhood's centre.
    place = np.concatenate([firms[["x", "y"]].to_numpy(), xy.astype(float)])
    x, y = place[units].T if units.size else (np.zeros(0), np.zeros(0))
    councils = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "kind": np.where(work, "workplace", "territorial").astype(object),
            "federated": table.federated[units] if table is not None else np.zeros(0, bool),
            "members": table.members[units] if table is not None else np.zeros(0),
            "revolutionary": table.revolutionary[units] if table is not None else np.zeros(0),
        },
        index=pd.Index(units, name="unit"),
    )
    return {"neighbourhoods": neighbourhoods, "firms": firms, "councils": councils}


def federation_ties(model: DualPowerModel) -> pd.DataFrame:
    """Pairs of sitting councils whose members are tied, and how many ties join them.

    Args:
        model: A model.

    Returns:
        Columns ``a``, ``b`` (units, ``a < b``) and ``weight`` (ties between members).
    """
    world, table = model.world, model.world.councils
    empty = pd.DataFrame({"a": [], "b": [], "weight": []}).astype(int)
    network = world.network
    if table is None or not table.alive.any() or network.mix is None:
        return empty
    mobilized = world.population.mobilized()
    n = mobilized.size
    work = world.workplace_unit
    assert work is not None  # set with the councils
    nbhd = table.n_firms + world.population.neighbourhood
    # Membership as a sparse worker-by-unit matrix: a member of both a workplace council and an
    # assembly has two entries.
    rows, cols = [], []
    for unit_of in (work, nbhd):
        member = mobilized & table.alive[unit_of]
        rows.append(np.flatnonzero(member))
        cols.append(unit_of[member])
    r, c = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, table.alive.size))
    ties = sp.triu((m.T @ (network.mix != 0).astype(float) @ m).tocsr(), k=1).tocoo()
    return pd.DataFrame({"a": ties.row, "b": ties.col, "weight": ties.data.astype(int)})


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _figure(fig) -> Any:
    return solara.FigureMatplotlib(fig, format="png", dpi=80)


def _banner(model: DualPowerModel, s: Mapping[str, Any]) -> None:
    outcome = s["outcome"].replace("_", " ")
    if s["resolved"]:
        when = f" on day {s['resolved_step']}" if s["resolved_step"] is not None else ""
        text = f"Outcome: {outcome}{when}. {s['explanation'][:1].upper()}{s['explanation'][1:]}."
        if s["outcome"] == "council_power":
            solara.Success(text)
        elif s["outcome"] == "state_restored":
            solara.Error(text, icon="mdi-flag")
        else:
            solara.Warning(text)
    else:
        began = s["dual_power_began"]
        status = (
            f"dual power since day {began}"
            if began is not None and s["outcome"] == "unresolved"
            else "no dual power yet"
        )
        hint = " Press Step or ▶ to start." if model.steps == 0 else ""
        solara.Info(f"Day {model.steps} of {model.horizon}: {status}.{hint}")


def PowersView(model: DualPowerModel) -> Any:  # noqa: N802 - a Solara component
    """The two powers with the dual-power interval and events, under the outcome banner."""
    s = run_summary(model)
    with solara.Column() as main:
        _banner(model, s)
        # Shorter than the run figure, so that the banner and the figure fit their grid cell
        # together even when the banner explains the outcome at length.
        _figure(
            plots.plot_powers(
                model.indicators(),
                model.events(),
                thresholds=tuple(s["thresholds"]),
                outcome=s["outcome"] if s["resolved"] else None,
                figsize=(10.0, 4.2),
            )
        )
    return main


def MobilizationView(model: DualPowerModel) -> Any:  # noqa: N802
    """Mobilization overall and by layer (firms, neighbourhoods, campuses)."""
    return _figure(
        plots.plot_mobilization(
            model.indicators(), title="Mobilization", panels=("overall", "layers")
        )
    )


def CityMapView(model: DualPowerModel) -> Any:  # noqa: N802
    """The city's neighbourhoods, firms, blockades and councils today."""
    return _figure(
        plots.plot_city_map(**city_tables(model), title=f"The city on day {model.steps}")
    )


def FederationView(model: DualPowerModel) -> Any:  # noqa: N802
    """The councils as a network, for cities small enough to read it."""
    councils = city_tables(model)["councils"]
    if len(councils) > FEDERATION_MAX:
        return solara.Info(
            f"{len(councils)} councils sit: too many to draw as a network (the map shows them). "
            "Pick a smaller city to see the federation."
        )
    return _figure(plots.plot_federation(councils, federation_ties(model)))


def CouncilsView(model: DualPowerModel) -> Any:  # noqa: N802
    """Councils, cohesion and the revolutionary share over time."""
    majority = model._resolution.majority
    return _figure(plots.plot_councils(model.indicators(), majority=majority))


def StateView(model: DualPowerModel) -> Any:  # noqa: N802
    """Legitimacy, the army and the state's levers over time."""
    return _figure(plots.plot_state(model.indicators()))


#: The views, with the page (tab) each is on.
VIEWS: tuple[tuple[Callable[[DualPowerModel], Any], int], ...] = (
    (PowersView, 0),
    (CityMapView, 0),
    (MobilizationView, 0),
    (FederationView, 0),
    (CouncilsView, 1),
    (StateView, 1),
)


def model_params(scenario: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the scenario fixed, a slider or picker per knob.

    Args:
        scenario: The scenario the page shows.
        defaults: Where the sliders start (:func:`knob_defaults`).

    Returns:
        The mapping SolaraViz builds its inputs from.
    """
    params: dict[str, Any] = {
        "scenario": scenario,
        "n_workers": {
            "type": "Select",
            "value": DEFAULT_SIZE,
            "values": list(SIZES),
            "label": "Workers (press Reset)",
        },
        "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 100, "step": 1, "label": "Seed"},
    }
    for knob in KNOBS:
        params[knob.name] = {
            "type": "SliderFloat",
            "value": float(defaults[knob.name]),
            "min": knob.low,
            "max": knob.high,
            "step": knob.step,
            "label": knob.label,
        }
    params["cadre_placement"] = {
        "type": "Select",
        "value": defaults["cadre_placement"],
        "values": list(PLACEMENTS),
        "label": "Where the cadres are",
    }
    return params


#: Vuetify hides a slider's value until it is dragged, and squeezes the track beside a long
#: label; a student needs to read the values, so labels go above their sliders and each value
#: stays shown on its thumb.
SLIDER_CSS = """
.v-input__slot:has(.v-slider) { flex-wrap: wrap; }
.v-input__slot:has(.v-slider) > .v-label { flex: 1 0 100%; margin-bottom: 30px; }
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { font-size: 11px; }
"""


def _first_config() -> str:
    return os.environ.get(CONFIG_ENV) or "petrograd_1917"


@solara.component
def Page() -> None:  # noqa: N802
    """The app: a scenario picker above Mesa's controls, sliders and views."""
    first = _first_config()
    choices = list(dict.fromkeys([first, *scenario_names()]))
    scenario, set_scenario = solara.use_state(first)
    base = solara.use_memo(lambda: load_experiment(scenario, n_workers=DEFAULT_SIZE), [scenario])
    defaults = solara.use_memo(lambda: knob_defaults(base), [scenario])
    model = solara.use_memo(lambda: AppModel(scenario=scenario), [scenario])
    solara.Style(SLIDER_CSS)
    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select("Scenario", values=choices, value=scenario, on_value=set_scenario)
            # Text, not Markdown: solara's Markdown fetches KaTeX from a CDN, which an offline
            # machine cannot reach.
            solara.Text(base.description)
            solara.HTML(
                tag="p",
                unsafe_innerHTML=(
                    "The sliders start at this scenario's values. Move them, then press "
                    "<b>Reset</b> to build the new city. <b>Step</b> runs as many days as the "
                    "Render Interval (5 to start with); <b>&#9654;</b> runs on to the outcome."
                ),
                style="margin-top: 8px; font-size: 14px;",
            )
    SolaraViz(
        model,
        components=list(VIEWS),
        model_params=model_params(scenario, defaults),
        name=f"Dual power: {base.name}",
        # Mesa's Play Interval slider moves in tens from 1 ms; redrawing takes far longer anyway.
        play_interval=1,
        render_interval=5,
    ).key(f"viz-{scenario}")


def check_config(source: str) -> Experiment:
    """Check the config the app will open before the server starts.

    Args:
        source: A preset's name or a config file.

    Returns:
        The loaded experiment.

    Raises:
        ConfigError: If the config cannot be loaded.
    """
    experiment = load_experiment(source, n_workers=DEFAULT_SIZE)
    knob_defaults(experiment)
    return experiment
