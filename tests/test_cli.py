import subprocess
import sys

import pandas as pd

from dualpower_sim.cli import main


def test_demo_writes_table_and_plot(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["--workers", "3000", "--steps", "30", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "share of workers in firms of 1,000+" in text and "Last indicators" in text
    df = pd.read_csv(out / "indicators.csv", index_col="step")
    assert len(df) == 31
    png = (out / "mobilization.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_bad_input_exits_2_without_traceback(tmp_path, capsys):
    assert main(["--workers", "1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "n_workers" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
    assert main(["--workers", "many"]) == 2
    assert "invalid int value" in capsys.readouterr().err
    assert main(["--steps", "-3"]) == 2
    assert main(["--seed", "-1", "--out", str(tmp_path / "y")]) == 2
    assert "seed = -1" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--workers", "500", "--steps", "1", "--out", str(blocker / "sub")]) == 2
    assert "cannot" in capsys.readouterr().err


def test_python_dash_m_runs_in_a_subprocess(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-m",
            "dualpower_sim",
            "--workers",
            "2000",
            "--steps",
            "5",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "mobilization.png").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "dualpower_sim", "--bogus"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
