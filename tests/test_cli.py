"""The ``dualpower`` command: runs end to end, reproducibility, and every class of bad input."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from dualpower_sim.cli import main
from dualpower_sim.config import experiments_dir

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--workers", "6000", "--steps", "40"]
TIMESTAMPS = ("started_at", "finished_at")


def dualpower(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed console script, in a fresh interpreter with warnings as errors."""
    script = Path(sys.executable).with_name("dualpower")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "petrograd"
    proc = dualpower("run", "petrograd_1917", *SMALL, "--seed", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "outcome:" in proc.stdout and "dual power:" in proc.stdout
    return out


@pytest.mark.slow
def test_run_in_a_subprocess_writes_every_output(finished_run):
    out = finished_run
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "outcome",
        "seed",
        "steps",
        "config_hash",
        "version",
        "dual_power_began",
        "dual_power_ended",
        "peak_council_power",
        "started_at",
    ):
        assert key in summary
    assert summary["seed"] == 3 and summary["n_workers"] == 6000
    assert summary["outcome"] in (
        "council_power",
        "state_restored",
        "co_opted",
        "unresolved",
        "no_dual_power",
    )
    indicators = pd.read_csv(out / "indicators.csv", index_col="step")
    assert len(indicators) == summary["steps"] + 1
    events = pd.read_csv(out / "events.csv")
    assert list(events.columns) == ["step", "event", "magnitude", "detail"]
    # The resolved config is loadable and is the same experiment (same hash).
    config = (out / "config.toml").read_text()
    assert summary["config_hash"] in config
    tomllib.loads(config)
    again = dualpower("config", "show", str(out / "config.toml"))
    assert again.returncode == 0 and summary["config_hash"] in again.stdout
    for name in ("powers", "mobilization", "councils", "state"):
        data = (out / f"{name}.png").read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000
        assert summary["config_hash"].encode() in data  # the run's identity in the metadata


def test_same_config_and_seed_give_identical_results(finished_run, tmp_path):
    out = tmp_path / "again"
    assert main(["run", "petrograd_1917", *SMALL, "--seed", "3", "--out", str(out)]) == 0
    first = json.loads((finished_run / "summary.json").read_text())
    second = json.loads((out / "summary.json").read_text())
    for s in (first, second):
        for key in TIMESTAMPS:
            s.pop(key)
        s.pop("config_source")  # the path as typed: the same file here
    assert json.dumps(first) == json.dumps(second)
    for name in ("indicators.csv", "events.csv", "config.toml"):
        assert (finished_run / name).read_bytes() == (out / name).read_bytes(), name


@pytest.mark.slow
def test_summary_json_is_byte_identical_apart_from_timestamps(tmp_path):
    texts = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        assert (
            main(
                [
                    "run",
                    "us_2003",
                    "--workers",
                    "9000",
                    "--steps",
                    "15",
                    "--quiet",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        lines = (out / "summary.json").read_text().splitlines()
        texts.append([line for line in lines if not any(k in line for k in TIMESTAMPS)])
    assert texts[0] == texts[1]


def test_plot_redraws_the_figures_of_a_finished_run(finished_run, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(finished_run, copy)
    for png in copy.glob("*.png"):
        png.unlink()
    assert main(["plot", str(copy)]) == 0
    assert {p.stem for p in copy.glob("*.png")} == {"powers", "mobilization", "councils", "state"}
    assert main(["plot", str(copy), "--format", "svg"]) == 0
    assert (copy / "powers.svg").read_text().lstrip().startswith("<?xml")


def test_scenarios_lists_every_preset(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for path in experiments_dir().glob("*.toml"):
        assert path.stem in out
    assert "petrograd_1917" in out and "Petrograd 1917" in out


def test_config_show_prints_the_resolved_config(capsys):
    assert main(["config", "show", "paris_1871", "--set", "councils.min_members=5"]) == 0
    text = capsys.readouterr().out
    assert "# config_hash: " in text and "--set councils.min_members=5" in text
    config = tomllib.loads(text)
    assert config["councils"]["min_members"] == 5
    assert config["city"]["territorial_share"] == 0.85


def test_help_on_every_command(capsys):
    for argv in (
        ["--help"],
        ["run", "--help"],
        ["scenarios", "--help"],
        ["config", "--help"],
        ["config", "show", "--help"],
        ["plot", "--help"],
    ):
        assert main(argv) == 0, argv
        assert "usage:" in capsys.readouterr().out
    assert main(["--version"]) == 0


# --------------------------------------------------------------------------------------------
# Bad input: exit code 2, one clear message, no traceback, nothing written
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "extra", "expected"),
    [
        ("[councils]\nformaton_share = 0.4\n", [], "did you mean 'formation_share'?"),
        ("[councils]\nformation_share = 'x'\n", [], "allowed: a number"),
        ("legitimacy = 7\n", [], "legitimacy = 7"),
        ("[councils\n", [], "not valid TOML"),
        ("", ["--set", "councils.formation_share=2"], "councils.formation_share = 2"),
        ("", ["--set", "nonsense"], "key=value"),
        ("", ["--workers", "many"], "--workers: must be a whole number"),
        ("", ["--steps", "0"], "--steps: must be >= 1"),
        ("", ["--seed", "-2"], "--seed: must be >= 0"),
        ("", ["--workers", "1"], "--workers: must be a whole number >= 2"),
        ("", ["--workers", "3000"], "--workers 3000: n_workers = 3000 is not allowed"),
        ("", ["--format", "gif"], "invalid choice: 'gif'"),
    ],
)
def test_bad_input_exits_2_with_one_message_and_writes_nothing(
    tmp_path, capsys, config, extra, expected
):
    path = tmp_path / "exp.toml"
    path.write_text('extends = "us_2003"\n' + config)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))  # no half-written temporary folder either


def test_the_command_names_its_options_where_the_library_names_its_arguments(capsys):
    assert main(["config", "show", "paris_1871", "--steps", "2000000"]) == 2
    assert capsys.readouterr().err.startswith("error: --steps 2000000: horizon = 2000000 is not")
    assert main(["config", "show", "paris_1871", "--set", "extends=x"]) == 2
    assert capsys.readouterr().err.startswith("error: --set extends=x: extends cannot be")
    argv = ["config", "show", "paris_1871", "--seed", "4", "--workers", "6000", "--steps", "9"]
    assert main(argv) == 0
    read_from = capsys.readouterr().out.splitlines()[1]
    assert read_from.startswith("# read from: --steps 9 <- --workers 6000 <- --seed 4 <- ")


def test_missing_config_and_bad_folders_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", "atlantis_2099"]) == 2
    assert "no such file or scenario" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "us_2003", "--steps", "2", "--out", str(blocker)]) == 2
    assert "not a folder" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert main(["run", "us_2003", "--steps", "2", "--out", str(foreign)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "precious"
    assert main(["plot", str(foreign)]) == 2
    assert "not a complete dualpower run" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["bogus"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["config"]) == 2


def test_an_unwritable_out_is_refused_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["run", "us_2003", "--steps", "2", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err and err.count("\n") == 1


def test_misspelt_options_name_the_command_and_the_option_meant(capsys):
    assert main(["run", "paris_1871", "--sed", "3"]) == 2
    err = capsys.readouterr().err
    assert "dualpower run: unrecognized argument --sed (did you mean --seed?)" in err


@pytest.mark.slow
def test_the_default_folder_tells_overridden_runs_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["run", "us_2003", "--steps", "3", "--quiet"]
    assert main(base) == 0
    assert main([*base, "--set", "legitimacy=0.5"]) == 0
    assert main([*base, "--set", "legitimacy=0.5", "--seed", "4"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 3 and all(n.startswith("us_2003-") for n in names)
    assert sum(n.endswith("-seed4") for n in names) == 1


def test_the_summary_says_why_the_run_ended_as_it_did(finished_run):
    summary = json.loads((finished_run / "summary.json").read_text())
    assert len(summary["explanation"]) > 20


@pytest.mark.slow
def test_an_earlier_run_is_replaced_only_when_asked(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "us_2003", "--workers", "9000", "--steps", "3", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_corrupt_run_folder_is_refused_by_plot(finished_run, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(finished_run, bad)
    (bad / "summary.json").write_text("{not json")
    assert main(["plot", str(bad)]) == 2
    assert "summary.json: not valid JSON" in capsys.readouterr().err
    (bad / "summary.json").write_text("{}")
    assert main(["plot", str(bad)]) == 2
    assert "not a run summary" in capsys.readouterr().err
    shutil.copy(finished_run / "summary.json", bad / "summary.json")
    full = (finished_run / "indicators.csv").read_text()
    (bad / "indicators.csv").write_text(full[:300])  # cut off mid-row
    assert main(["plot", str(bad)]) == 2
    assert "damaged" in capsys.readouterr().err


@pytest.mark.slow
def test_python_dash_m_is_the_same_command():
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "dualpower_sim", "scenarios"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "petrograd_1917" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "dualpower_sim", "run", "--bogus"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
