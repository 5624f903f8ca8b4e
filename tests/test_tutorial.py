"""The tutorial (docs/tutorial.md) says what the code does.

Its ``dualpower`` commands parse with the real command line and together name every command;
its images and links exist; its config and sweep files load; and its cheap commands, run in
order in a fresh folder, print what the tutorial shows. Commands too slow for a test (a
50,000-worker run, full sweeps) are only parsed; the sweep runs small in their place, so the
commands and the Python that read its results still run. When the model changes, the first run's
output changes, this test fails, and every pasted output should be refreshed.
"""

import argparse
import json
import re
import shlex
from pathlib import Path

import pytest

from dualpower_sim.cli import main
from dualpower_sim.cli_parser import build_parser
from dualpower_sim.config import experiments_dir

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"
#: The folder the tutorial's outputs show the presets in (the reader's copy of the project).
SHOWN_ROOT = "/home/you/dualpower_sim"
#: Commands the test only parses: too slow to run here (or their output depends on a full run).
NOT_RUN = {
    "dualpower run petrograd_1917 --workers 50000 --seed 2",
    "dualpower run loyal_garrison.toml",
    "dualpower sweep cadres.toml --resume",
}
#: The tutorial's sweep, made tiny: (pattern, replacement) pairs, each must match once.
TINY_SWEEP = (
    (r"^replicates = \d+", "replicates = 1"),
    (r"^n_workers = \d+", "n_workers = 6000"),
    (r"^horizon = \d+", "horizon = 10"),
    (r"steps = \d+ \}", "steps = 2 }"),
)


def blocks() -> list[tuple[str, str]]:
    """The fenced blocks of the tutorial, in order: (language, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)


def console_commands(text: str) -> list[tuple[str, list[str]]]:
    """A console block's commands (after ``$ ``) with the lines shown after each."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append((line[2:].strip(), []))
        else:
            assert out, f"output before any command: {line!r}"
            out[-1][1].append(line)
    return out


def fenced_commands() -> list[str]:
    """Every ``dualpower`` command of a console or bash block."""
    commands = []
    for lang, text in blocks():
        if lang == "console":
            commands += [c for c, _ in console_commands(text) if c.startswith("dualpower")]
        elif lang == "bash":
            commands += [ln.strip() for ln in text.splitlines() if ln.startswith("dualpower")]
    return commands


def inline_commands() -> list[str]:
    """``dualpower ...`` written as inline code in the text (often only a fragment)."""
    spans = re.findall(r"`dualpower ([^`]*)`", TUTORIAL.read_text())
    return [s for s in spans if not s.split()[0].endswith(":")]  # not "dualpower app: ..." output


def split(command: str) -> tuple[list[str], int | None]:
    """The arguments after ``dualpower``, and N of a trailing ``| head -N``."""
    words = shlex.split(command, comments=True)
    assert words[0] == "dualpower", command
    head = None
    if "|" in words:
        at = words.index("|")
        assert words[at + 1 :][:1] == ["head"], f"only | head -N is understood: {command}"
        head = int(words[at + 2].lstrip("-"))
        words = words[:at]
    return words[1:], head


def cli_commands() -> set[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def normalise(lines: list[str]) -> list[str]:
    """Lines with the reader's folder, durations and core counts made comparable."""
    root = str(experiments_dir().parent)
    out = []
    for line in lines:
        line = line.replace(root, SHOWN_ROOT).rstrip()
        line = re.sub(r"\b\d+(\.\d+)? (s|min|h)\b", "<time>", line)
        out.append(re.sub(r"on \d+ process\(es\)", "on <n> process(es)", line))
    return out


def assert_shows(shown: list[str], real: list[str], what: str) -> None:
    """Every stretch of shown lines between ``...`` lines appears in order in the real output."""
    shown, real = normalise(shown), normalise(real)
    chunks, chunk = [], []
    for line in shown:
        if line.strip() == "...":
            chunks.append(chunk)
            chunk = []
        else:
            chunk.append(line)
    chunks.append(chunk)
    at = 0
    for chunk in filter(None, chunks):
        n = len(chunk)
        found = next((i for i in range(at, len(real) - n + 1) if real[i : i + n] == chunk), None)
        assert found is not None, (
            f"{what}: shown\n" + "\n".join(chunk) + "\nreal\n" + "\n".join(real)
        )
        at = found + n


def run_command(command: str, capsys) -> tuple[int, list[str]]:
    argv, head = split(command)
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    if head is not None:
        lines = lines[:head]
    return code, lines + captured.err.splitlines()


def write_tutorial_files(folder: Path) -> dict[str, str]:
    """The TOML blocks that open with ``# NAME.toml``, written as the tutorial says."""
    files = {}
    for lang, text in blocks():
        name = re.match(r"# ([\w.-]+\.toml)\b", text)
        if lang == "toml" and name:
            (folder / name.group(1)).write_text(text)
            files[name.group(1)] = text
    return files


def run_tiny_sweep(folder: Path, text: str, capsys) -> None:
    """The tutorial's cadres.toml, two runs of ten days, in this process."""
    tiny = text
    for pattern, replacement in TINY_SWEEP:
        tiny, n = re.subn(pattern, replacement, tiny, flags=re.M)
        assert n == 1, f"the tutorial's sweep has no {pattern!r} to shrink"
    path = folder / "cadres.toml"
    path.write_text(tiny)
    try:
        assert main(["sweep", "cadres.toml", "--jobs", "1", "--quiet"]) == 0
    finally:
        path.write_text(text)
    capsys.readouterr()


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", fenced_commands())
def test_every_command_parses(command, capsys):
    argv, _ = split(command)
    try:
        args, extra = build_parser().parse_known_args(argv)
    except SystemExit as exc:  # --version, --help
        assert exc.code in (0, None), command
        assert capsys.readouterr().out
        return
    assert not extra, f"{command}: unrecognised {extra}"
    assert args.command in cli_commands()


def test_the_tutorial_names_every_command_and_no_other():
    fenced = {split(c)[0][0] for c in fenced_commands()}
    inline = {shlex.split(c)[0] for c in inline_commands()}
    named = {c for c in fenced | inline if not c.startswith("-")}
    assert named <= cli_commands(), named - cli_commands()
    assert cli_commands() <= named, f"not in the tutorial: {cli_commands() - named}"
    assert NOT_RUN <= set(fenced_commands()), NOT_RUN - set(fenced_commands())


def test_images_and_links_exist():
    text = TUTORIAL.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, "the tutorial shows figures"
    for image in images:
        path = DOCS / image
        assert path.is_file(), image
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
        assert path.stat().st_size < 250_000, f"{image}: keep images small"
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (DOCS / link).exists(), link


@pytest.mark.slow
def test_the_commands_print_what_the_tutorial_shows(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = write_tutorial_files(tmp_path)
    assert {"loyal_garrison.toml", "cadres.toml"} <= set(files)
    ran = 0
    every = blocks()
    for i, (lang, text) in enumerate(every):
        if lang == "python":
            capsys.readouterr()
            exec(compile(text, str(TUTORIAL), "exec"), {})
            printed = capsys.readouterr().out.splitlines()
            after, shown = every[i + 1]
            assert after == "text" and printed, "a Python block is followed by what it prints"
            if "load_results" not in text:  # the sweep here is a tiny stand-in: not compared
                assert_shows(shown.splitlines(), printed, text.splitlines()[-1])
        if lang != "console":
            continue
        for command, shown in console_commands(text):
            if command in NOT_RUN:
                continue
            if command == "dualpower sweep cadres.toml" and not Path("sweeps/cadres").exists():
                run_tiny_sweep(tmp_path, files["cadres.toml"], capsys)
                continue
            code, real = run_command(command, capsys)
            error = bool(shown) and shown[0].startswith("error:")
            assert code == (2 if error else 0), (command, real)
            assert_shows(shown, real, command)
            ran += 1
    assert ran >= 10

    # The first run's folder holds the files the tutorial lists, and the summary it shows.
    run = tmp_path / "out" / "petrograd_1917"
    listed = re.findall(r"^\| `(\w+\.(?:json|csv|toml|png))` \|", TUTORIAL.read_text(), re.M)
    assert len(listed) == 8
    for name in listed:
        assert (run / name).is_file(), name
    shown = json.loads(next(t for lang, t in blocks() if lang == "json"))
    summary = json.loads((run / "summary.json").read_text())
    assert {k: summary[k] for k in shown} == shown
    # The report the tutorial reads was written, with the figure it shows.
    report = tmp_path / "sweeps" / "cadres" / "report"
    assert (report / "report.md").is_file()
    assert (report / "curves_debate_cadre_share.png").is_file()
