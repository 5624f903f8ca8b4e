"""docs/city_size.md is what docs/make_city_size.py gives; its agreement test is sound."""

import functools
import importlib.util
import sys
from pathlib import Path

from dualpower_sim import scenario_names

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # make_validation's dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@functools.cache
def _script():
    _load("make_validation")  # make_city_size imports it by name, as a script beside it would
    return _load("make_city_size")


def test_one_run_apart_agrees_and_opposite_outcomes_differ():
    agrees = _script().agrees
    assert agrees({"state_restored": 18, "co_opted": 1, "no_dual_power": 1}, {"state_restored": 20})
    assert agrees({"state_restored": 20}, {"state_restored": 16, "unresolved": 4})
    assert not agrees({"no_dual_power": 20}, {"co_opted": 20})
    assert not agrees({"state_restored": 20}, {"state_restored": 10, "co_opted": 10})
    assert not agrees({}, {"state_restored": 20})  # no runs is no evidence


def test_the_smallest_agreeing_size_needs_every_larger_size_to_agree():
    smallest = _script().smallest_agreeing
    ref = {"council_power": 20}
    assert smallest({3000: ref, 6000: ref, 10000: ref}, ref) == 3000
    other = {"state_restored": 20}
    assert smallest({3000: ref, 6000: other, 10000: ref}, ref) == 10000
    assert smallest({3000: ref, 6000: ref, 10000: other}, ref) is None


def test_city_size_md_has_every_preset_and_its_1989_row_is_what_the_model_gives():
    script = _script()
    text = (DOCS / "city_size.md").read_text()
    for name in scenario_names():
        assert f"| `{name}` |" in text, f"{name} has no row: run python docs/make_city_size.py"
    # The cheapest preset (its government gives way within weeks), recomputed in full.
    results = script.measure(["eastern_europe_1989"], script.SEEDS, jobs=1)
    assert script.row("eastern_europe_1989", results["eastern_europe_1989"]) in text, (
        "docs/city_size.md drifted from the model: run python docs/make_city_size.py"
    )
