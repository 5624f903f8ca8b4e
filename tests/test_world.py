"""The world's incremental counters must always equal a fresh count."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dualpower_sim.world import KeyCounter, MaskCounter


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    changes=st.lists(st.integers(0, 400), min_size=1, max_size=10),
)
def test_key_counter_equals_a_fresh_count_after_any_changes(seed, changes):
    rng = np.random.default_rng(seed)
    n = 400
    groupings = [(rng.integers(0, 7, n), 7), (rng.integers(0, 30, n), 30)]
    counter = KeyCounter(groupings, 4)
    key = rng.integers(0, 4, n).astype(np.int8)
    for k in [0, *changes]:
        key = key.copy()
        key[rng.choice(n, size=k, replace=False)] = rng.integers(0, 4, k)
        got = counter(key)
        for (groups, n_groups), counts in zip(groupings, got, strict=True):
            want = np.zeros((n_groups, 4), dtype=np.int64)
            np.add.at(want, (groups, key), 1)
            np.testing.assert_array_equal(counts, want)
            assert not counts.flags.writeable


def test_key_counter_does_not_see_later_writes_to_the_key_it_was_given():
    counter = KeyCounter([(np.array([0, 0, 1]), 2)], 2)
    key = np.array([0, 1, 1], dtype=np.int8)
    counter(key)
    key[0] = 1  # the caller reuses its array
    np.testing.assert_array_equal(counter(key)[0], [[0, 2], [0, 1]])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    changes=st.lists(st.integers(0, 300), min_size=1, max_size=10),
)
def test_mask_counter_equals_a_fresh_count_after_any_changes(seed, changes):
    rng = np.random.default_rng(seed)
    n = 300
    groups = rng.integers(0, 12, n)
    counter = MaskCounter(groups, 12)
    mask = rng.random(n) < 0.5
    for k in [0, *changes]:
        mask = mask.copy()
        mask[rng.choice(n, size=k, replace=False)] ^= True
        np.testing.assert_array_equal(counter(mask), np.bincount(groups[mask], minlength=12))


def test_groups_list_the_members_of_the_chosen_groups_in_id_order():
    from dualpower_sim.world import Groups

    groups = np.array([2, 0, 2, 1, 0, 2])
    g = Groups(groups, 4)  # group 3 is empty
    np.testing.assert_array_equal(g.members(np.array([True, False, True, True])), [1, 4, 0, 2, 5])
    np.testing.assert_array_equal(g.members(np.array([1, 3])), [3])
    assert g.members(np.zeros(4, dtype=bool)).size == 0


def test_concatenated_ranges_match_a_loop():
    from dualpower_sim.networks import concatenated_ranges

    starts, lengths = np.array([5, 0, 9, 3]), np.array([2, 0, 3, 1])
    want = np.concatenate([np.arange(s, s + k) for s, k in zip(starts, lengths, strict=True)])
    np.testing.assert_array_equal(concatenated_ranges(starts, lengths), want)
