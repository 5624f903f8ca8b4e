"""Side by side: time a git reference against the working tree (``--against REF``).

``engine.py --against`` and ``sweep.py --against`` use this module; it is not run by itself.

1. REF (by default :data:`BASELINE`) is resolved with ``git rev-parse`` in the repository that
   holds this file, and its files are extracted with ``git archive`` into a temporary folder,
   which is removed afterwards, also after an error, Ctrl-C or SIGTERM. The repository itself is
   left alone: no worktree, no branch, nothing to prune.
2. Every measurement runs ``against_child.py`` (from this working tree, the same script for
   both sides) in a fresh interpreter, ``sys.executable`` (so the same numpy, scipy and mesa),
   with ``<side>/src`` first on ``PYTHONPATH``: the extracted REF on one side, the working tree
   on the other. Each child says which ``dualpower_sim/__init__.py`` it imported: it is printed
   once per side, and a child that imported a package from anywhere else stops the comparison.
3. One untimed child per side first imports the package and runs every scenario for a few days
   (bytecode and any compiled caches are written then, not during a timed run).
4. Then ``repeats`` rounds; in each, every job runs once per side, the reference first: ref,
   tree, ref, tree...
5. Each figure is printed with the median and the range (min to max) of its rounds on each
   side, and the speed-up: ref time / tree time (for a rate, tree rate / ref rate), so that
   above 1 the working tree is faster; the speed-up's range over the rounds' pairs follows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

#: The last commit before the compiled kernels (issue 12): what ``--against`` compares the
#: working tree with when it is given no reference.
BASELINE = "cbec6f11537886e3566b5b8b4020d89afe36ae1d"

#: The repository, and the working tree of one side.
REPO = Path(__file__).resolve().parents[1]
#: The script each measurement runs.
CHILD = Path(__file__).resolve().with_name("against_child.py")

DEFAULT_REPEATS = 5
#: Three, not two: the median of two rounds is their mean, which one disturbed round moves.
QUICK_REPEATS = 3

#: Days each scenario runs in the untimed warm-up child.
WARM_UP_DAYS = 20

#: Lines of a failed child's error output that are printed.
STDERR_LINES = 15


class AgainstError(Exception):
    """A bad ``--against`` reference or repository; the message is for the user."""


class MeasurementError(Exception):
    """A child failed, printed no report, or imported the package from the wrong place."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison.

    Attributes:
        name: ``"ref"`` or ``"tree"``.
        label: What it is, for the header (commit, date, subject; or the folder and its state).
        root: The checkout whose ``src`` goes first on ``PYTHONPATH``.
    """

    name: str
    label: str
    root: Path

    @property
    def src(self) -> Path:
        """The folder that holds this side's ``dualpower_sim``."""
        return self.root / "src"


@dataclass(frozen=True)
class Figure:
    """One printed figure, read from a child's report.

    Attributes:
        label: What it is.
        unit: Its unit.
        value: Reads it from a child's report.
        rate: True if more is faster (runs per second); False for a time.
        compared: False for a figure shown for information only, without a speed-up (the days
            a run lasted, which tell whether both sides ran the same simulation).
    """

    label: str
    unit: str
    value: Callable[[Mapping[str, Any]], float]
    rate: bool = False
    compared: bool = True


@dataclass(frozen=True)
class Job:
    """One child's work, run once per side in every round.

    Attributes:
        name: Short name, for the progress lines.
        runs: ``{"scenario": ..., "seed": ...}`` of each run (see ``against_child.py``).
        processes: 0 to run them in the child itself, else the size of the child's pool.
        figures: What is read from the child's report.
        headline: Index of the figure shown in the progress lines.
    """

    name: str
    runs: tuple[dict[str, Any], ...]
    processes: int
    figures: tuple[Figure, ...]
    headline: int = 0

    def spec(self) -> dict[str, Any]:
        """The JSON object given to the child."""
        return {"runs": list(self.runs), "processes": self.processes}


# --------------------------------------------------------------------------------------------
# Figures computed from a child's report
# --------------------------------------------------------------------------------------------


def ms_per_day(runs: Sequence[Sequence[float]]) -> float:
    """Milliseconds per simulated day over some runs: their total time over their total days."""
    days = sum(r[1] for r in runs)
    return 1e3 * sum(r[0] for r in runs) / days if days else float("nan")


def first_run_ms_per_day(report: Mapping[str, Any]) -> float:
    """Milliseconds per simulated day of the child's first run, build included."""
    return ms_per_day(report["runs"][:1])


def later_runs_ms_per_day(report: Mapping[str, Any]) -> float:
    """Milliseconds per simulated day of the child's runs after its first, build included."""
    return ms_per_day(report["runs"][1:])


def import_seconds(report: Mapping[str, Any]) -> float:
    """Seconds the child took to import the package and the names its runs use."""
    return float(report["import_s"])


def pool_start_seconds(report: Mapping[str, Any]) -> float:
    """Seconds the child's pool took to start, until all its processes imported the package."""
    return float(report["start_s"])


def mean_days(report: Mapping[str, Any]) -> float:
    """Mean days a run lasted."""
    return statistics.fmean(r[1] for r in report["runs"])


def runs_per_second(report: Mapping[str, Any]) -> float:
    """Runs per second over the batch's wall time."""
    return len(report["runs"]) / float(report["wall_s"])


# --------------------------------------------------------------------------------------------
# Command-line options and the reference
# --------------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """A whole number >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed: a whole number >= 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--against`` and ``--repeats`` to a benchmark's parser."""
    parser.add_argument(
        "--against",
        nargs="?",
        const=BASELINE,
        default=None,
        metavar="REF",
        help=(
            "time a git reference (commit, branch, tag, HEAD~3...) side by side with the working "
            "tree, in fresh processes, interleaved, and print the speed-ups; without REF, "
            f"{BASELINE[:12]}, the last commit before the compiled kernels (issue 12)"
        ),
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"rounds of --against (default {DEFAULT_REPEATS}, {QUICK_REPEATS} with --quick)",
    )


def repeats(args: argparse.Namespace) -> int:
    """Rounds to run: ``--repeats``, else the default for ``--quick`` or not."""
    if args.repeats is not None:
        return int(args.repeats)
    return QUICK_REPEATS if args.quick else DEFAULT_REPEATS


def git(*args: str, repo: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``git -C repo ARGS`` and return what it did (it raises nothing if git fails).

    Raises:
        AgainstError: If git is not installed.
    """
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise AgainstError("git is not installed, and it is needed to check REF out") from None


def resolve_ref(ref: str, repo: Path = REPO) -> str:
    """The full hash of the commit ``ref`` names in ``repo``.

    Args:
        ref: A commit, branch, tag, ``HEAD~3``...
        repo: The repository.

    Returns:
        40 hex digits.

    Raises:
        AgainstError: If ``repo`` is not a git checkout, or ``ref`` names no commit in it.
    """
    if git("rev-parse", "--show-toplevel", repo=repo).returncode:
        raise AgainstError(
            f"{repo} is not a git checkout: REF is looked up in the repository of the benchmarks"
        )
    if not ref or ref.startswith("-"):
        raise AgainstError(f"{ref!r} is not a git reference")
    found = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", repo=repo)
    if found.returncode:
        raise AgainstError(
            f"{ref!r} names no commit in {repo} (allowed: a commit hash, branch, tag or an "
            "expression such as HEAD~3; in a shallow clone, fetch the commit first)"
        )
    return found.stdout.strip()


def describe_commit(commit: str, repo: Path = REPO) -> str:
    """``<short hash> <date> <subject, cut short>`` of a commit."""
    out = git("log", "-1", "--format=%h %cs %s", commit, repo=repo).stdout.strip()
    return out if len(out) <= 90 else out[:87] + "..."


def describe_tree(repo: Path = REPO) -> str:
    """The working tree: its folder, HEAD, and how many files under ``src/`` differ from HEAD."""
    head = git("rev-parse", "--short", "HEAD", repo=repo).stdout.strip() or "?"
    status = git("status", "--porcelain", "--", "src", "experiments", repo=repo).stdout
    changed = len(status.splitlines())
    state = f"{changed} changed files under src/ and experiments/" if changed else "no changes"
    return f"{repo} (HEAD {head}, {state})"


@contextmanager
def extracted(commit: str, repo: Path = REPO) -> Iterator[Path]:
    """Extract a commit's files to a temporary folder, removed on leaving (whatever happens).

    Args:
        commit: The commit (a full hash, as :func:`resolve_ref` gives).
        repo: The repository.

    Yields:
        The folder holding the commit's files.

    Raises:
        AgainstError: If ``git archive`` fails, or the commit holds no ``src/dualpower_sim``.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"dualpower-ref-{commit[:7]}-"))
    try:
        archive = folder / "ref.tar"
        made = git("archive", "--format=tar", f"--output={archive}", commit, repo=repo)
        if made.returncode:
            raise AgainstError(f"git archive {commit[:12]} failed: {made.stderr.strip()}")
        root = folder / "tree"
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tar.extractall(root, filter="data")
            else:  # the archive is git's own, of this repository
                tar.extractall(root)
        archive.unlink()
        if not (root / "src" / "dualpower_sim" / "__init__.py").is_file():
            raise AgainstError(f"{commit[:12]} holds no src/dualpower_sim/__init__.py")
        yield root
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt meanwhile, so that clean-up runs on either."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def run_child(side: Side, spec: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Run ``against_child.py`` for one side and return its report.

    Args:
        side: Whose package to import.
        spec: The job (see ``against_child.py``).
        what: The job's name, for messages.

    Returns:
        The child's report.

    Raises:
        MeasurementError: If the child fails, prints no report, or imported ``dualpower_sim``
            from outside ``side.src``.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(side.src), os.environ.get("PYTHONPATH", "")) if p
    )
    # -P: the script's own folder (this one) is not put on sys.path in the child.
    proc = subprocess.run(
        [sys.executable, "-P", str(CHILD), json.dumps(spec)],
        cwd=side.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-STDERR_LINES:])
        hint = (
            "\n(a reference older than the public API the child uses, DualPowerModel(horizon=...),"
            " HardshipShock and dualpower_sim.config.load_experiment, cannot run it)"
            if side.name == "ref"
            else ""
        )
        raise MeasurementError(
            f"the {side.name} side's child failed ({what}, exit status {proc.returncode}):\n"
            f"{tail}{hint}"
        )
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        raise MeasurementError(
            f"the {side.name} side's child printed no report ({what}): {lines[-1]!r}"
        ) from None
    for file in report["files"]:
        if not Path(file).resolve().is_relative_to(side.src.resolve()):
            raise MeasurementError(
                f"the {side.name} side imported {file}, not the package under {side.src}: the "
                "two sides would not differ (is dualpower_sim installed in a way that "
                "overrides PYTHONPATH?)"
            )
    return report


def warm_up_spec(jobs: Sequence[Job]) -> dict[str, Any]:
    """Every distinct scenario of the jobs, for :data:`WARM_UP_DAYS` days each, in one child."""
    scenarios: list[dict[str, Any]] = []
    for job in jobs:
        for run in job.runs:
            scenario = json.loads(json.dumps(run["scenario"]))  # a deep copy
            if "model" in scenario:
                scenario["model"]["horizon"] = WARM_UP_DAYS
            else:
                scenario["horizon"] = WARM_UP_DAYS
            if scenario not in scenarios:
                scenarios.append(scenario)
    return {"runs": [{"scenario": s, "seed": 1} for s in scenarios], "processes": 0}


def fmt(value: float) -> str:
    """A figure with three significant digits (more before the point if it has them)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:#.3g}"


def compare(
    jobs: Sequence[Job], ref: Side, tree: Side, rounds: int
) -> dict[tuple[int, int], dict[str, list[float]]]:
    """Warm both sides up, then run every job on both sides, interleaved, ``rounds`` times.

    Args:
        jobs: What to run.
        ref: The reference's side.
        tree: The working tree's side.
        rounds: Rounds.

    Returns:
        For each (job index, figure index), the values per side name, one per round.

    Raises:
        MeasurementError: If a child fails or imports the wrong package.
    """
    sides = (ref, tree)
    warm = warm_up_spec(jobs)
    print("   Sides (each child runs this interpreter with <side>/src first on PYTHONPATH):")
    for side in sides:
        t0 = time.perf_counter()
        report = run_child(side, warm, "warm-up")
        print(f"   {side.name:<4}  {side.label}")
        print(
            f"         imports {', '.join(report['files'])}  "
            f"(warm-up child {time.perf_counter() - t0:.1f} s, untimed)"
        )
    print(flush=True)
    values: dict[tuple[int, int], dict[str, list[float]]] = {
        (j, f): {side.name: [] for side in sides}
        for j, job in enumerate(jobs)
        for f in range(len(job.figures))
    }
    for r in range(rounds):
        for j, job in enumerate(jobs):
            spec = job.spec()
            for side in sides:
                report = run_child(side, spec, job.name)
                for f, figure in enumerate(job.figures):
                    values[j, f][side.name].append(figure.value(report))
            head = job.figures[job.headline]
            pair = values[j, job.headline]
            print(
                f"   round {r + 1}/{rounds}  {job.name:<18} {head.unit:>11}:  "
                f"ref {fmt(pair['ref'][-1]):>6}  tree {fmt(pair['tree'][-1]):>6}",
                flush=True,
            )
    print()
    return values


def speed_up(figure: Figure, ref: float, tree: float) -> float:
    """Ref time / tree time, or tree rate / ref rate: above 1, the working tree is faster."""
    return tree / ref if figure.rate else ref / tree


def print_table(
    jobs: Sequence[Job], values: Mapping[tuple[int, int], Mapping[str, Sequence[float]]]
) -> None:
    """Print every figure: median [min, max] per side, speed-up of the medians [pairs' range]."""

    def cell(xs: Sequence[float]) -> str:
        return f"{fmt(statistics.median(xs))} [{fmt(min(xs))}, {fmt(max(xs))}]"

    width = max(len(f"{fig.label} ({fig.unit})") for job in jobs for fig in job.figures)
    print(
        f"   {'figure (unit)':<{width}}  {'ref: median [min, max]':<25} "
        f"{'tree: median [min, max]':<25} speed-up [pairs]"
    )
    for j, job in enumerate(jobs):
        for f, figure in enumerate(job.figures):
            ref, tree = values[j, f]["ref"], values[j, f]["tree"]
            label = f"{figure.label} ({figure.unit})"
            if figure.compared:
                pairs = [speed_up(figure, a, b) for a, b in zip(ref, tree, strict=True)]
                ratio = speed_up(figure, statistics.median(ref), statistics.median(tree))
                last = f"{ratio:.2f}x [{min(pairs):.2f}, {max(pairs):.2f}]"
            else:
                last = "-"
            print(f"   {label:<{width}}  {cell(ref):<25} {cell(tree):<25} {last}")
    print(
        "\n   speed-up: ref time / tree time (for a rate, tree rate / ref rate), of the medians;"
        "\n   above 1 the working tree is faster. In brackets, its range over the rounds' pairs."
    )


def resolve_or_exit(parser: argparse.ArgumentParser, ref: str) -> str:
    """:func:`resolve_ref`, reporting a bad REF through the parser (exit status 2).

    Args:
        parser: The benchmark's parser: the message names ``--against``.
        ref: The reference, as given.

    Returns:
        The commit's full hash.
    """
    try:
        return resolve_ref(ref)
    except AgainstError as exc:
        parser.error(f"argument --against: {exc}")


def run(
    parser: argparse.ArgumentParser,
    ref: str,
    commit: str,
    rounds: int,
    jobs: Sequence[Job],
    describe: Sequence[str] = (),
) -> int:
    """Check REF out, compare it with the working tree, print the figures, clean up.

    Args:
        parser: The benchmark's parser, through which a checkout that fails is reported (one
            message naming ``--against``, exit status 2).
        ref: The reference, as given.
        commit: Its full hash (:func:`resolve_or_exit`).
        rounds: Rounds of the comparison.
        jobs: What to run.
        describe: Lines printed first, saying what the jobs measure.

    Returns:
        0 once the figures are printed; 1 if a child failed; 130 if interrupted.
    """
    head = git("rev-parse", "HEAD").stdout.strip()
    print(
        f"Side by side, --against {ref} ({commit[:12]}): {rounds} round"
        f"{'' if rounds == 1 else 's'}, interleaved (ref, tree, ref, tree...)"
    )
    for line in describe:
        print(f"   {line}")
    if commit == head:
        print("   REF is HEAD: both sides run the same code, unless the working tree has changes.")
    print(flush=True)
    t0 = time.perf_counter()
    try:
        with sigterm_as_interrupt(), extracted(commit) as root:
            ref_side = Side("ref", describe_commit(commit), root)
            tree_side = Side("tree", describe_tree(), REPO)
            values = compare(jobs, ref_side, tree_side, rounds)
    except AgainstError as exc:
        parser.error(f"argument --against: {exc}")
    except MeasurementError as exc:
        print(f"\n!!! {exc}\n!!! no figures: the comparison stopped (the checkout was removed)")
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted (the reference's temporary checkout was removed)", file=sys.stderr)
        return 130
    print_table(jobs, values)
    print(f"\nTotal wall time {time.perf_counter() - t0:.0f} s")
    return 0
