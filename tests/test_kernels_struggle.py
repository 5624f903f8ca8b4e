"""The struggle's kernels (soldiers, debate, power, hardship, sums) give numpy's bits.

Each kernel is checked against the numpy code it replaced, written out here as the reference,
on random inputs: the same values to the last bit, so runs keep their results.
"""

import pickle

import numpy as np
import pytest

from dualpower_sim.distributions import Beta
from dualpower_sim.kernels.debate import debate, meeting_members
from dualpower_sim.kernels.hardship import felt_hardship
from dualpower_sim.kernels.power import broken_up, hold_units
from dualpower_sim.kernels.soldiers import erode_loyalty, tally
from dualpower_sim.kernels.summation import pairwise_sum
from dualpower_sim.state import Soldiers


@pytest.mark.parametrize(
    "sizes", [range(300), (1000, 1023, 1024, 1025, 8191, 8192, 8193, 30001, 262_145)]
)
def test_pairwise_sum_has_the_bits_of_numpys_sum(rng, sizes):
    for n in sizes:
        a = rng.random(n) * 10.0 ** rng.integers(-3, 6)
        assert pairwise_sum(a, n) == a.sum()
        longer = np.concatenate([a, rng.random(9)])  # a buffer longer than the values summed
        assert pairwise_sum(longer, n) == a.sum()


def test_tally_counts_the_loyal_and_sums_their_loyalty_as_numpy(rng):
    for n in (0, 5, 1000, 20_000):
        loyalty = rng.random(n)
        defected = rng.random(n) < 0.3
        outside = rng.random(n) < 0.2
        loyal, loyal_outside, total = tally(loyalty, defected, outside)
        assert loyal == np.count_nonzero(~defected)
        assert loyal_outside == np.count_nonzero(~defected & outside)
        assert total == loyalty[~defected].sum()


def _erode_reference(s, mobilized, residents, assembly, u, deployed, sheltered, frat, crowd, cut):
    """The soldiers rule's numpy code before its kernel."""
    mob_share = mobilized / np.maximum(residents, 1)
    near = (assembly | (mob_share > 0.5))[s.barracks]
    local = mob_share[s.barracks]
    deploy = u < deployed
    reached = local > 0
    if s.outside.any() and sheltered:
        near &= ~s.outside
        deploy &= ~s.outside
        reached &= ~s.outside
    loss = frat * local * near + crowd * local * deploy
    active = ~s.defected
    s.loyalty[active] = np.clip(s.loyalty[active] - loss[active], 0.0, 1.0)
    going = active & (s.loyalty < cut) & reached
    s.defected |= going
    return int(going.sum())


@pytest.mark.parametrize("sheltered", [False, True])
def test_erode_loyalty_matches_the_numpy_rule(rng, sheltered):
    n, n_nb = 5000, 40
    residents = rng.integers(0, 200, n_nb)
    mobilized = np.floor(rng.random(n_nb) * residents)
    mobilized[:3] = 0.0  # neighbourhoods with no crowd to go over to
    assembly = rng.random(n_nb) < 0.3
    for day in range(5):
        if day == 0:
            soldiers = Soldiers.draw(n, Beta(3.0, 4.0), n_nb, rng, outside=800)
            ref = pickle.loads(pickle.dumps(soldiers))
        u = rng.random(n)
        args = (mobilized, residents, assembly, u, 0.4, sheltered, 0.05, 0.3, 0.4)
        going = erode_loyalty(
            soldiers.loyalty, soldiers.defected, soldiers.barracks, soldiers.outside, *args
        )
        assert going == _erode_reference(ref, *args)
        assert np.array_equal(soldiers.loyalty, ref.loyalty)
        assert np.array_equal(np.signbit(soldiers.loyalty), np.signbit(ref.loyalty))
        assert np.array_equal(soldiers.defected, ref.defected)
    assert soldiers.defected.any() and not soldiers.defected.all()


def test_reinforcements_extend_the_garrison_as_concatenation_did(rng):
    soldiers = Soldiers.draw(100, Beta(3.0, 4.0), 10, rng)
    copy = pickle.loads(pickle.dumps(soldiers))
    twin = np.random.default_rng(7)
    rng = np.random.default_rng(7)
    for n in (3, 50, 400, 1):
        soldiers.reinforce(n, Beta(2.0, 2.0), 10, rng)
        # The arrays as the garrison was extended before the buffers.
        copy.loyalty = np.concatenate([copy.loyalty, np.clip(Beta(2.0, 2.0).sample(twin, n), 0, 1)])
        copy.barracks = np.concatenate([copy.barracks, twin.integers(0, 10, n)])
        copy.defected = np.concatenate([copy.defected, np.zeros(n, dtype=bool)])
        copy.outside = np.concatenate([copy.outside, np.ones(n, dtype=bool)])
        soldiers.defected[-1] = copy.defected[-1] = True  # changed in place between arrivals
        for name in ("loyalty", "barracks", "defected", "outside"):
            assert np.array_equal(getattr(soldiers, name), getattr(copy, name)), name
            assert getattr(soldiers, name).dtype == getattr(copy, name).dtype
        soldiers = pickle.loads(pickle.dumps(soldiers))  # the buffers are made again after
    assert soldiers.n == 554


def test_hold_units_matches_the_numpy_measure(rng):
    n, nf = 300, 180
    size = rng.integers(0, 400, n).astype(float)
    holding = rng.random(n) < 0.5
    reference = holding.copy()
    for _ in range(5):
        members = np.floor(rng.random(n) * size)
        alive = rng.random(n) < 0.8
        territory = hold_units(members, size, alive, holding, 0.7, 0.5, 0.4, nf)
        share = members * 0.7 / np.maximum(size, 1.0)
        keep = reference & (share >= 0.4)
        reference[:] = alive & ((share >= 0.5) | keep)
        assert np.array_equal(holding, reference)
        assert territory == float(size[nf:] @ reference[nf:])


def test_broken_up_is_the_sitting_councils_drawn(rng):
    alive = rng.random(200) < 0.5
    u = rng.random(200)
    broken, count = broken_up(alive, u, 0.3)
    assert np.array_equal(broken, alive & (u < 0.3))
    assert count == np.count_nonzero(alive & (u < 0.3))


@pytest.mark.parametrize("sectors", [[-1, 2, 1, 2], [-1, -1, -1, -1], [3, 3, 0, 1]])
def test_felt_hardship_matches_the_numpy_offsets(rng, sectors):
    n = 3000
    base = rng.random(n)
    sector = rng.integers(0, 4, n)
    magnitudes = np.array([0.3, -0.15, 0.45, 0.1])
    sectors = np.array(sectors)
    out = np.empty(n)
    felt_hardship(base, sector, 4, 0.07, magnitudes, sectors, out)
    offset = np.full(n, -0.07)
    for magnitude, code in zip(magnitudes, sectors, strict=True):
        if code < 0:
            offset += magnitude
        else:
            offset[sector == code] += magnitude
    assert np.array_equal(out, np.clip(base + offset, 0.0, 1.0))
    felt_hardship(base, sector, 4, 0.0, magnitudes[:0], sectors[:0], out)
    assert np.array_equal(out, base)


def _debate_reference(
    pop_status,
    allegiance,
    cadre,
    exposure,
    wu,
    nb,
    alive,
    rev,
    nf,
    first,
    k,
    u,
    u_join,
    politicisation,
    persuasion,
    rterm,
    backlash_on,
    backlash,
    down,
    rate,
):
    """The debate rule's numpy code before its kernels (members, then the meeting)."""
    cohort = slice(first, None, k)
    sitting = (pop_status[cohort] == 1) & (alive[:nf][wu[cohort]] | alive[nf:][nb[cohort]])
    members = first + k * sitting.nonzero()[0]
    old = allegiance[members]
    new = old.copy()
    balance = np.where(alive[wu[members]], rev[wu[members]], rev[nf + nb[members]])
    p_side = 1.0 - (1.0 - politicisation) ** k
    taking = (old == 0) & (u < p_side)
    side = u / max(p_side, 1e-12)
    new[taking] = np.where(side[taking] < balance[taking], 2, 1)
    e = exposure[members]
    moderate = (old == 1).nonzero()[0]
    up = 1.0 - np.exp(-(k * (persuasion * e[moderate] + rterm)))
    if backlash_on:
        heard = e[moderate] > 0
        up[heard] = 1.0 - (1.0 - up[heard]) * (1.0 - backlash)
    new[moderate[u[moderate] < up]] = 2
    was_cadre = cadre[members]
    new[(old == 2) & (u < down) & ~was_cadre] = 1
    allegiance[members] = new
    if not u_join.size:
        return members
    join = (new == 2) & ~was_cadre
    p_join = 1.0 - np.exp(rate * e)
    cadre[members[join & (u_join < p_join)]] = True
    return members


@pytest.mark.parametrize(
    ("backlash_on", "recruiting"), [(False, True), (True, True), (True, False)]
)
def test_the_meeting_matches_the_numpy_debate(rng, backlash_on, recruiting):
    n, nf, n_nb, k = 4000, 60, 30, 7
    status = rng.integers(0, 3, n).astype(np.int8)
    allegiance = rng.integers(0, 3, n).astype(np.int8)
    cadre = rng.random(n) < 0.05
    exposure = np.where(rng.random(n) < 0.5, rng.random(n), 0.0)
    wu = rng.integers(0, nf, n)
    nb = rng.integers(0, n_nb, n)
    alive = rng.random(nf + n_nb) < 0.6
    rev = rng.random(nf + n_nb)
    ref_allegiance, ref_cadre = allegiance.copy(), cadre.copy()
    for first in range(k):
        members = meeting_members(status, wu, nb, alive, nf, first, k)
        u = rng.random(members.size)
        u_join = rng.random(members.size) if recruiting else np.empty(0)
        p_side = 1.0 - (1.0 - 0.3) ** k
        debate(
            members,
            allegiance,
            cadre,
            exposure,
            wu,
            nb,
            alive,
            rev,
            nf,
            u,
            u_join,
            p_side,
            max(p_side, 1e-12),
            k,
            0.8,
            0.02,
            backlash_on,
            0.5,
            0.2,
            -k * 0.1,
        )
        expected = _debate_reference(
            status,
            ref_allegiance,
            ref_cadre,
            exposure,
            wu,
            nb,
            alive,
            rev,
            nf,
            first,
            k,
            u,
            u_join,
            0.3,
            0.8,
            0.02,
            backlash_on,
            0.5,
            0.2,
            -k * 0.1,
        )
        assert np.array_equal(members, expected)
        assert np.array_equal(allegiance, ref_allegiance)
        assert np.array_equal(cadre, ref_cadre)
    assert (allegiance == 2).sum() > (status == 1).sum() // 10  # sides were taken and changed
