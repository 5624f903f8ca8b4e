import numpy as np
import pytest
from scipy.stats import norm

from dualpower_sim import (
    CityParams,
    CombinedRule,
    Constant,
    DeterrenceRule,
    DualPowerModel,
    Explicit,
    HardshipShock,
    Normal,
    ParameterError,
    Policing,
    Status,
    ThresholdRule,
    make_rule,
)
from dualpower_sim.rules import StateStrategy
from dualpower_sim.rules.mobilization import _local_arrest_probability, arrest_probability

COMPLETE = CityParams(topology="complete")
NO_POLICE = Policing(arrest_rate=0.0)


def granovetter(thresholds, steps=150):
    m = DualPowerModel(
        dual_power=False,
        n_workers=len(thresholds),
        city=COMPLETE,
        mobilization=ThresholdRule(thresholds=Explicit(thresholds)),
        policing=NO_POLICE,
        coercion=0.0,
        seed=0,
    )
    return m.run(steps)


def test_granovetter_uniform_thresholds_mobilize_everyone():
    m = granovetter(np.arange(100) / 100)
    assert m.city.population.counts()["mobilized"] == 100
    # One more worker joins per day: the riot grows by exactly one each step.
    np.testing.assert_allclose(
        m.indicators()["mobilized"].iloc[:6], [0, 0.01, 0.02, 0.03, 0.04, 0.05]
    )


def test_granovetter_moving_one_threshold_stops_the_riot():
    thresholds = np.arange(100) / 100
    thresholds[1] = 0.02
    m = granovetter(thresholds)
    assert m.city.population.counts()["mobilized"] == 1
    assert m.workers[0].status is Status.MOBILIZED


def test_well_mixed_threshold_cascade_reaches_the_smallest_fixed_point():
    # Granovetter (1978): in a well-mixed population the final share is the smallest fixed point
    # of r = F(r), F the cumulative distribution of thresholds (here a normal clipped at 0).
    mu, sd, n = 0.25, 0.1, 40_000
    m = DualPowerModel(
        dual_power=False,
        n_workers=n,
        city=COMPLETE,
        mobilization=ThresholdRule(thresholds=Normal(mu, sd)),
        policing=NO_POLICE,
        coercion=0.0,
        seed=3,
    ).run(200)
    r = 0.0
    for _ in range(10_000):
        r = norm.cdf((r - mu) / sd)
    assert m.indicators()["mobilized"].iloc[-1] == pytest.approx(r, abs=0.01)
    # ... and with a lower mean the fixed point jumps to almost everyone (Kuran's tipping).
    m2 = DualPowerModel(
        dual_power=False,
        n_workers=n,
        city=COMPLETE,
        mobilization=ThresholdRule(thresholds=Normal(0.15, sd)),
        policing=NO_POLICE,
        coercion=0.0,
        seed=3,
    ).run(200)
    assert m2.indicators()["mobilized"].iloc[-1] > 0.95


def test_seed_share_initiators_stay_mobilized():
    rule = ThresholdRule(thresholds=Constant(2.0), seed_share=0.1)
    m = DualPowerModel(
        dual_power=False, n_workers=5_000, mobilization=rule, policing=NO_POLICE, seed=1
    )
    initial = m.indicators()["mobilized"].iloc[0]
    assert initial == pytest.approx(0.1, abs=0.015)
    m.run(5)
    assert m.indicators()["mobilized"].iloc[-1] == initial  # nobody can follow a threshold of 2


def test_sticky_workers_stay_mobilized_when_neighbours_go_home():
    theta = np.full(1000, 0.5)
    start = np.zeros(1000, dtype=bool)
    for sticky, expected in ((False, 0.0), (True, 0.3)):
        m = DualPowerModel(
            dual_power=False,
            n_workers=1000,
            city=COMPLETE,
            policing=NO_POLICE,
            coercion=0.0,
            seed=1,
            mobilization=ThresholdRule(thresholds=Explicit(theta), sticky=sticky),
        )
        start[:300] = True
        m.city.population.status[start] = Status.MOBILIZED
        m.run(3)
        assert m.indicators()["mobilized"].iloc[-1] == pytest.approx(expected)


def test_arrest_probability_forms():
    police, active = np.array([3.0, 3.0, 1.0, 5.0]), np.array([2.0, 4.0, 1.0, 2.0])
    literal = arrest_probability(police, active, 2.3, "literal")
    np.testing.assert_allclose(literal, 1 - np.exp(-2.3 * police / active))
    floor = arrest_probability(police, active, 2.3, "floor")
    np.testing.assert_allclose(floor, 1 - np.exp(-2.3 * np.array([1, 0, 1, 2])))
    rounded = arrest_probability(police, active, 2.3, "round")
    # 1.5 rounds to 2 and 2.5 to 2 (half to even, as Python's round in Mesa's example)
    np.testing.assert_allclose(rounded, 1 - np.exp(-2.3 * np.array([2, 1, 1, 2])))
    assert arrest_probability(np.array([1.0]), np.array([1.0]), 2.3, "literal")[0] == pytest.approx(
        0.9, abs=0.001
    )
    with pytest.raises(ParameterError):
        arrest_probability(police, active, 2.3, "ceil")


def crowd_step(form):
    # Half the city is already out; each neighbourhood of ~20 residents has one officer.
    from dualpower_sim import Territory, Traits, Uniform

    city = CityParams(
        territory=Territory(neighbourhoods=500),
        traits=Traits(hardship=Uniform(0, 1), risk_aversion=Uniform(0, 1)),
    )
    m = DualPowerModel(
        dual_power=False,
        n_workers=10_000,
        city=city,
        mobilization=DeterrenceRule(ca_form=form),
        legitimacy=0.5,
        coercion=0.05,
        policing=NO_POLICE,
        seed=0,
    )
    pop = m.city.population
    pop.status[: pop.n // 2] = Status.MOBILIZED
    world = m.world
    # Workers whose neighbourhood has more mobilized than officers before the step: C/A < 1.
    in_crowd = (world.police() < world.mobilized_by_neighbourhood())[pop.neighbourhood]
    m.step()
    return m, (pop.hardship * 0.5 > 0.1), in_crowd


def test_deterrence_collapses_when_the_crowd_outnumbers_the_police_only_with_floor():
    # As in NetLogo's Rebellion model: with floor(C/A) the arrest probability drops to zero once
    # actives outnumber the police, which is what makes Epstein's outbursts; the literal ratio
    # never reaches zero.
    floored, aggrieved, in_crowd = crowd_step("floor")
    assert in_crowd.mean() > 0.5
    mob = floored.city.population.status == Status.MOBILIZED
    # Where the crowd outnumbers the police, everyone aggrieved enough is out, whatever the risk.
    np.testing.assert_array_equal(mob[in_crowd & aggrieved], True)
    literal, _, _ = crowd_step("literal")
    assert (literal.city.population.status == Status.MOBILIZED).mean() < mob.mean() - 0.05


def test_deterrence_rule_is_the_epstein_inequality():
    m = DualPowerModel(
        dual_power=False,
        n_workers=3_000,
        mobilization=DeterrenceRule(),
        coercion=0.0,
        legitimacy=0.5,
        policing=NO_POLICE,
        seed=2,
    )
    m.step()
    pop = m.city.population
    # No police: P = 0, so the rule is simply G = H (1 - L) > T.
    expected = pop.hardship * 0.5 > 0.1
    np.testing.assert_array_equal(pop.status == Status.MOBILIZED, expected)


def test_combined_rule_reduces_to_deterrence_without_example():
    kw = dict(n_workers=5_000, legitimacy=0.5, coercion=0.05, seed=4)
    a = (
        DualPowerModel(
            dual_power=False,
            mobilization=CombinedRule(example_weight=0.0, fatigue=0.0, habituation=0.0),
            **kw,
        )
        .run(30)
        .indicators()
    )
    b = DualPowerModel(dual_power=False, mobilization=DeterrenceRule(), **kw).run(30).indicators()
    assert a.equals(b)


def test_policing_jails_and_releases():
    m = DualPowerModel(
        dual_power=False,
        n_workers=5_000,
        mobilization=ThresholdRule(thresholds=Constant(0.0)),
        policing=Policing(arrest_rate=1.0, max_jail_term=3),
        coercion=0.05,
        seed=1,
    )
    m.step()
    pop = m.city.population
    jailed = pop.status == Status.JAILED
    assert jailed.any()
    # Expected arrests: min(officers, mobilized) per neighbourhood.
    police = m.world.police()
    assert jailed.sum() == pytest.approx(police.sum(), rel=0.15)
    assert (pop.jail_release[jailed] <= 1 + 3).all()
    m.run(4)
    assert not (jailed & (pop.status == Status.JAILED) & (pop.jail_release <= m.steps)).any()
    # Terms are 1 to 3 days: everyone arrested on day 1 is out by day 4.
    assert not (pop.status[jailed] == Status.JAILED).all() or m.steps < 4
    assert (m.indicators()["jailed"].iloc[1:] > 0).all()


def test_hardship_shock_is_applied_and_lifted():
    shock = HardshipShock(start=3, duration=2, magnitude=0.5, sector="textiles")
    passive_state = StateStrategy(
        repression_weight=0.0, concession_weight=0.0, offensive_readiness=0.0
    )
    m = DualPowerModel(
        dual_power=False, n_workers=4_000, shocks=[shock], seed=1, state=passive_state
    )
    pop = m.city.population
    textiles = pop.sector == pop.sector_names.index("textiles")
    seen = []
    for _ in range(6):
        m.step()
        seen.append(m.world.hardship[textiles].mean() - pop.hardship[textiles].mean())
        np.testing.assert_array_equal(m.world.hardship[~textiles], pop.hardship[~textiles])
    assert seen[0] == 0 and seen[1] == 0 and seen[2] > 0.3 and seen[3] > 0.3 and seen[4] == 0
    with pytest.raises(ParameterError, match="textiles"):
        DualPowerModel(dual_power=False, n_workers=500, shocks=[HardshipShock(sector="textile")])


def test_make_rule_by_name_suggests_close_names():
    assert make_rule("threshold", seed_share=0.2).seed_share == 0.2
    with pytest.raises(ParameterError, match="did you mean 'threshold'"):
        make_rule("treshold")
    with pytest.raises(ParameterError, match="mobilization"):
        DualPowerModel(dual_power=False, n_workers=100, mobilization=Policing())
    with pytest.raises(ParameterError, match="'threshold', 'deterrence', 'combined'"):
        DualPowerModel(dual_power=False, n_workers=100, mobilization="policing")


def gleeson_cahalane(z, phi, rho0, kmax=80):
    """Final cascade size on an Erdos-Renyi network (Gleeson and Cahalane 2007, PRE 75, 056103).

    Exact for locally tree-like networks as n grows, with irreversible activation when at least a
    share phi of a node's k neighbours is active, and a random seed share rho0.
    """
    from scipy.stats import binom, poisson

    k = np.arange(kmax + 1)[:, None]
    m = np.arange(kmax + 1)[None, :]
    pk = poisson.pmf(k[:, 0], z)
    active = ((m >= phi * k - 1e-12) & (k > 0)).astype(float)  # F(m, k)
    q = rho0
    for _ in range(10_000):
        # q: probability that a neighbour reached along an edge is active (m of its k - 1 others).
        inner = np.where(m < k, binom.pmf(m, np.maximum(k - 1, 0), q), 0.0) * active
        new_q = rho0 + (1 - rho0) * np.sum(k[:, 0] * pk / z * inner.sum(axis=1))
        if abs(new_q - q) < 1e-13:
            break
        q = new_q
    rho = np.sum(pk * (binom.pmf(m, k, q) * active).sum(axis=1))
    return rho0 + (1 - rho0) * rho


@pytest.mark.parametrize(
    ("z", "phi", "rho0"),
    [(3.0, 0.18, 0.01), (10.0, 0.18, 0.01), (4.0, 0.25, 0.02)],
    ids=["inside-cascade-window", "beyond-window", "higher-threshold"],
)
def test_watts_cascades_match_the_analytic_final_size(z, phi, rho0):
    # Watts (2002): global cascades happen only inside a window of mean degree; the final size
    # is given analytically by Gleeson and Cahalane (2007). Sticky threshold rule on G(n, p).
    m = DualPowerModel(
        dual_power=False,
        n_workers=50_000,
        city=CityParams(topology="erdos_renyi", mean_degree=z),
        mobilization=ThresholdRule(thresholds=Constant(phi), seed_share=rho0, sticky=True),
        policing=NO_POLICE,
        coercion=0.0,
        seed=11,
    ).run(120)
    assert m.indicators()["mobilized"].iloc[-1] == pytest.approx(
        gleeson_cahalane(z, phi, rho0), abs=0.01
    )


def test_a_passive_worker_counts_itself_among_the_active():
    # Epstein (2002): A counts the agent itself. One neighbourhood, two officers, one mobilized:
    # a passive worker sees A = 2 (C/A = 1, P = 0.9); the mobilized one sees A = 1 (P = 0.99).
    from dualpower_sim import Territory

    m = DualPowerModel(
        dual_power=False,
        n_workers=40,
        city=CityParams(territory=Territory(neighbourhoods=1)),
        coercion=0.05,
        policing=NO_POLICE,
        seed=1,
    )
    assert m.world.police()[0] == 2
    m.city.population.status[0] = Status.MOBILIZED
    p = _local_arrest_probability(m.world, 2.3, "floor", m.city.population.mobilized())
    assert p[0] == pytest.approx(1 - np.exp(-2.3 * 2))
    assert p[1] == pytest.approx(1 - np.exp(-2.3 * 1))


def test_thresholds_are_population_arrays_read_by_the_rule_every_day():
    # A modeller validating the rule reads each worker's threshold where the other traits are,
    # and a threshold changed by hand counts from the next day.
    theta = np.arange(100) / 100
    m = DualPowerModel(
        dual_power=False,
        n_workers=100,
        city=COMPLETE,
        mobilization=ThresholdRule(thresholds=Explicit(theta)),
        policing=NO_POLICE,
        seed=0,
    )
    pop = m.city.population
    np.testing.assert_array_equal(pop.threshold, theta)
    assert m.workers[37].threshold == 0.37
    frame = m.workers.to_frame()
    np.testing.assert_array_equal(frame["threshold"].to_numpy(), theta)
    pop.threshold[1] = 0.02  # Granovetter's perturbation, made after the set-up
    m.run(10)
    assert pop.counts()["mobilized"] == 1
    # Under a rule without per-worker thresholds there is none to show.
    other = DualPowerModel(dual_power=False, n_workers=100, seed=0)
    assert other.workers[0].threshold is None
    assert other.workers.to_frame()["threshold"].isna().all()


def test_explicit_initiators_are_exactly_those_mobilized_on_day_zero():
    ids = [5, 17, 993]
    m = DualPowerModel(
        dual_power=False,
        n_workers=1_000,
        mobilization=ThresholdRule(thresholds=Constant(2.0), initiators=np.array(ids)),
        policing=NO_POLICE,
        seed=1,
    )
    mobilized = np.flatnonzero(m.city.population.status == Status.MOBILIZED)
    np.testing.assert_array_equal(mobilized, ids)
    assert m.indicators()["mobilized"].iloc[0] == 3 / 1_000
    m.run(3)  # initiators stay out; nobody can follow a threshold of 2
    np.testing.assert_array_equal(np.flatnonzero(m.city.population.mobilized()), ids)
    with pytest.raises(ParameterError, match="worker ids from 0 to 999"):
        DualPowerModel(n_workers=1_000, mobilization=ThresholdRule(initiators=[1_000]))


def test_an_initiator_count_is_exact_and_nested_in_a_share_drawn_with_the_same_seed():
    def initiators(**kw):
        rule = ThresholdRule(thresholds=Constant(2.0), **kw)
        m = DualPowerModel(dual_power=False, n_workers=5_000, mobilization=rule, seed=4)
        return m.city.population.mobilized()

    for k in (0, 1, 123, 5_000):
        assert initiators(initiator_count=k).sum() == k
    share = initiators(seed_share=0.1)
    fewer = initiators(initiator_count=int(share.sum()) - 20)
    assert not (fewer & ~share).any()  # the count's initiators are among the share's
    with pytest.raises(ParameterError, match="not both seed_share and initiator_count"):
        ThresholdRule(seed_share=0.1, initiator_count=3)
    with pytest.raises(ParameterError, match="initiator_count <= 5000"):
        initiators(initiator_count=5_001)
    with pytest.raises(ParameterError, match="worker ids"):
        ThresholdRule(initiators=[1, 2.5])


def test_initiators_in_a_config(tmp_path):
    from dualpower_sim import load_experiment

    path = tmp_path / "exp.toml"
    path.write_text(
        'dual_power = false\nn_workers = 300\n[mobilization]\nrule = "threshold"\n'
        "initiators = [4, 8]\n"
    )
    exp = load_experiment(path)
    assert exp.kwargs["mobilization"].initiators == (4, 8)
    assert exp.config["mobilization"]["initiators"] == [4, 8]
    m = exp.build_model()
    np.testing.assert_array_equal(np.flatnonzero(m.city.population.mobilized()), [4, 8])
    from dualpower_sim import ConfigError

    path.write_text(path.read_text().replace("[4, 8]", "[4, 300]"))
    with pytest.raises(ConfigError, match=r"exp.toml: mobilization.initiators holds 300.*299"):
        load_experiment(path)


@pytest.mark.parametrize("dual_power", [False, True])
def test_granovetters_riot_through_the_public_api_with_no_flags(dual_power):
    # The threshold rule ignores the police and, by default, the police arrest nobody under it:
    # Granovetter's uniform thresholds mobilize everyone without turning arrests off (they
    # ended at 1% when the default police jailed the first rioter).
    m = DualPowerModel(
        n_workers=100,
        city=COMPLETE,
        mobilization=ThresholdRule(thresholds=Explicit(np.arange(100) / 100)),
        dual_power=dual_power,
        seed=0,
    )
    assert m.pipeline.policing.arrest_rate == 0.0
    m.run(120)
    assert m.city.population.counts()["mobilized"] == 100
    assert m.indicators()["jailed"].max() == 0


def test_the_threshold_rule_arrests_only_when_asked_and_other_rules_keep_their_police():
    assert DualPowerModel(n_workers=200, seed=1).pipeline.policing == Policing()
    assert DualPowerModel(n_workers=200, mobilization="deterrence").pipeline.policing == Policing()
    asked = DualPowerModel(n_workers=200, mobilization="threshold", policing=Policing())
    assert asked.pipeline.policing.arrest_rate == Policing().arrest_rate


def test_a_threshold_config_gets_the_rules_policing_unless_it_sets_its_own(tmp_path):
    from dualpower_sim import load_experiment

    path = tmp_path / "riot.toml"
    path.write_text('[mobilization]\nrule = "threshold"\n')
    exp = load_experiment(path)
    assert exp.kwargs["policing"].arrest_rate == 0.0
    assert exp.config["policing"]["arrest_rate"] == 0.0  # the resolved config says so
    assert exp.config["policing"]["max_jail_term"] == Policing().max_jail_term
    path.write_text('[mobilization]\nrule = "threshold"\n[policing]\narrest_rate = 0.2\n')
    assert load_experiment(path).kwargs["policing"].arrest_rate == 0.2
    # A preset (the combined rule) keeps the police it always had.
    assert load_experiment("petrograd_1917").kwargs["policing"] == Policing()
