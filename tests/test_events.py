"""Scheduled lever events: the state's and the workers' levers changed on their day."""

import numpy as np
import pytest

from dualpower_sim import (
    CityParams,
    ConfigError,
    DeterrenceRule,
    DualPowerModel,
    Explicit,
    HardshipShock,
    LeverEvent,
    ParameterError,
    Policing,
    Status,
    ThresholdRule,
    load_experiment,
)

NO_POLICE = Policing(arrest_rate=0.0)


def test_a_legitimacy_drop_shows_in_the_indicators_and_moves_the_workers_on_its_day():
    # Epstein's rule with no police: mobilized iff H (1 - L) > T, so the day's workers must
    # already see the new legitimacy.
    drop = LeverEvent(start=4, lever="legitimacy", mode="set", value=0.3)
    m = DualPowerModel(
        dual_power=False,
        n_workers=3_000,
        mobilization=DeterrenceRule(),
        policing=NO_POLICE,
        coercion=0.0,
        legitimacy=0.9,
        lever_events=[drop],
        seed=2,
    )
    pop = m.city.population
    for day in range(1, 6):
        m.step()
        legitimacy = 0.9 if day < 4 else 0.3
        assert m.indicators()["legitimacy"].iloc[day] == legitimacy
        np.testing.assert_array_equal(
            pop.status == Status.MOBILIZED, pop.hardship * (1 - legitimacy) > 0.1
        )
    assert m.indicators()["mobilized"].iloc[3] < m.indicators()["mobilized"].iloc[4]
    log = m.events()
    assert log[["step", "event"]].values.tolist() == [[4, "lever_event"]]
    assert log["magnitude"].iloc[0] == 0.3 and "legitimacy set to 0.3" in log["detail"].iloc[0]


def test_the_state_moves_legitimacy_on_from_the_events_level():
    # In the struggle for power the state's own dynamics go on from the level the event set.
    kw = dict(n_workers=2_000, seed=1)
    before = DualPowerModel(**kw).run(10).indicators()["legitimacy"]
    m = DualPowerModel(
        lever_events=[LeverEvent(start=6, lever="legitimacy", mode="add", value=-0.4)], **kw
    ).run(10)
    after = m.indicators()["legitimacy"]
    np.testing.assert_array_equal(after.iloc[:6], before.iloc[:6])  # the same until the day
    assert after.iloc[6] == pytest.approx(before.iloc[5] - 0.4 + (before.iloc[6] - before.iloc[5]))


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("set", 0.3, [0.8, 0.675, 0.55, 0.425, 0.3, 0.3]),
        ("add", -0.4, [0.8, 0.7, 0.6, 0.5, 0.4, 0.4]),
        ("multiply", 0.0625, [0.8, 0.4, 0.2, 0.1, 0.05, 0.05]),
    ],
)
def test_a_change_spread_over_days_is_even_and_complete_on_the_last(mode, value, expected):
    event = LeverEvent(start=2, lever="legitimacy", mode=mode, value=value, over_days=4)
    m = DualPowerModel(
        dual_power=False, n_workers=500, legitimacy=0.8, lever_events=[event], seed=1
    ).run(6)
    np.testing.assert_allclose(m.indicators()["legitimacy"].iloc[1:], expected, rtol=1e-12)
    if mode == "set":
        assert m.indicators()["legitimacy"].iloc[5] == value  # exactly, not nearly


def test_a_set_ramp_ends_exactly_on_its_value_whatever_moved_the_lever_meanwhile():
    ramp = LeverEvent(start=2, lever="legitimacy", mode="set", value=0.2, over_days=5)
    jolt = LeverEvent(start=3, lever="legitimacy", mode="add", value=0.5)
    m = DualPowerModel(
        dual_power=False, n_workers=500, legitimacy=0.9, lever_events=[ramp, jolt], seed=1
    ).run(7)
    assert m.indicators()["legitimacy"].iloc[6] == 0.2


def test_a_war_lost_halves_the_soldiers_loyalty_and_a_coup_doubles_the_police():
    events = [
        LeverEvent(start=3, lever="loyalty", mode="multiply", value=0.5),
        LeverEvent(start=3, lever="coercion", mode="multiply", value=2.0),
        LeverEvent(start=3, lever="repression", mode="set", value=1.0),
    ]
    kw = dict(n_workers=2_000, seed=4)
    quiet = DualPowerModel(**kw)
    m = DualPowerModel(lever_events=events, **kw)
    quiet.run(2)
    m.run(2)
    loyalty = m.world.soldiers.loyalty.copy()
    police = m.world.officers().sum()
    m.run(1)
    # No crowds in a quiet city: nothing else moves the soldiers' loyalty that day.
    np.testing.assert_allclose(m.world.soldiers.loyalty, loyalty / 2)
    assert m.world.levels.base_coercion == pytest.approx(2 * quiet.world.levels.base_coercion)
    assert m.world.officers().sum() > 1.9 * police
    # The state's strategy moved repression on from 1 the same day, toward its target of 0.
    assert m.indicators()["repression"].iloc[3] == pytest.approx(0.8)
    assert list(m.events()["event"]) == ["lever_event"] * 3


def test_workers_levers_by_sector():
    m = DualPowerModel(
        n_workers=2_000,
        seed=3,
        lever_events=[
            LeverEvent(start=1, lever="risk_aversion", mode="set", value=0.0, sector="textiles")
        ],
    )
    pop = m.city.population
    textiles = pop.sector == pop.sector_names.index("textiles")
    others = pop.risk_aversion[~textiles].copy()
    m.step()
    assert (pop.risk_aversion[textiles] == 0).all()
    np.testing.assert_array_equal(pop.risk_aversion[~textiles], others)


def test_raising_every_threshold_ends_granovetters_riot_the_day_after():
    stop = LeverEvent(start=30, lever="threshold", mode="set", value=2.0)
    m = DualPowerModel(
        dual_power=False,
        n_workers=100,
        city=CityParams(topology="complete"),
        mobilization=ThresholdRule(thresholds=Explicit(np.arange(100) / 100)),
        lever_events=[stop],
        seed=0,
    ).run(31)
    mobilized = m.indicators()["mobilized"]
    assert mobilized.iloc[29] == 0.29  # one more each day until the event
    assert mobilized.iloc[30] == 0.0  # on its day nobody's neighbours reach a threshold of 2
    assert (m.city.population.threshold == 2.0).all() and m.workers[0].threshold == 2.0


def test_impossible_events_are_refused_when_the_model_is_built():
    with pytest.raises(ParameterError, match=r"lever_events\[0\].lever = 'repression'"):
        DualPowerModel(
            n_workers=200, dual_power=False, lever_events=[LeverEvent(lever="repression")]
        )
    with pytest.raises(ParameterError, match="thresholds need 'threshold'"):
        DualPowerModel(n_workers=200, lever_events=[LeverEvent(lever="threshold")])
    with pytest.raises(ParameterError, match="'textiles'"):
        DualPowerModel(
            n_workers=200, lever_events=[LeverEvent(lever="risk_aversion", sector="textile")]
        )
    with pytest.raises(ParameterError, match="allowed: a LeverEvent or a list of them"):
        DualPowerModel(n_workers=200, lever_events=[HardshipShock()])
    with pytest.raises(ParameterError, match=r"mode = 'set' \(the new legitimacy\)"):
        LeverEvent(mode="set", value=1.5)
    with pytest.raises(ParameterError, match="no sector for the state's lever"):
        LeverEvent(lever="legitimacy", sector="textiles")
    with pytest.raises(ParameterError, match="'add', 'set', 'multiply'"):
        LeverEvent(mode="scale")


def test_lever_events_in_a_config_round_trip_and_are_checked(tmp_path):
    path = tmp_path / "defeat.toml"
    path.write_text(
        'extends = "petrograd_1917"\nn_workers = 6000\nhorizon = 5\n'
        '[[lever_events]]\nstart = 3\nlever = "legitimacy"\nvalue = -0.2\n'
        '[[lever_events]]\nstart = 3\nlever = "loyalty"\nmode = "multiply"\nvalue = 0.5\n'
    )
    exp = load_experiment(path)
    assert exp.kwargs["lever_events"][1] == LeverEvent(
        start=3, lever="loyalty", mode="multiply", value=0.5
    )
    assert exp.config["lever_events"][0] == {
        "start": 3,
        "lever": "legitimacy",
        "mode": "add",
        "value": -0.2,
        "over_days": 1,
        "sector": None,
    }
    again = tmp_path / "again.toml"
    again.write_text(exp.to_toml())
    assert load_experiment(again).config_hash == exp.config_hash
    m = exp.build_model().run()
    assert list(m.events().query("event == 'lever_event'")["step"]) == [3, 3]
    # Configs without events have no lever_events key, so their hashes did not change.
    assert "lever_events" not in load_experiment("petrograd_1917").config
    path.write_text('dual_power = false\n[[lever_events]]\nlever = "loyalty"\n')
    with pytest.raises(ConfigError, match=r"defeat.toml: lever_events.0.lever = 'loyalty'"):
        load_experiment(path)
    path.write_text('[[lever_events]]\nlever = "legitimacy"\nvalue = 2\n')
    with pytest.raises(ConfigError, match=r"lever_events.0.value = 2.0 .*-1.0 <= value <= 1.0"):
        load_experiment(path)


def test_hardship_shocks_are_untouched_by_lever_events():
    shock = HardshipShock(start=2, duration=3, magnitude=0.3)
    kw = dict(n_workers=1_500, shocks=[shock], seed=6)
    plain = DualPowerModel(**kw).run(8).indicators()
    # An event that changes nothing (add 0) leaves the run as it was, draw for draw.
    noop = LeverEvent(start=2, lever="legitimacy", mode="add", value=0.0)
    with_event = DualPowerModel(lever_events=[noop], **kw).run(8).indicators()
    assert plain.equals(with_event)
