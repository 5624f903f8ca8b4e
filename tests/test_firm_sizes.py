import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualpower_sim import (
    PETROGRAD_1917,
    LognormalSizes,
    ParameterError,
    ParetoSizes,
    SizeBand,
    SizeBands,
)


@pytest.mark.parametrize("n", [5_010, 20_000, 200_000])
def test_petrograd_bands_reproduce_the_table(n, rng):
    sizes = PETROGRAD_1917.draw(n, rng)
    assert sizes.sum() == n and sizes.min() >= 1
    edges = [1, 51, 101, 501, 1001, np.inf]
    which = np.searchsorted(edges, sizes, side="right") - 1
    share = np.bincount(which, weights=sizes, minlength=5) / n
    target = np.array([0.030, 0.032, 0.159, 0.100, 0.679])
    # Band counts are fixed exactly; only a firm moved across a boundary can shift a share.
    np.testing.assert_allclose(share, target, atol=1.5 / n + 1e-12)
    # Every firm lies inside its band's limits (30,000 caps the top band).
    assert sizes.max() <= 30_000


def test_petrograd_mean_size_is_close_to_smiths_average(rng):
    # Smith reports an average of 409 workers per enterprise; uniform sizes within the bands give
    # about 430 (a consistency check, not a calibration target).
    sizes = PETROGRAD_1917.draw(2_000_000, rng)
    assert 350 < sizes.mean() < 500


def test_band_too_small_for_population_is_a_clear_error(rng):
    with pytest.raises(ParameterError, match=r"n_workers >= 5010"):
        PETROGRAD_1917.draw(1_000, rng)


def test_bands_must_be_ordered_and_sum_to_one():
    with pytest.raises(ParameterError, match="summing to 1"):
        SizeBands(bands=((1, 10, 0.5), (11, 20, 0.4)))
    with pytest.raises(ParameterError, match="do not overlap"):
        SizeBands(bands=((1, 10, 0.5), (5, 20, 0.5)))
    with pytest.raises(ParameterError, match="high >= low"):
        SizeBand(10, 5, 0.5)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 50_000),
    kind=st.sampled_from(["lognormal", "pareto"]),
    spread=st.floats(0.3, 2.5),
    cap=st.integers(1, 5_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_parametric_sizes_place_every_worker(n, kind, spread, cap, seed):
    rng = np.random.default_rng(seed)
    dist = (
        LognormalSizes(median=5.0, sigma=spread, max_size=cap)
        if kind == "lognormal"
        else ParetoSizes(alpha=spread, max_size=cap)
    )
    sizes = dist.draw(n, rng)
    assert sizes.sum() == n
    assert sizes.min() >= 1 and sizes.max() <= max(cap, 1)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(200, 30_000),
    seed=st.integers(0, 2**32 - 1),
    within=st.sampled_from(["uniform", "loguniform"]),
)
def test_bands_place_every_worker_within_band_limits(n, seed, within):
    bands = SizeBands(bands=((1, 4, 0.6), (5, 19, 0.3), (20, 60, 0.1)), within=within)
    sizes = bands.draw(n, np.random.default_rng(seed))
    assert sizes.sum() == n
    counts = bands.worker_counts(n)
    assert counts.sum() == n
    edges = [1, 5, 20, np.inf]
    which = np.searchsorted(edges, sizes, side="right") - 1
    np.testing.assert_array_equal(np.bincount(which, weights=sizes, minlength=3), counts)
    assert sizes.max() <= 60


def test_pareto_tail_follows_alpha(rng):
    sizes = ParetoSizes(alpha=1.5, min_size=1, max_size=10**9).draw(2_000_000, rng)
    # P(size >= s) = s^-alpha for the discrete (floored) Pareto at integer s.
    for s in (2, 4, 8):
        assert np.mean(sizes >= s) == pytest.approx(s**-1.5, rel=0.03)
