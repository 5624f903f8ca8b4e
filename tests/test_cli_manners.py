"""The command's manners in a shell: a closed pipe, --version, an example in every --help."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dualpower_sim
from dualpower_sim.cli import EXAMPLES, main

SWEEP = """
description = "a tiny sweep for the pipe test"
config = "paris_1871"
replicates = 2
seed = 5
n_workers = 2000
horizon = 5
[parameters]
"legitimacy" = [0.3, 0.8]
"""


def into_closed_pipe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``dualpower ARGS`` writing into a pipe whose reader has already gone away."""
    script = Path(sys.executable).with_name("dualpower")
    read, write = os.pipe()
    os.close(read)  # as `| head -1` does once it has its line
    try:
        return subprocess.run(
            [str(script), *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            cwd=cwd,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
    finally:
        os.close(write)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A finished run and a finished sweep, for the commands that read one."""
    tmp = tmp_path_factory.mktemp("pipes")
    run = tmp / "run"
    assert main(["run", "paris_1871", "--steps", "5", "--workers", "2000", "--out", str(run)]) == 0
    sweep_file = tmp / "tiny.toml"
    sweep_file.write_text(SWEEP)
    sweep = tmp / "sweep"
    assert main(["sweep", str(sweep_file), "--out", str(sweep), "--jobs", "1", "--quiet"]) == 0
    return {"run": run, "sweep": sweep, "sweep_file": sweep_file, "tmp": tmp}


def commands(f: dict[str, Path]) -> list[list[str]]:
    """Every subcommand, each writing something to stdout."""
    return [
        ["--version"],
        ["--help"],
        ["scenarios"],
        ["config", "show", "petrograd_1917"],
        ["run", "paris_1871", "--steps", "5", "--workers", "2000", "--out", str(f["tmp"] / "r2")],
        ["plot", str(f["run"])],
        ["sweep", str(f["sweep_file"]), "--dry-run"],
        ["report", str(f["sweep"])],
        # Its runs (five days of Paris) all end alike, so there is nothing to discover: help.
        ["discover", "--help"],
        # The app prints its address and then becomes the server: only its help is piped.
        ["app", "--help"],
    ]


@pytest.mark.slow
def test_a_closed_pipe_ends_every_command_quietly(folders):
    for argv in commands(folders):
        proc = into_closed_pipe(*argv)
        assert proc.returncode in (0, 141), (argv, proc.returncode, proc.stderr)
        assert "Traceback" not in proc.stderr, (argv, proc.stderr)
        assert "BrokenPipeError" not in proc.stderr, (argv, proc.stderr)


@pytest.mark.skipif(shutil.which("head") is None, reason="needs a Unix shell's head")
def test_scenarios_into_head_in_a_real_shell():
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        ["bash", "-c", "set -o pipefail; dualpower scenarios | head -1; echo rc=$?"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout
    assert lines[1] in ("rc=0", "rc=141"), proc.stdout
    assert proc.stderr == "", proc.stderr


def test_version_prints_the_packages_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dualpower_sim {dualpower_sim.__version__}"


def test_every_commands_help_shows_an_example(capsys):
    assert set(EXAMPLES) == {
        "run",
        "scenarios",
        "config",
        "config show",
        "sweep",
        "report",
        "discover",
        "calibrate",
        "posterior",
        "plot",
        "app",
    }
    for command in EXAMPLES:
        assert main([*command.split(), "--help"]) == 0
        out = capsys.readouterr().out
        example = out.split("example", 1)[1]
        assert f"\n  dualpower {command}" in example, out
