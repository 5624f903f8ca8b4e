"""Experiment configs: presets, merging, the resolved config and its hash, and every bad input."""

import inspect
import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualpower_sim import DualPowerModel
from dualpower_sim.config import (
    RUN_KEYS,
    SECTIONS,
    ConfigError,
    dumps,
    experiments_dir,
    load_experiment,
    parse_assignment,
    scenario_names,
)

PRESETS = (
    "petrograd_1917",
    "st_petersburg_1905",
    "paris_1871",
    "el_alto_2003",
    "gdansk_1980",
    "france_2006",
    "eastern_europe_1989",
    "us_2003",
)


def without_none(value):
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_preset_is_there_and_cites_its_sources():
    assert set(PRESETS) <= set(scenario_names())
    for name in PRESETS:
        text = (experiments_dir() / f"{name}.toml").read_text()
        assert "docs/sources.md" in text and "guess" in text.lower(), name
        assert load_experiment(name).description


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_builds_and_runs(name):
    exp = load_experiment(name, horizon=25)
    model = exp.build_model().run()
    assert model.steps <= 25
    df = model.indicators()
    assert df[["council_power", "state_power", "mobilized"]].stack().between(0, 1).all()
    # The resolved config is what ran: it loads back to the same experiment.
    again = tomllib.loads(exp.to_toml())
    assert again == without_none(exp.config)


def test_presets_scale_by_one_option():
    exp = load_experiment("el_alto_2003", n_workers=40_000)
    assert exp.kwargs["n_workers"] == 40_000
    assert exp.kwargs["city"].territory.neighbourhoods == 550  # fixed, whatever the size


def test_run_keys_default_to_the_models_defaults_except_the_seed():
    signature = inspect.signature(DualPowerModel.__init__).parameters
    for key, (default, _, _) in RUN_KEYS.items():
        if key != "seed":
            assert signature[key].default == default, key
    assert RUN_KEYS["seed"][0] == 1  # a config always runs reproducibly
    assert set(SECTIONS) | {"mobilization", "shocks"} <= set(signature)


def test_the_hash_identifies_the_experiment_not_the_seed(tmp_path):
    base = load_experiment("petrograd_1917")
    assert base.config_hash == load_experiment("petrograd_1917").config_hash
    assert load_experiment("petrograd_1917", seed=9).config_hash == base.config_hash
    changed = load_experiment("petrograd_1917", ["councils.formation_share=0.45"])
    assert changed.config_hash != base.config_hash
    assert len(base.config_hash) == 64


def test_extends_merges_tables_and_replaces_lists_and_switched_kinds(tmp_path):
    path = write(
        tmp_path,
        """
extends = "petrograd_1917"
description = "what if the garrison had been loyal"
[soldiers]
loyalty = { kind = "beta", a = 9, b = 1 }
[mobilization]
rule = "threshold"
[[shocks]]
start = 3
duration = 5
magnitude = 0.1
""",
    )
    exp = load_experiment(path)
    base = load_experiment("petrograd_1917")
    assert exp.config["soldiers"]["loyalty"] == {"kind": "beta", "a": 9.0, "b": 1.0}
    assert exp.config["soldiers"]["per_worker"] == base.config["soldiers"]["per_worker"]
    assert exp.config["city"] == base.config["city"]  # untouched tables come from the base
    assert exp.config["mobilization"]["rule"] == "threshold"
    assert "example_weight" not in exp.config["mobilization"]  # the combined rule's key is gone
    assert exp.config["shocks"] == [
        {"start": 3, "duration": 5, "magnitude": 0.1, "sector": None, "aim": "economic"}
    ]
    assert exp.layers[0].endswith("petrograd_1917.toml") and exp.layers[1].endswith("exp.toml")


def test_a_config_may_extend_a_file_beside_it(tmp_path):
    write(tmp_path, 'description = "base"\nlegitimacy = 0.4\n', "base.toml")
    path = write(tmp_path, 'extends = "base.toml"\ncoercion = 0.1\n')
    exp = load_experiment(path)
    assert exp.kwargs["legitimacy"] == 0.4 and exp.kwargs["coercion"] == 0.1


def test_overrides_are_typed_and_reach_list_items():
    assert parse_assignment("councils.formation_share=0.4") == ("councils.formation_share", 0.4)
    assert parse_assignment("dual_power=false") == ("dual_power", False)
    assert parse_assignment("mobilization.rule=threshold") == ("mobilization.rule", "threshold")
    assert parse_assignment("city.traits.allegiance=[0.5, 0.3, 0.2]")[1] == [0.5, 0.3, 0.2]
    exp = load_experiment("petrograd_1917", ["shocks.0.magnitude=0.5", "horizon=30"])
    assert exp.kwargs["shocks"][0].magnitude == 0.5 and exp.kwargs["horizon"] == 30
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignment("no equals sign")


def test_written_toml_round_trips_with_comments_and_unset_keys():
    exp = load_experiment("el_alto_2003")
    text = exp.to_toml()
    assert "# Number of workers." in text
    assert "# markets = (not set)" in text  # an optional parameter left to be derived
    assert tomllib.loads(text) == without_none(exp.config)
    assert tomllib.loads(exp.to_toml(comments=False)) == without_none(exp.config)


# --------------------------------------------------------------------------------------------
# Bad input: one message naming the file, the key and what is allowed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[councils]\nformaton_share = 0.4\n",
            "unknown key 'councils.formaton_share' (did you mean 'formation_share'?)",
        ),
        ("n_wokers = 100\n", "unknown key 'n_wokers' (did you mean 'n_workers'?)"),
        ("[city.workplacs]\n", "did you mean 'workplaces'?"),
        (
            "[councils]\nformation_share = 'half'\n",
            "councils.formation_share = 'half' is not allowed; allowed: a number",
        ),
        (
            "[councils]\nformation_share = 1.5\n",
            "councils.formation_share = 1.5 is not allowed; allowed: 0.0 < formation_share <= 1.0",
        ),
        ("n_workers = 2.5\n", "n_workers = 2.5 is not allowed; allowed: an integer"),
        ("dual_power = 1\n", "dual_power = 1 is not allowed; allowed: true or false"),
        ("councils = 3\n", "councils = 3 is not allowed; allowed: a table"),
        (
            "[mobilization]\nrule = 'riot'\n",
            "mobilization.rule = 'riot' is not allowed; allowed: 'threshold', 'deterrence'",
        ),
        (
            "[city.traits]\nhardship = { kind = 'gamma' }\n",
            "city.traits.hardship.kind = 'gamma' is not allowed; allowed: 'constant'",
        ),
        (
            "[city.traits]\nhardship = { kind = 'beta', a = -1 }\n",
            "city.traits.hardship.a = -1.0 is not allowed",
        ),
        ("[[shocks]]\nstart = 0\n", "shocks.0.start = 0 is not allowed; allowed: 1 <= start"),
        (
            "[[shocks]]\nsector = 'mining'\n",
            "shocks.0.sector = 'mining' is not allowed; allowed: one of the city's sectors",
        ),
        (
            "[councils]\ndissolve_share = 0.6\n",
            "councils.dissolve_share = 0.6 is not allowed; allowed: below formation_share",
        ),
        (
            "[city.workplaces.sizes]\nkind = 'bands'\nbands = [[1, 10]]\n",
            "city.workplaces.sizes.bands.0 = [1, 10] is not allowed; allowed: [low, high, share]",
        ),
        ("seed = -4\n", "seed = -4 is not allowed; allowed: 0 <= seed"),
        ("description = 5\n", "description = 5 is not allowed; allowed: text"),
    ],
)
def test_each_bad_value_gets_one_message_naming_file_key_and_allowed(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    message = str(err.value)
    assert message.startswith(str(path)) or message.startswith("exp.toml")
    assert expected in message, message
    assert "\n" not in message


def test_malformed_toml_names_the_line(tmp_path):
    path = write(tmp_path, 'description = "x"\n[councils\nformation_share = 0.4\n')
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        load_experiment(path)


def test_missing_files_and_scenarios_are_named(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(
        ConfigError,
        match=r"no such file or scenario \(did you mean petrograd_1917\?\); scenarios: .*paris",
    ):
        load_experiment("petrograd_1918")
    with pytest.raises(ConfigError, match=r"no such file or scenario; scenarios: .*petrograd_1917"):
        load_experiment("zzz")
    path = write(tmp_path, 'extends = "nowhere"\n')
    with pytest.raises(ConfigError, match=r"nowhere.* \(extended by .*exp.toml\)"):
        load_experiment(path)
    path = write(tmp_path, 'extends = "el_alto_203"\n', "typo.toml")
    with pytest.raises(ConfigError, match=r"did you mean el_alto_2003\?.*extended by .*typo.toml"):
        load_experiment(path)


def test_an_extends_loop_is_refused(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ConfigError, match="extends itself in a loop"):
        load_experiment(tmp_path / "a.toml")


def test_the_message_names_the_layer_that_set_the_bad_key(tmp_path):
    path = write(tmp_path, 'extends = "petrograd_1917"\n')
    with pytest.raises(
        ConfigError, match=r"^override councils.min_members=0: councils.min_members"
    ):
        load_experiment(path, ["councils.min_members=0"])
    with pytest.raises(ConfigError, match=r"^n_workers=1: n_workers = 1"):
        load_experiment(path, n_workers=1)


def test_the_library_names_overrides_as_they_were_passed_not_as_command_line_options():
    with pytest.raises(ConfigError) as caught:
        load_experiment("paris_1871", horizon=2_000_000)
    assert str(caught.value).startswith("horizon=2000000: horizon = 2000000 is not allowed")
    for overrides in (["extends=x"], {"extends": "x"}, ["nonsense"]):
        with pytest.raises(ConfigError) as caught:
            load_experiment("paris_1871", overrides)
        assert str(caught.value).startswith("override ") and "--" not in str(caught.value)
        assert "command line" not in str(caught.value)
    exp = load_experiment("paris_1871", ["councils.min_members=5"], seed=4, horizon=20)
    assert exp.layers[1:] == ("override councils.min_members=5", "seed=4", "horizon=20")


def test_unknown_keys_are_blamed_on_their_own_layer_and_suggest_a_dotted_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^override councils.formaton_share=0.3: unknown key"):
        load_experiment("petrograd_1917", ["councils.formaton_share=0.3"])
    path = write(tmp_path, 'extends = "petrograd_1917"\n[soldiers]\nloyalty = {kind="beta", c=1}\n')
    with pytest.raises(ConfigError, match=r"^exp.toml: unknown key 'soldiers.loyalty.c'|exp.toml"):
        load_experiment(path)
    with pytest.raises(
        ConfigError, match=r"'formation_share' \(did you mean 'councils.formation_share'"
    ):
        load_experiment("petrograd_1917", ["formation_share=0.3"])
    with pytest.raises(ConfigError, match=r"allowed in \[mobilization\] \(rule 'combined'\)"):
        load_experiment("petrograd_1917", ["mobilization.seed_share=0.3"])
    with pytest.raises(ConfigError, match="n_workers = true is not allowed"):
        load_experiment("petrograd_1917", ["n_workers=true"])


def test_a_config_can_name_itself_and_its_saved_copy_keeps_the_name(tmp_path):
    exp = load_experiment("paris_1871")
    saved = write(tmp_path, exp.to_toml(), "config.toml")
    again = load_experiment(saved)
    assert again.name == "paris_1871" and again.config_hash == exp.config_hash


def test_a_size_the_city_cannot_take_is_refused_when_building(tmp_path):
    exp = load_experiment("petrograd_1917", n_workers=1000)
    with pytest.raises(ConfigError, match="n_workers = 1000 is not allowed"):
        exp.build_model()


# --------------------------------------------------------------------------------------------
# Property tests: whatever is fed in, a config either loads or fails with a ConfigError
# --------------------------------------------------------------------------------------------

KEYS = [
    *RUN_KEYS,
    "description",
    "city.territorial_share",
    "city.workplaces.shop_size",
    "city.traits.union_share",
    "city.traits.allegiance",
    "city.traits.hardship",
    "city.workplaces.sizes",
    "city.territory.neighbourhoods",
    "councils.formation_share",
    "councils.min_members",
    "debate.cadres",
    "debate.cadre_share",
    "debate.placement",
    "state.offensive_readiness",
    "resolution.majority",
    "mobilization.rule",
    "mobilization.k",
    "policing.arrest_rate",
    "soldiers.loyalty",
    "bogus",
    "councils.bogus",
    "city.nowhere.deep",
]

scalars = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.booleans(),
    st.text(string.ascii_letters + " _", max_size=8),
    st.sampled_from(["threshold", "combined", "beta", "workplace", "bands"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.sampled_from(["kind", "a", "b", "median", "sigma", "bands"]), scalars),
)


def nest(flat: dict) -> dict:
    out: dict = {}
    for dotted, value in flat.items():
        node = out
        *parents, last = dotted.split(".")
        for part in parents:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            node[last] = value
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flat=st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_random_configs_load_or_fail_with_a_clear_message(tmp_path, flat):
    config = nest(flat)
    try:
        text = dumps(config, comments=False)
    except TypeError:
        return  # not expressible in TOML (cannot reach a config file)
    path = write(tmp_path, text, "random.toml")
    try:
        exp = load_experiment(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("random.toml") or str(path) in message, message
        assert " is not allowed" in message or "unknown key" in message or "TOML" in message
        return
    assert tomllib.loads(exp.to_toml()) == without_none(exp.config)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=60))
def test_random_text_loads_or_fails_with_a_clear_message(tmp_path, text):
    path = write(tmp_path, text, "junk.toml")
    try:
        load_experiment(path)
    except ConfigError as exc:
        assert "junk.toml" in str(exc)
