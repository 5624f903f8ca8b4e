"""Models pickle and deep-copy whole (pyabc, Dask and multiprocessing users send them around)."""

import copy
import pickle

import pandas as pd
import pytest

from dualpower_sim import DualPowerModel, HardshipShock

SHOCK = [HardshipShock(start=3, duration=20, magnitude=0.7)]


def _same_run(a: DualPowerModel, b: DualPowerModel) -> None:
    pd.testing.assert_frame_equal(a.indicators(), b.indicators())
    pd.testing.assert_frame_equal(a.events(), b.events())
    assert a.summary() == b.summary()
    assert sorted(x.unique_id for x in a.agents) == sorted(x.unique_id for x in b.agents)


def test_the_issue_example_pickles():
    model = DualPowerModel(n_workers=2000, seed=3)
    back = pickle.loads(pickle.dumps(model))
    assert back.state.model is back and back.seed == 3


@pytest.mark.parametrize("how", ["pickle4", "pickle5", "deepcopy"])
def test_a_copy_runs_on_bit_identically_and_points_at_itself(how):
    model = DualPowerModel(n_workers=2000, seed=3, shocks=SHOCK).run(12)
    assert model.councils, "the test needs councils (Mesa agents) at the moment of copying"
    if how == "deepcopy":
        twin = copy.deepcopy(model)
    else:
        twin = pickle.loads(pickle.dumps(model, protocol=int(how[-1])))
    assert twin.state.model is twin
    assert all(agent.model is twin for agent in twin.agents)
    assert twin.world is not model.world
    twin.run(30)
    assert model.steps == 12, "stepping the copy moved the original"
    model.run(30)
    _same_run(model, twin)
    # Councils formed after the copy get fresh ids, as in the original.
    ids = [agent.unique_id for agent in twin.agents]
    assert len(ids) == len(set(ids))


def test_a_copy_of_a_fresh_model_runs_to_the_same_end():
    model = DualPowerModel(n_workers=2000, seed=5, shocks=SHOCK)
    twin = pickle.loads(pickle.dumps(model))
    _same_run(model.run(40), twin.run(40))
