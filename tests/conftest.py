import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def assert_freed_when_dropped(make):
    """Build a model with ``make()``, drop it, and check reference counting alone frees it.

    Mesa 3.3.1 keeps models alive through ``Agent._ids`` (issue 3179) and its step wrapper; a
    DualPowerModel must be gone the moment its last reference goes, with no cyclic collection.
    """
    import gc
    import weakref

    ref = weakref.ref(make())
    gc.disable()
    try:
        assert ref() is None
    finally:
        gc.enable()
