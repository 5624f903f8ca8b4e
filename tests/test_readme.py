"""The README's Python examples run as written and say what they claim."""

import re
from pathlib import Path

import pytest

from dualpower_sim import OUTCOMES

README = Path(__file__).resolve().parents[1] / "README.md"


def run_blocks():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    spaces = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, str(README), "exec"), namespace)
        spaces.append(namespace)
    return spaces


def test_readme_python_examples_run():
    first, petrograd = run_blocks()
    model = first["model"]
    assert model.steps > 0 and not model.running and model.outcome in OUTCOMES
    assert len(model.councils) == model.world.councils.count
    share = petrograd["petrograd"]
    assert share.territorial_share == 0.0
    built = petrograd["DualPowerModel"](n_workers=50_000, city=share, seed=1)
    assert built.network_stats()["share_in_1000_plus"] == pytest.approx(0.679, abs=0.001)
