"""The mobilization and policing kernels give the bits of the numpy code they replaced."""

import math
import pickle

import numpy as np
import pytest

from dualpower_sim import CityParams, DualPowerModel, HardshipShock, build_city
from dualpower_sim.kernels import mobilization as mob
from dualpower_sim.kernels import policing as pol
from dualpower_sim.population import Status
from dualpower_sim.world import MaskCounter

N = 1_500
NETWORK: dict = {}


def network():
    if "city" not in NETWORK:
        NETWORK["city"] = build_city(CityParams(), N, np.random.default_rng(3)).network
    return NETWORK["city"]


def numpy_arrest_probability(police, active, k, form):
    ratio = police / np.maximum(active, 1)
    if form == "floor":
        ratio = np.floor(ratio)
    elif form == "round":
        ratio = np.rint(ratio)
    # The C library's exp, as the kernel takes it: numpy's own equals it on most CPUs, but on
    # one with AVX-512 numpy uses a vectorised exp that can differ in the last bit.
    return 1.0 - np.array([math.exp(x) for x in (-k * ratio).ravel()]).reshape(np.shape(ratio))


def random_state(seed):
    rng = np.random.default_rng(seed)
    status = rng.choice(np.array([0, 1, 2, 3], dtype=np.int8), N, p=[0.5, 0.35, 0.1, 0.05])
    nb = rng.integers(0, 17, N)
    return rng, status, nb


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("habituation", "example_weight", "fatigue", "form"),
    [(1.0, 0.3, 0.005, "floor"), (0.0, 0.0, 0.0, "round"), (0.4, 1.2, 0.2, "literal")],
)
def test_combined_step_gives_the_numpy_rules_bits(seed, habituation, example_weight, fatigue, form):
    rng, status, nb = random_state(seed)
    net = network()
    hardship, base, risk = rng.random(N), rng.random(N) * 0.8, rng.random(N)
    days = rng.random(N) * 20 if fatigue > 0 else np.zeros(0)
    police = rng.integers(0, 6, 17).astype(float)
    legitimacy, k, threshold, recovery = 0.45, 2.3, 0.1, 0.1
    mobilized = status == 1

    # The numpy rule as it was.
    if habituation > 0:
        score = np.maximum(hardship - habituation * base, 0.0) * (1.0 - legitimacy)
    else:
        score = hardship * (1.0 - legitimacy)
    if example_weight > 0:
        score += example_weight * net.neighbour_share(mobilized)
    active = np.bincount(nb, weights=mobilized, minlength=17)
    table = numpy_arrest_probability(police[:, None], active[:, None] + [1.0, 0.0], k, form)
    score -= risk * table.ravel()[2 * nb + mobilized]
    if fatigue > 0:
        score -= fatigue * days
    want = (score > threshold).astype(np.int8)
    free = status <= 1
    expect = np.where(free, want, status)
    expect_days = None
    if fatigue > 0:
        now = expect == 1
        expect_days = days * np.where(now, 1.0, 1.0 - recovery) + now

    # The kernel, from trackers that have seen nothing yet.
    tracker, counter = net.share_tracker(), MaskCounter(nb, 17)
    track = example_weight > 0
    # Without example, no share arrays at all (as the deterrence rule passes them).
    shares = (
        (tracker.share, tracker.marked, net.mix.indptr, net.mix.indices, net.mix_transposed_data)
        if track
        else (
            np.zeros(0),
            np.zeros(0, bool),
            np.zeros(1, np.int32),
            np.zeros(1, np.int32),
            np.zeros(0),
        )
    )
    mob.combined_step(
        status,
        hardship,
        base,
        risk,
        days,
        track,
        *shares,
        counter.groups,
        counter.counts,
        counter.marked,
        police,
        legitimacy,
        habituation,
        example_weight,
        k,
        mob.CA_FORM_CODES[form],
        fatigue,
        recovery,
        threshold,
    )
    np.testing.assert_array_equal(status, expect)
    if expect_days is not None:
        np.testing.assert_array_equal(days, expect_days)
    # The counter counts today's statuses; the tracker holds yesterday's shares, exactly.
    np.testing.assert_array_equal(counter(status == 1), np.bincount(nb[status == 1], minlength=17))
    if track:
        np.testing.assert_array_equal(tracker.share, net.neighbour_share(mobilized))
        np.testing.assert_array_equal(tracker(status == 1), net.neighbour_share(status == 1))


@pytest.mark.parametrize("sticky", [False, True])
def test_threshold_step_gives_the_numpy_rules_bits(sticky):
    rng, status, nb = random_state(5)
    net = network()
    theta = rng.normal(0.25, 0.12, N)
    initiator = rng.random(N) < 0.02
    tolerance = np.array([1e-6])
    mobilized = status == 1
    want = net.neighbour_share(mobilized) >= theta - 1e-6
    want |= initiator
    if sticky:
        want |= mobilized
    expect = np.where(status <= 1, want.astype(np.int8), status)
    tracker, counter = net.share_tracker(), MaskCounter(nb, 17)
    mob.threshold_step(
        status,
        theta,
        tolerance,
        initiator,
        sticky,
        True,
        tracker.share,
        tracker.marked,
        net.mix.indptr,
        net.mix.indices,
        net.mix_transposed_data,
        counter.groups,
        counter.counts,
        counter.marked,
    )
    np.testing.assert_array_equal(status, expect)
    np.testing.assert_array_equal(counter(status == 1), np.bincount(nb[status == 1], minlength=17))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_policing_kernels_give_the_numpy_rules_bits(seed):
    rng, status, nb = random_state(seed)
    step, rate, max_term = 40, 0.3, 30
    jail_release = rng.integers(35, 70, N).astype(np.int32)
    police = rng.integers(0, 8, 17).astype(float)
    u_officers = rng.random(int(police.sum()))

    # The numpy rule as it was.
    s0, r0 = status.copy(), jail_release.copy()
    due = (r0 == step).nonzero()[0]
    s0[due[s0[due] == 2]] = 0
    on_duty = np.repeat(np.arange(17), police.astype(np.int64))
    capacity = np.bincount(on_duty[u_officers < rate], minlength=17)
    mobilized = np.bincount(nb, weights=s0 == 1, minlength=17)
    arrests = np.minimum(capacity, mobilized)
    take = np.divide(arrests, mobilized, out=np.zeros(17), where=mobilized > 0)
    candidates = (s0 == 1).nonzero()[0]
    u = rng.random(candidates.size, dtype=np.float32)
    arrested = candidates[u < take[nb[candidates]]]
    s0[arrested] = 2
    terms = rng.random(arrested.size)
    r0[arrested] = step + (terms * max_term).astype(np.int64) + 1

    counter = MaskCounter(nb, 17)
    got_take = np.empty(17)
    n = pol.plan_arrests(
        status,
        jail_release,
        step,
        True,
        counter.groups,
        counter.counts,
        counter.marked,
        police.astype(np.int64),
        u_officers,
        rate,
        got_take,
    )
    assert arrests.any()
    assert n == candidates.size
    np.testing.assert_array_equal(got_take, take)
    got = pol.arrest(status, counter.groups, u, got_take, counter.counts, counter.marked)
    np.testing.assert_array_equal(got, arrested)
    last = pol.jail(jail_release, got, terms, step, max_term)
    np.testing.assert_array_equal(status, s0)
    np.testing.assert_array_equal(jail_release, r0)
    assert last == max(step, int(r0[arrested].max(initial=step)))
    np.testing.assert_array_equal(counter(status == 1), np.bincount(nb[status == 1], minlength=17))


def test_no_arrest_when_no_officer_draws_one():
    _, status, nb = random_state(9)
    counter = MaskCounter(nb, 17)
    officers = np.full(17, 2, dtype=np.int64)
    take = np.empty(17)
    args = (counter.groups, counter.counts, counter.marked, officers, np.ones(34) * 0.9, 0.2, take)
    assert pol.plan_arrests(status, status.astype(np.int32), 0, False, *args) == 0
    np.testing.assert_array_equal(take, 0.0)


def test_forces_and_group_sums_match_numpy():
    rng = np.random.default_rng(4)
    coercion, residents = rng.random(9) * 0.1, rng.integers(0, 400, 9)
    barracks = rng.integers(0, 9, 300)
    defected, outside = rng.random(300) < 0.2, rng.random(300) < 0.3
    officers = np.rint(coercion * residents)
    for offensive in (False, True):
        present = ~defected & (outside <= offensive)
        loyal = np.bincount(barracks, weights=present, minlength=9)
        want = officers + np.rint(0.37 * loyal)
        got = pol.forces(coercion, residents, barracks, defected, outside, offensive, 0.37)
        np.testing.assert_array_equal(got, want)
    x = rng.random(1000)
    groups = rng.integers(0, 9, 1000)
    np.testing.assert_array_equal(
        mob.sum_by_group(groups, x, 9), np.bincount(groups, weights=x, minlength=9)
    )


def test_arrest_probability_matches_the_formula_for_every_form():
    police, active = np.arange(0.0, 12.0), np.repeat([1.0, 2.0, 4.0], 4)
    out = np.empty(12)
    for form, code in mob.CA_FORM_CODES.items():
        mob.arrest_probabilities(police, active, 2.3, code, out)
        np.testing.assert_array_equal(out, numpy_arrest_probability(police, active, 2.3, form))


def test_the_trackers_stay_current_through_a_run_and_a_pickle():
    # The kernels keep the world's share tracker and mobilized counter up to date as they set
    # statuses; a pickled model's trackers go on updating their own arrays.
    m = DualPowerModel(
        2_000, shocks=[HardshipShock(start=1, duration=10**6, magnitude=0.3)], seed=2
    )
    m.run(15)
    m = pickle.loads(pickle.dumps(m))
    pop, world = m.city.population, m.world
    pop.status[:50] = Status.MOBILIZED  # by hand, between two days
    m.run(5)
    mobilized = pop.mobilized()
    counts = world.mobilized_by_neighbourhood()
    np.testing.assert_array_equal(
        counts, np.bincount(pop.neighbourhood[mobilized], minlength=m.city.n_neighbourhoods)
    )
    assert not counts.flags.writeable
    share = world.mobilized_share()
    np.testing.assert_array_equal(share, m.city.network.neighbour_share(mobilized))
    assert not share.flags.writeable
