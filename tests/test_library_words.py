"""The library speaks Python, the command its options (issue 14, item 3).

A notebook user who calls ``write_run(record, "o/c")`` on a folder holding a run reads
``pass overwrite=True``, not ``--overwrite``; ``dualpower run --out o/c`` still says
``--overwrite``. The command translates, in one place (``cli._in_flags``), with one table.
"""

import ast
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from dualpower_sim import cli
from dualpower_sim.discovery import DiscoveryError
from dualpower_sim.results import ResultsError, check_out_dir, claim_out_dir
from dualpower_sim.sweeps.store import SweepStore

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dualpower_sim"

#: Strings outside the command that may hold an option: a command the library runs itself.
RUNS_COMMANDS = {"--porcelain", "--untracked-files=no"}


def test_no_message_outside_the_command_names_a_command_line_option():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if not path.name.startswith("cli"):  # cli.py, cli_parser.py, cli_calibrate.py
            # Docstrings may describe the command; a message may not speak its language.
            tree = ast.parse(path.read_text())
            docs = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docs
                ):
                    words = [
                        w for w in node.value.split() if w.startswith("--") and w[2:3].isalpha()
                    ]
                    found += [
                        f"{path.name}:{node.lineno}: {w}" for w in words if w not in RUNS_COMMANDS
                    ]
    assert not found


def _python_words(text: str) -> None:
    assert "--" not in text and "dualpower sweep" not in text, text


def test_a_run_folder_is_refused_in_its_keyword_arguments(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    (held / "summary.json").write_text("{}")
    with pytest.raises(ResultsError) as caught:
        check_out_dir(held)
    text = str(caught.value)
    assert text.startswith(f"out={held}: the folder already holds a run; pass overwrite=True")
    assert text.endswith("or choose another folder with out=...")
    _python_words(text)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ResultsError, match=r"^out=.*file: exists and is not a folder$"):
        check_out_dir(blocker)


def test_a_claimed_run_folder_names_out_as_passed(tmp_path):
    out = tmp_path / "o"
    first = claim_out_dir(out)
    try:
        with pytest.raises(ResultsError) as caught:
            claim_out_dir(out)  # a second claim, even in the same process, is refused
        assert str(caught.value).startswith(f"out={out}: in use by ")
        _python_words(str(caught.value))
    finally:
        first.release()


def test_a_sweep_folder_in_use_says_resume_true(tmp_path):
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(ResultsError) as caught:
        SweepStore(tmp_path).create({}, "", "", pd.DataFrame())
    assert "pass resume=True to finish the sweep recorded there" in str(caught.value)
    _python_words(str(caught.value))


def test_an_unknown_outcome_to_discover_is_named_as_the_argument():
    from dualpower_sim.report import _discovery_plan

    results = SimpleNamespace(
        manifest={"outcomes": ["council_power", "restoration"]},
        runs=pd.DataFrame({"outcome": ["council_power", "restoration"]}),
    )
    with pytest.raises(DiscoveryError) as caught:
        _discovery_plan(results, ["victory"])
    assert str(caught.value).startswith("discover='victory': not an outcome; allowed: ")


def test_the_command_turns_the_librarys_arguments_into_its_options():
    library = (
        "out=o/c: the folder already holds a run; pass overwrite=True to replace it, "
        "or choose another folder with out=..."
    )
    assert cli._in_flags(library) == (
        "--out o/c: the folder already holds a run; pass --overwrite to replace it, "
        "or choose another folder with --out"
    )
    assert cli._in_flags("s: then rerun with resume=True") == "s: then rerun with --resume"
    assert cli._in_flags("with resume=True and retry_failed=True") == (
        "with --resume and --retry-failed"
    )
    assert cli._in_flags("discover='x': not an outcome") == "--discover 'x': not an outcome"
    assert cli._in_flags("name a condition with where=...") == "name a condition with --where"
    assert cli._in_flags("horizon=9: horizon = 9") == "--steps 9: horizon = 9"
    # An override keeps its key, even one named as an argument; words inside others stay.
    assert cli._in_flags("override seed=4: x") == "--set seed=4: x"
    assert (
        cli._in_flags("timeout=3 layout=2 o/out=3 'seed=1'")
        == "timeout=3 layout=2 o/out=3 'seed=1'"
    )


def test_the_commands_messages_keep_their_options(tmp_path, capsys):
    held = tmp_path / "held"
    held.mkdir()
    (held / "summary.json").write_text("{}")
    assert cli.main(["run", "us_2003", "--steps", "2", "--out", str(held)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: --out {held}: the folder already holds a run; pass --overwrite to replace it, "
        "or choose another folder with --out\n"
    )
