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


def one_line_error(capsys) -> str:
    """The one line a refused command wrote to stderr (no traceback, nothing more)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]
