import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_freed_when_dropped
from dualpower_sim import (
    CityParams,
    CombinedRule,
    DualPowerModel,
    HardshipShock,
    ParameterError,
    Policing,
    Status,
    Territory,
    ThresholdRule,
    Worker,
)
from dualpower_sim.population import Allegiance
from dualpower_sim.rules import StateStrategy

SHOCK = [HardshipShock(start=5, duration=20, magnitude=0.7)]


def run(seed, n=4_000, steps=40, **kw):
    return DualPowerModel(n_workers=n, seed=seed, shocks=SHOCK, **kw).run(steps)


#: Runs three presets and prints a digest of their indicator tables.
_DIGEST = """
import hashlib
from dualpower_sim import load_experiment
h = hashlib.sha256()
for name in ("petrograd_1917", "paris_1871", "gdansk_1980"):
    m = load_experiment(name, seed=1, n_workers=6000).build_model().run()
    h.update(m.indicators().to_numpy().tobytes())
print(h.hexdigest())
"""


def test_runs_do_not_depend_on_the_blas_kernel_the_cpu_gets():
    # OpenBLAS picks a kernel for the CPU, and its kernels add a dot product in different
    # orders: council power summed by a dot product gave other last bits, and so other runs, on
    # an AVX-512 machine (its SkylakeX kernel) than elsewhere. The same runs with OpenBLAS told
    # to use its Nehalem kernel (SSE only, so any x86-64 runs it; other CPUs ignore the name)
    # must give the same bits.
    import os
    import subprocess
    import sys

    digests = []
    for core in (None, "Nehalem"):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        if core:
            env["OPENBLAS_CORETYPE"] = core
        out = subprocess.run(
            [sys.executable, "-W", "error", "-c", _DIGEST],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]


def test_same_seed_same_indicators_and_different_seeds_differ():
    a, b, c = run(1).indicators(), run(1).indicators(), run(2).indicators()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a["mobilized"].max() > 0.05  # the comparison is about a run where something happens


def test_a_model_is_a_mesa_model_with_its_own_generator():
    import mesa

    m = DualPowerModel(n_workers=500, seed=3)
    assert isinstance(m, mesa.Model)
    assert isinstance(m.rng, np.random.Generator)
    assert m.seed == 3


def test_no_seed_records_the_entropy_so_the_run_can_be_repeated():
    m = run(None)
    again = run(m.seed)
    pd.testing.assert_frame_equal(m.indicators(), again.indicators())


def test_looking_at_network_stats_does_not_change_the_run():
    a = DualPowerModel(n_workers=3_000, seed=5, shocks=SHOCK)
    first = a.network_stats()
    a.run(30)
    b = DualPowerModel(n_workers=3_000, seed=5, shocks=SHOCK).run(30)
    pd.testing.assert_frame_equal(a.indicators(), b.indicators())
    pd.testing.assert_frame_equal(first["clustering"], a.network_stats()["clustering"])


def test_same_city_whatever_the_rule():
    # The city has its own stream: changing a rule parameter keeps the same city.
    a = DualPowerModel(n_workers=2_000, seed=9, mobilization=CombinedRule(example_weight=0.1))
    b = DualPowerModel(n_workers=2_000, seed=9, mobilization="threshold")
    assert (a.city.network.mix != b.city.network.mix).nnz == 0
    np.testing.assert_array_equal(a.city.population.hardship, b.city.population.hardship)


def check_invariants(m):
    df = m.indicators()
    n = m.city.population.n
    # Workers are conserved: the status shares sum to one at every step.
    np.testing.assert_allclose(df[["passive", "mobilized", "jailed", "removed"]].sum(axis=1), 1.0)
    assert sum(m.city.population.counts().values()) == n
    counts = ["councils", "workplace_councils", "assemblies", "federation_councils"]
    shares = df.drop(columns=["hardship", "legitimacy", *counts])
    assert (df[counts] >= 0).all().all()
    values = shares.to_numpy()
    finite = values[~np.isnan(values)]
    assert ((finite >= 0) & (finite <= 1)).all()
    # NaN only for empty groups (a firm-size band with no firm).
    assert not df[["mobilized", "striking", "blockading", "occupying"]].isna().any().any()
    assert len(df) == m.steps + 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(50, 3_000),
    seed=st.integers(0, 2**31),
    rule=st.sampled_from(["threshold", "deterrence", "combined"]),
    territorial=st.floats(0, 1),
    legitimacy=st.floats(0, 1),
    coercion=st.floats(0, 0.3),
    arrest=st.floats(0, 1),
    magnitude=st.floats(-1, 1),
    neighbourhoods=st.integers(1, 300),
)
def test_invariants_hold_for_any_valid_configuration(
    n, seed, rule, territorial, legitimacy, coercion, arrest, magnitude, neighbourhoods
):
    m = DualPowerModel(
        n_workers=n,
        seed=seed,
        mobilization=rule,
        city=CityParams(
            territorial_share=territorial, territory=Territory(neighbourhoods=neighbourhoods)
        ),
        legitimacy=legitimacy,
        coercion=coercion,
        policing=Policing(arrest_rate=arrest, max_jail_term=5),
        shocks=[HardshipShock(start=2, duration=5, magnitude=magnitude)],
    ).run(12)
    check_invariants(m)


def test_invariants_on_validation_topologies():
    for city in (
        CityParams(topology="complete"),
        CityParams(topology="erdos_renyi", mean_degree=4.0),
    ):
        m = DualPowerModel(n_workers=1_500, city=city, seed=1, shocks=SHOCK).run(20)
        check_invariants(m)


def test_worker_view_reads_the_arrays():
    m = run(4, n=1_000, steps=10)
    pop = m.city.population
    w = m.workers[17]
    assert isinstance(w, Worker) and w.unique_id == 17
    assert w.firm == pop.firm[17] and w.neighbourhood == pop.neighbourhood[17]
    assert w.status == Status(pop.status[17]) and isinstance(w.allegiance, Allegiance)
    assert w.sector_name in pop.sector_names
    assert len(m.workers) == 1_000 and m.workers[-1].unique_id == 999
    with pytest.raises(IndexError):
        m.workers[1_000]
    frame = m.workers.to_frame()
    assert len(frame) == 1_000 and frame.loc[17, "firm"] == w.firm
    assert "Worker(17" in repr(w)
    assert {"firm", "status", "precarious"} <= set(dir(w))
    with pytest.raises(AttributeError, match="read-only"):
        w.status = Status.JAILED


def test_indicator_columns():
    df = run(1, n=3_000, steps=3).indicators()
    for col in (
        "mobilized",
        "jailed",
        "striking",
        "blockading",
        "occupying",
        "mobilized_firms_1001_plus",
        "mobilized_sector_metalworking",
    ):
        assert col in df
    assert df.index.name == "step" and df.index[0] == 0


def test_blockading_and_occupying_count_units_past_the_quorum():
    from dualpower_sim.city import Campuses

    m = DualPowerModel(
        n_workers=4_000,
        seed=1,
        city=CityParams(campuses=Campuses(campuses=2)),
        mobilization=ThresholdRule(),
        action_quorum=0.5,
    )
    pop = m.city.population
    home = pop.neighbourhood == 0
    pop.status[np.flatnonzero(home)[: (home.sum() + 1) // 2]] = Status.MOBILIZED
    campus0 = np.flatnonzero(pop.campus == 0)
    pop.status[campus0] = Status.MOBILIZED
    row = m._measure(m.world)
    assert row["blockading"] == pytest.approx(home.sum() / 4_000)
    assert row["occupying"] == pytest.approx(campus0.size / pop.student.sum())


def test_striking_counts_whole_firms_past_the_quorum():
    m = DualPowerModel(n_workers=2_000, seed=1, mobilization=ThresholdRule(), action_quorum=0.5)
    city = m.city
    biggest = int(np.argmax(city.firm_size))
    start, size = city.firm_start[biggest], city.firm_size[biggest]
    city.population.status[start : start + (size + 1) // 2] = Status.MOBILIZED
    row = m._measure(m.world)
    assert row["striking"] == pytest.approx(size / 2_000)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ParameterError, match=r"legitimacy = 1.5 .*0.0 <= legitimacy <= 1.0"):
        DualPowerModel(n_workers=100, legitimacy=1.5)
    with pytest.raises(ParameterError, match="action_quorum"):
        DualPowerModel(n_workers=100, action_quorum=0.0)
    with pytest.raises(ParameterError, match="n_workers"):
        DualPowerModel(n_workers=1)
    with pytest.raises(ParameterError, match="steps"):
        DualPowerModel(n_workers=100).run(-1)
    with pytest.raises(ParameterError, match="seed"):
        DualPowerModel(n_workers=100, seed=-4)
    with pytest.raises(ParameterError, match=r"steps = 2.5 .*allowed: an integer, 0 <= steps"):
        DualPowerModel(n_workers=100).run(2.5)
    with pytest.raises(ParameterError, match="shocks"):
        DualPowerModel(n_workers=100, shocks=[0.3])
    with pytest.raises(ParameterError, match="sample"):
        DualPowerModel(n_workers=100).network_stats(sample=0)
    one = DualPowerModel(n_workers=100, shocks=HardshipShock(start=2, duration=3, magnitude=0.1))
    assert len(one.pipeline.hardship.shocks) == 1
    with pytest.raises(ParameterError, match="city"):
        DualPowerModel(n_workers=100, city={"territorial_share": 0.5})


def test_models_are_freed_when_dropped():
    def make():
        m = run(1, n=2_000, steps=3)
        assert m.steps == 3 and len(m.indicators()) == 4
        return m

    assert_freed_when_dropped(make)


def test_default_city_is_quiet_without_shocks_at_every_size():
    # Local units (neighbourhoods, markets, campuses) keep their size as a city grows, so the
    # same parameters give the same behaviour at any population.
    for n in (3_000, 20_000, 60_000):
        m = DualPowerModel(n_workers=n, seed=2).run(60)
        assert m.indicators()["mobilized"].max() < 0.05, n
        assert m.city.n_neighbourhoods == round(n / 200)


def test_a_shock_moves_small_and_large_cities_alike():
    # The state's offensive is one decision for the whole city, which no size averages out, so
    # it is switched off: what must not depend on size is how the workers answer the shock.
    shock = [HardshipShock(start=5, duration=30, magnitude=0.8)]
    peaks = [
        DualPowerModel(
            n_workers=n, seed=1, shocks=shock, state=StateStrategy(offensive_readiness=0.0)
        )
        .run(35)
        .indicators()["mobilized"]
        .iloc[20:]
        .mean()
        for n in (5_000, 50_000)
    ]
    assert peaks[0] > 0.3
    assert abs(peaks[0] - peaks[1]) < 0.1


def test_every_indicator_is_a_float():
    from dualpower_sim import DualPowerModel, HardshipShock

    for dual_power in (True, False):
        m = DualPowerModel(
            n_workers=3000,
            seed=2,
            dual_power=dual_power,
            shocks=[HardshipShock(start=2, duration=20, magnitude=0.3)],
        )
        m.run(8)
        row = m._measure(m.world)
        assert all(isinstance(v, float) for v in row.values()), {
            k: type(v) for k, v in row.items() if not isinstance(v, float)
        }
        assert (m.indicators().dtypes == "float64").all()


def _granovetter_riot(**kw):
    from dualpower_sim import Explicit

    return DualPowerModel(
        n_workers=100,
        city=CityParams(topology="complete"),
        mobilization=ThresholdRule(thresholds=Explicit(np.arange(100) / 100)),
        dual_power=False,
        seed=0,
        **kw,
    )


def _nothing_changes(m, days):
    """Run ``days`` more days and check that no status and no indicator moved."""
    status, before = m.city.population.status.copy(), m.indicators().iloc[-1]
    m.run(days)
    after = m.indicators().iloc[-days:]
    assert len(after) == days
    pd.testing.assert_frame_equal(after, pd.DataFrame([before] * days, index=after.index))
    np.testing.assert_array_equal(m.city.population.status, status)


def test_run_until_stable_stops_at_granovetters_fixed_point_and_nothing_changes_after():
    m = _granovetter_riot().run(until="stable", stable_days=1)
    # One more rioter a day: all 100 are out on day 100, and day 101 is the first quiet day.
    assert m.stable_since == 100 and m.steps == 101 and m.running
    assert m.city.population.counts()["mobilized"] == 100
    _nothing_changes(m, 50)
    # The default asks for a week of quiet days.
    assert _granovetter_riot().run(until="stable").steps == 107


def test_run_until_stable_waits_for_what_is_scheduled():
    # Nothing moves before the shock, nor after it lifts (too small to move anyone), but the run
    # is not stable while the shock is still to come or to lift (day 25).
    shock = HardshipShock(start=20, duration=5, magnitude=0.1)
    m = DualPowerModel(n_workers=2_000, seed=1, shocks=[shock]).run(until="stable")
    assert m.stable_since == 25 and m.steps == 32
    _nothing_changes(m, 40)
    # Without a shock the full model is stable from the start.
    quiet = DualPowerModel(n_workers=2_000, seed=1).run(until="stable", stable_days=3)
    assert quiet.stable_since == 0 and quiet.steps == 3
    # A run with a change still to come runs to its horizon, as without until.
    busy = DualPowerModel(
        n_workers=2_000, seed=1, horizon=40, shocks=[HardshipShock(start=2, duration=400)]
    )
    assert busy.run(until="stable").steps == 40 and busy.stable_since is None


def test_run_until_a_condition_and_bad_until():
    m = _granovetter_riot().run(until=lambda model: model.indicators()["mobilized"].iloc[-1] >= 0.5)
    assert m.steps == 50
    with pytest.raises(ParameterError, match="until = 'steady' is not allowed"):
        _granovetter_riot().run(until="steady")
    with pytest.raises(ParameterError, match="stable_days"):
        _granovetter_riot().run(until="stable", stable_days=0)
