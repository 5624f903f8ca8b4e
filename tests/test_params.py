import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualpower_sim import (
    Beta,
    CityParams,
    CombinedRule,
    ParameterError,
    Policing,
    Territory,
    ThresholdRule,
    Uniform,
    Workplaces,
)
from dualpower_sim.params import ParamGroup, param


@dataclasses.dataclass(frozen=True)
class Probe(ParamGroup):
    share: float = param(0.5, kind=float, low=0.0, high=1.0)
    count: int = param(3, kind=int, low=1)
    mode: str = param("a", kind=str, choices=("a", "b"))
    flag: bool = param(False, kind=bool)


def test_error_names_parameter_and_range():
    with pytest.raises(ParameterError) as err:
        ThresholdRule(seed_share=1.5)
    msg = str(err.value)
    assert "ThresholdRule.seed_share" in msg and "1.5" in msg and "0.0 <= seed_share <= 1.0" in msg
    assert err.value.name == "ThresholdRule.seed_share"


def test_choices_are_listed():
    with pytest.raises(ParameterError, match="'floor', 'round', 'literal'"):
        CombinedRule(ca_form="ceil")


def test_wrong_types_are_refused():
    with pytest.raises(ParameterError, match="an integer"):
        Territory(neighbourhoods=2.5)
    with pytest.raises(ParameterError, match="a number"):
        Policing(arrest_rate="high")
    with pytest.raises(ParameterError, match="true or false"):
        ThresholdRule(sticky=1)
    with pytest.raises(ParameterError):
        Beta(a=0.0)
    with pytest.raises(ParameterError):
        Uniform(low=1.0, high=0.0)
    with pytest.raises(ParameterError, match="a number"):
        Probe(share=math.nan)


def test_replace_checks_again_and_refuses_unknown_names():
    rule = ThresholdRule()
    assert rule.replace(seed_share=0.2).seed_share == 0.2
    with pytest.raises(ParameterError, match="unknown parameter"):
        rule.replace(seedshare=0.2)
    with pytest.raises(ParameterError):
        rule.replace(seed_share=-0.1)


def test_cross_field_checks():
    with pytest.raises(ParameterError, match="summing to 1"):
        Workplaces(sectors=(("metal", 0.5), ("textiles", 0.4)))
    with pytest.raises(ParameterError, match="distinct"):
        Workplaces(sectors=(("metal", 0.5), ("metal", 0.5)))
    with pytest.raises(ParameterError, match=r"CityParams\.topology"):
        CityParams(topology="lattice")


@given(
    share=st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3), st.none()),
    count=st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.booleans()),
    mode=st.one_of(st.sampled_from(["a", "b", "c"]), st.integers()),
    flag=st.one_of(st.booleans(), st.integers(0, 1)),
)
def test_any_value_either_loads_in_range_or_fails_clearly(share, count, mode, flag):
    try:
        p = Probe(share=share, count=count, mode=mode, flag=flag)
    except ParameterError as err:
        assert err.name.startswith("Probe.")
        assert "allowed" in str(err)
        return
    assert 0.0 <= p.share <= 1.0 and isinstance(p.share, float)
    assert isinstance(p.count, int) and p.count >= 1
    assert p.mode in ("a", "b")
    assert isinstance(p.flag, bool)
