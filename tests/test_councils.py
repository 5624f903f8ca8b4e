import numpy as np
import pytest

from conftest import assert_freed_when_dropped
from dualpower_sim import Council, DualPowerModel, HardshipShock, ParameterError, State
from dualpower_sim.councils import blau, cohesion
from dualpower_sim.rules import CouncilRule, Resolution, StateStrategy

SHOCK = [HardshipShock(start=3, duration=40, magnitude=0.7)]


@pytest.fixture(scope="module")
def model():
    return DualPowerModel(n_workers=3_000, seed=2, shocks=SHOCK, horizon=60).run(30)


def test_blau_and_cohesion():
    assert blau([5, 5]) == pytest.approx(0.5)
    assert blau([10, 0]) == 0.0 and blau([0, 0]) == 0.0
    population = [np.array([50.0, 50.0]), np.array([70.0, 30.0]), np.array([60.0, 30.0, 10.0])]
    assert cohesion(population, population) == pytest.approx(1.0)
    one_trade = [np.array([40.0, 0.0]), np.array([28.0, 12.0]), np.array([24.0, 12.0, 4.0])]
    assert cohesion(one_trade, population) == pytest.approx(2 / 3)
    empty = [np.zeros(2), np.zeros(2), np.zeros(3)]
    assert cohesion(empty, population) == 0.0


def test_councils_are_mesa_agents_mirroring_the_table(model):
    table = model.world.councils
    agents = model.councils
    assert len(agents) == table.count > 0
    assert set(model.agents_by_type[Council]) == set(agents)
    c = agents[0]
    assert c.members == int(table.members[c.unit]) and c.kind in ("workplace", "territorial")
    assert c.delegates == int(np.ceil(c.members / 500))
    assert isinstance(model.state, State) and "legitimacy" in repr(model.state)


def test_members_are_the_mobilized_of_their_unit(model):
    table = model.world.councils
    pop = model.city.population
    mob = pop.mobilized()
    nb = pop.neighbourhood
    for unit in np.flatnonzero(table.alive[table.n_firms :])[:5] + table.n_firms:
        assert table.members[unit] == mob[nb == unit - table.n_firms].sum()
    for unit in np.flatnonzero(table.alive[: table.n_firms])[:5]:
        assert table.members[unit] == mob[model.world.workplace_unit == unit].sum()


def test_councils_form_only_past_the_threshold_and_dissolve_when_members_fall_away():
    m = DualPowerModel(
        n_workers=3_000, seed=2, shocks=SHOCK, horizon=200, councils=CouncilRule(min_members=10**6)
    )
    m.run(30)
    assert m.world.councils.count == 0 and m.outcome == "no_dual_power"
    m = DualPowerModel(
        n_workers=3_000,
        seed=2,
        shocks=SHOCK,
        horizon=200,
        state=StateStrategy(repression_weight=0, concession_weight=0, offensive_readiness=0),
    )
    m.run(30)
    formed = m.world.councils.count
    assert formed > 0
    m.city.population.status[:] = 0  # everybody goes home
    m.pipeline.councils.step(m.world, m.rng)
    assert m.world.councils.count == 0
    assert (m.events()["event"] == "council_dissolved").sum() >= formed


def test_models_with_councils_are_freed_when_dropped():
    def make():
        m = DualPowerModel(n_workers=2_000, seed=2, shocks=SHOCK).run(25)
        assert len(m.councils) > 0
        return m

    assert_freed_when_dropped(make)


def test_rule_parameters_are_checked():
    with pytest.raises(ParameterError, match="summing to 1"):
        Resolution(production_weight=0.9)
    with pytest.raises(ParameterError, match="sectionalism"):
        CouncilRule(sectionalism=1.5)
    with pytest.raises(ParameterError, match="councils"):
        DualPowerModel(n_workers=100, councils=StateStrategy())
    with pytest.raises(ParameterError, match="horizon"):
        DualPowerModel(n_workers=100, horizon=0)


def test_same_seed_same_run_with_councils_and_state():
    a = DualPowerModel(n_workers=2_000, seed=5, shocks=SHOCK).run(60)
    b = DualPowerModel(n_workers=2_000, seed=5, shocks=SHOCK).run(60)
    assert a.indicators().equals(b.indicators())
    assert a.events().equals(b.events())


def test_soldiers_count_once_in_the_state_coercion():
    m = DualPowerModel(n_workers=2_000, seed=1)
    s = m.world.soldiers
    s.defected[: s.n // 2] = True
    m.world.levels.deployed = 1.0
    police = m.world.officers().sum()
    m.pipeline.resolution._measure(m.world)
    p = m.world.power
    supply = p.supply
    expected_coercion = (police + s.n - s.n // 2) * supply / (police + s.n)  # all in the city
    loyalty = s.loyalty[~s.defected].mean()
    consent = m.pipeline.resolution.consent_weight
    force = expected_coercion * loyalty
    assert p.state_power == pytest.approx(
        consent * m.world.legitimacy * supply + (1 - consent) * force
    )


def test_the_horizon_settles_runs_whose_councils_have_fallen():
    m = DualPowerModel(n_workers=2_000, seed=2, shocks=SHOCK, horizon=200)
    m.run(30)
    v = m.world.verdict
    if v.dual_power_began < 0:
        pytest.skip("no dual power in this run")
    m.city.population.status[:] = 0  # everyone goes home: the councils fall
    v.weak_days = 1
    m.horizon = m.steps + 1
    m.run()
    assert m.outcome in ("state_restored", "co_opted")


def test_events_have_the_same_types_empty_or_not_and_rules_check_their_shares():
    quiet = DualPowerModel(n_workers=500, seed=1, horizon=5).events()
    busy = DualPowerModel(n_workers=2_000, seed=2, shocks=SHOCK).run(30).events()
    assert len(quiet) == 0 and len(busy) > 0
    assert list(quiet.dtypes) == list(busy.dtypes)
    with pytest.raises(ParameterError, match="dissolve_share"):
        CouncilRule(formation_share=0.1, dissolve_share=0.2)
