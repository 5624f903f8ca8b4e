"""docs/validation.md is what docs/make_validation.py gives: its cheap rows are recomputed here."""

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@functools.cache
def _script():
    spec = importlib.util.spec_from_file_location("make_validation", DOCS / "make_validation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_cheap_rows_of_validation_md_are_what_the_model_gives():
    text = (DOCS / "validation.md").read_text()
    rows = _script().cheap_rows(workers=1)
    assert rows
    for row in rows:
        assert row.markdown() in text, (
            "docs/validation.md drifted from the model: run python docs/make_validation.py"
        )


def test_the_calibration_section_is_the_committed_calibration_of_the_committed_file():
    pytest.importorskip("pyabc")
    import json

    from dualpower_sim.calibration import load_calibration

    folder = _script().CALIBRATION
    whole = load_calibration(folder.parent / "history.toml").calibration_hash
    info = json.loads((folder / "calibration.json").read_text())
    assert info["whole_hash"] == whole and info["state"] == "done", (
        "experiments/calibration/history/ was not made from history.toml: rerun the calibration"
    )
    left_out = sorted((folder / "leave_out").glob("*/calibration.json"))
    assert sorted(p.parent.name for p in left_out) == sorted(e["name"] for e in info["episodes"])
    for path in left_out:
        sub = json.loads(path.read_text())
        assert sub["whole_hash"] == whole and sub["state"] == "done", path
    text = (DOCS / "validation.md").read_text()
    assert _script().calibration_section() in text, (
        "run python docs/make_validation.py --calibration-only"
    )


def test_every_pattern_of_the_issue_has_a_row():
    text = (DOCS / "validation.md").read_text()
    for number in range(1, 11):
        assert f"| {number}. " in text, f"pattern {number} has no row"
    assert "Robustness: `petrograd_1917`" in text
    assert "Written by `python docs/make_validation.py`" in text


@pytest.mark.parametrize(
    ("k", "n", "bound", "below", "above"),
    [
        (0, 40, 0.10, "held", "**not held**"),  # Wilson high 0.088
        (0, 20, 0.10, "inconclusive", "**not held**"),  # high 0.16: cannot tell yet
        (3, 20, 0.10, "**not held**", "inconclusive"),
        (18, 20, 0.5, "**not held**", "held"),
    ],
)
def test_verdicts_follow_the_wilson_interval(k, n, bound, below, above):
    script = _script()
    assert script.below(k, n, bound) == below
    assert script.above(k, n, bound) == above


def test_most_common_needs_the_lower_bound_above_every_rival():
    script = _script()
    assert script.most_common(["a"] * 15 + ["b"] * 5, ["a"]) == "held"
    assert script.most_common(["a"] * 9 + ["b"] * 8 + ["c"] * 3, ["a"]) == "inconclusive"
    assert script.most_common(["a"] * 5 + ["b"] * 15, ["a"]) == "**not held**"
    # outcomes named together count together (El Alto: co-opted or no dual power)
    assert script.most_common(["a"] * 8 + ["c"] * 8 + ["b"] * 4, ["a", "c"]) == "held"


def test_a_pattern_of_several_parts_holds_only_when_every_part_does():
    script = _script()
    assert script.both("held", "held") == "held"
    assert script.both("held", "inconclusive") == "inconclusive"
    assert script.both("inconclusive", "**not held**", "held") == "**not held**"
