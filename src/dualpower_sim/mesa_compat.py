"""The two places this project works around Mesa 3.3's private attributes, and only here.

Mesa 3.3 has no public way to do either; each workaround is tested against a plain Mesa model
in ``tests/test_mesa_compat.py``, whose tests fail when a Mesa release makes one of them
unnecessary (Mesa fixed it) or wrong (Mesa changed what it works around).

1. **The step wrapper.** ``mesa.Model.__init__`` stores ``self._user_step = self.step`` and
   ``self.step = self._wrapped_step``: bound methods of the model on the model, a reference
   cycle, so a dropped model (hundreds of MB at 10^6 workers) waits for the cyclic garbage
   collector, which numpy arrays do not prompt. :func:`drop_step_wrapper` removes both; the
   model's own ``step`` then does what the wrapper did (in Mesa 3.3, ``self.steps += 1`` alone).
2. **Agent ids.** ``mesa.Agent`` keeps its id counters in a class-level dictionary ``_ids``
   keyed by model, strongly, so every model that ever created an agent stays alive for the life
   of the process (upstream issue 3179). :class:`WeakIdCounters` keys them weakly, and
   :func:`follow_restored_id` moves a model's counter past an agent restored from a pickle.

Mesa 3.4 keeps the step wrapper (and adds ``self.time += 1`` to it) and moves the id counter to
the model (``Model.agent_id_counter``), so the second workaround would be unneeded there and
the first would have to count ``time`` too; Mesa 3.4 needs Python 3.12, and this project
supports 3.11, so it is held below 3.4 (pyproject.toml).
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

__all__ = ["WeakIdCounters", "drop_step_wrapper", "follow_restored_id"]


def drop_step_wrapper(model: Any) -> None:
    """Remove Mesa 3.3's step wrapper from a model just built, so no reference cycle remains.

    The model's class must count its steps itself (``self.steps += 1`` in its ``step``).

    Args:
        model: A ``mesa.Model`` after ``mesa.Model.__init__``.
    """
    del model.step, model._user_step


class WeakIdCounters(weakref.WeakKeyDictionary):
    """Per-model agent id counters that do not keep models alive (Mesa 3.3 keys them strongly).

    Set as ``_ids`` on a ``mesa.Agent`` subclass, where ``mesa.Agent.__init__`` looks them up.
    """

    def __getitem__(self, model: Any) -> itertools.count:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def follow_restored_id(counters: WeakIdCounters, model: Any, unique_id: int) -> None:
    """Make the next id ``model`` hands out follow ``unique_id``, an agent's restored from a copy.

    Args:
        counters: The agent class's ``_ids``.
        model: The restored agent's model.
        unique_id: The restored agent's id.
    """
    following = next(counters[model])
    counters[model] = itertools.count(max(following, int(unique_id) + 1))
