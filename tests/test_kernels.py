"""The compiled kernels: the same runs compiled and in plain Python, and the day's record."""

import hashlib
import os
import subprocess
import sys
import textwrap

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualpower_sim import DualPowerModel, HardshipShock
from dualpower_sim.indicators import IndicatorRecord
from dualpower_sim.kernels.indicators import WORKER_COLUMNS, worker_counts

# A small run where everything happens: councils form and federate, cadres argue, soldiers
# waver, the police arrest (under the default combined rule).
_RUN = textwrap.dedent(
    """
    import hashlib
    from dualpower_sim import DualPowerModel, HardshipShock
    m = DualPowerModel(1500, legitimacy=0.4, seed=7, horizon=60,
                       shocks=[HardshipShock(start=1, duration=10**6, magnitude=0.4)]).run()
    text = m.indicators().to_csv() + m.events().to_csv()
    print(m.world.councils.count, hashlib.sha256(text.encode()).hexdigest())
    """
)


def _run_in_process() -> str:
    m = DualPowerModel(
        1500,
        legitimacy=0.4,
        seed=7,
        horizon=60,
        shocks=[HardshipShock(start=1, duration=10**6, magnitude=0.4)],
    ).run()
    text = m.indicators().to_csv() + m.events().to_csv()
    return f"{m.world.councils.count} {hashlib.sha256(text.encode()).hexdigest()}"


def test_plain_python_kernels_give_the_compiled_run():
    """NUMBA_DISABLE_JIT=1 (to debug a kernel with pdb) runs the same model, slowly."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    compiled = _run_in_process()
    assert int(compiled.split()[0]) > 0  # councils sat: the comparison covers their kernels
    assert out.stdout.strip() == compiled


def _numpy_counts(status, firm_start, firm_size, quorum, nb, n_nb, sitting, wu, cadre):
    """The day's worker counts as the numpy code before the kernel computed them."""
    n = status.size
    mob = status == 1
    firm_mob = np.add.reduceat(mob.astype(np.int64), firm_start)
    residents = np.bincount(nb, minlength=n_nb)
    nb_mob = np.bincount(nb, weights=mob, minlength=n_nb)
    nb_quorum = np.where(residents > 0, 0.5 * residents, np.inf)
    n_firms = firm_start.size
    member = (sitting[:n_firms][wu] | sitting[n_firms:][nb]) & mob
    return [
        mob.sum() / n,
        (status == 0).sum() / n,
        (status == 2).sum() / n,
        (status == 3).sum() / n,
        np.dot(firm_mob >= quorum, firm_size) / n,
        np.dot(nb_mob >= nb_quorum, residents) / n,
        member.sum() / n,
        cadre.sum() / n,
    ], firm_mob


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=12),
    n_nb=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_worker_counts_agree_with_the_numpy_definition(sizes, n_nb, seed):
    rng = np.random.default_rng(seed)
    firm_size = np.array(sizes, dtype=np.int64)
    n = int(firm_size.sum())
    firm_start = np.concatenate([[0], np.cumsum(firm_size)[:-1]])
    status = rng.integers(0, 4, n).astype(np.int8)
    nb = rng.integers(0, n_nb, n)
    residents = np.bincount(nb, minlength=n_nb)
    band = rng.integers(0, 3, firm_size.size)
    sector = rng.integers(0, 2, firm_size.size).astype(np.int16)
    quorum = 0.5 * firm_size
    sitting = rng.random(firm_size.size + n_nb) < 0.5
    wu = np.repeat(np.arange(firm_size.size), firm_size)
    cadre = rng.random(n) < 0.1
    out = np.empty(len(WORKER_COLUMNS) + 3 + 2)
    band_size = np.bincount(band, weights=firm_size, minlength=3)
    sector_size = np.bincount(sector, weights=firm_size, minlength=2)
    with np.errstate(divide="ignore"):
        inv_band = np.where(band_size > 0, 1.0 / band_size, np.nan)
        inv_sector = np.where(sector_size > 0, 1.0 / sector_size, np.nan)
    worker_counts(
        out,
        status,
        firm_start,
        firm_size,
        quorum,
        band,
        sector,
        nb,
        residents,
        np.where(residents > 0, 0.5 * residents, np.inf),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.int64),
        np.zeros(0),
        inv_band,
        inv_sector,
        sitting,
        wu,
        cadre,
    )
    want, firm_mob = _numpy_counts(
        status, firm_start, firm_size, quorum, nb, n_nb, sitting, wu, cadre
    )
    got = dict(zip(WORKER_COLUMNS, out, strict=False))
    for name, value in zip(
        ["mobilized", "passive", "jailed", "removed", "striking", "blockading"],
        want[:6],
        strict=True,
    ):
        assert got[name] == value, name
    assert got["occupying"] == 0.0  # no students
    assert got["council_members"] == want[6]
    assert got["cadres"] == want[7]
    band_share = np.bincount(band, weights=firm_mob, minlength=3) * inv_band
    sector_share = np.bincount(sector, weights=firm_mob, minlength=2) * inv_sector
    np.testing.assert_array_equal(out[len(WORKER_COLUMNS) :], np.r_[band_share, sector_share])


def test_the_record_grows_past_its_first_allocation_and_keeps_every_row():
    record = IndicatorRecord(["a", "b"], days=2)
    for day in range(5):
        record.next_row()[:] = [day, -day]
    record.append({"b": 9.0, "a": 8.0})
    np.testing.assert_array_equal(record.table[:, 0], [0, 1, 2, 3, 4, 8])
    assert record.last() == {"a": 8.0, "b": 9.0}
    assert not record.table.flags.writeable
    with pytest.raises(KeyError, match="lacks"):
        record.append({"a": 1.0})


def test_a_pickled_record_keeps_its_rows_only_and_grows_again():
    import pickle

    record = IndicatorRecord(["a"], days=10**6)
    assert record._table.shape[0] <= 366  # not a million rows allocated ahead
    record.next_row()[:] = [1.0]
    again = pickle.loads(pickle.dumps(record))
    assert pickle.dumps(again) == pickle.dumps(record)  # nothing uninitialised pickled
    again.next_row()[:] = [2.0]
    np.testing.assert_array_equal(again.table[:, 0], [1.0, 2.0])
    empty = pickle.loads(pickle.dumps(IndicatorRecord(["a"], days=5)))
    empty.next_row()[:] = [3.0]
    assert empty.last() == {"a": 3.0}


def test_the_datacollector_reads_the_record_and_keeps_what_a_user_adds():
    m = DualPowerModel(1000, seed=2, shocks=[HardshipShock(start=1, duration=30, magnitude=0.5)])
    collector = m.datacollector
    assert isinstance(collector, mesa.DataCollector)
    collector._new_table("mine", ["x"])
    collector.add_table_row("mine", {"x": 1})
    m.run(20)
    frame = m.datacollector.get_table_dataframe("indicators")
    pd.testing.assert_frame_equal(frame, m.indicators().reset_index(drop=True))
    assert len(frame) == 21
    assert m.datacollector.get_table_dataframe("mine")["x"].tolist() == [1]
