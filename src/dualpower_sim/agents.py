"""The base of the model's Mesa agents (councils and the state).

Mesa 3.3's ``Agent`` keeps every model that ever created an agent alive (its id counters,
upstream issue 3179; see :mod:`dualpower_sim.mesa_compat`), and each agent holds its model, a
reference cycle only the cyclic collector can break. :class:`CityAgent` keys its id counters
weakly and holds its model through a weak reference, so a model with thousands of councils is
freed the moment the user drops it.

A weak reference cannot be pickled or deep-copied as a reference to the copy, so an agent
pickles its model strongly (pickle and ``copy.deepcopy`` both keep the cycle whole: the copy's
agents point at the copied model) and, once restored, moves the model's id counter past its own
id, so agents created after the copy never share an id with those restored.
"""

from __future__ import annotations

import weakref
from typing import Any

import mesa

from .mesa_compat import WeakIdCounters, follow_restored_id

__all__ = ["CityAgent"]


class CityAgent(mesa.Agent):
    """A Mesa agent that does not keep its model alive.

    Attributes:
        model: The model (held weakly; the model holds its agents).
        unique_id: Unique within the model, from 1.
    """

    _ids = WeakIdCounters()  # mesa.Agent.__init__ numbers agents from it

    @property
    def model(self) -> Any:
        """The model this agent belongs to."""
        return self._model_ref()

    @model.setter
    def model(self, model: Any) -> None:
        self._model_ref = weakref.ref(model)

    def __getstate__(self) -> dict[str, Any]:
        """The agent's attributes, with its model held strongly (a weakref cannot be pickled)."""
        state = dict(self.__dict__)
        state["_model_ref"] = self.model
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore an agent from :meth:`__getstate__`, pointing at the restored model."""
        state = dict(state)
        model = state.pop("_model_ref")
        self.__dict__.update(state)
        self.model = model
        # The next id this model hands out must follow every restored agent's.
        follow_restored_id(self._ids, model, self.unique_id)
