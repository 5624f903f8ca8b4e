"""What dualpower_sim.mesa_compat works around is still there in the installed Mesa.

Each test says, when it fails, whether a Mesa release made a workaround unnecessary (remove it)
or wrong (change it). They use plain Mesa models, not the project's.
"""

import collections
import gc
import weakref

import mesa
import numpy as np

from dualpower_sim.agents import CityAgent
from dualpower_sim.mesa_compat import drop_step_wrapper


class _Plain(mesa.Model):
    def __init__(self) -> None:
        super().__init__(rng=np.random.default_rng(1))

    def step(self) -> None:
        self.stepped = getattr(self, "stepped", 0) + 1


def _freed_by_reference_counting(make) -> bool:
    """Whether the model ``make()`` returns is gone once dropped, with no cyclic collection."""
    ref = weakref.ref(make())
    gc.disable()
    try:
        return ref() is None
    finally:
        gc.enable()


def test_mesa_still_wraps_step_in_a_reference_cycle():
    model = _Plain()
    wrapper, user_step = vars(model).get("step"), vars(model).get("_user_step")
    unnecessary = "Mesa no longer keeps its step wrapper on the model: remove drop_step_wrapper"
    assert wrapper is not None and wrapper.__self__ is model, unnecessary
    assert user_step is not None and user_step.__func__ is _Plain.step, unnecessary
    assert not _freed_by_reference_counting(_Plain), unnecessary
    gc.collect()


def test_the_step_wrapper_only_counts_steps():
    """DualPowerModel.step does what the wrapper did; a wrapper that did more would be lost."""
    model = _Plain()
    before = dict(vars(model))
    model.step()
    after = vars(model)
    changed = {
        key
        for key in before.keys() | after.keys()
        if key not in before or key not in after or after[key] is not before[key]
    }
    assert changed == {"steps", "stepped"}, (
        f"Mesa's step wrapper now changes {sorted(changed - {'stepped'})}: "
        "DualPowerModel.step must do the same (see mesa_compat)"
    )
    assert model.steps == 1


def _stepped_without_the_wrapper() -> _Plain:
    model = _Plain()
    drop_step_wrapper(model)
    model.step()  # the class's own step, now that the wrapper is gone
    assert model.stepped == 1 and model.steps == 0
    return model


def test_without_the_wrapper_a_model_is_freed_by_reference_counting():
    assert _freed_by_reference_counting(_stepped_without_the_wrapper)


def test_mesa_agents_still_number_themselves_from_a_strong_class_level_dictionary():
    model = _Plain()
    drop_step_wrapper(model)
    unnecessary = (
        "Mesa no longer numbers agents from mesa.Agent._ids: remove WeakIdCounters and "
        "follow_restored_id (mesa_compat), and check where CityAgent's ids come from"
    )
    assert isinstance(getattr(mesa.Agent, "_ids", None), collections.defaultdict), unnecessary
    try:
        agent = mesa.Agent(model)
        assert agent.unique_id == 1 and model in mesa.Agent._ids, unnecessary
    finally:
        mesa.Agent._ids.pop(model, None)


def _with_city_agents() -> _Plain:
    model = _Plain()
    drop_step_wrapper(model)
    first, second = CityAgent(model), CityAgent(model)
    assert (first.unique_id, second.unique_id) == (1, 2)
    wrong = "mesa.Agent no longer looks up self._ids: CityAgent's WeakIdCounters are bypassed"
    assert model in CityAgent._ids and model not in mesa.Agent._ids, wrong
    return model


def test_city_agents_number_themselves_from_weak_counters_and_free_their_model():
    assert _freed_by_reference_counting(_with_city_agents)
