"""The ``dualpower`` command's grammar: its subcommands, their options and their ``--help``.

:func:`build_parser` makes the parser, one function per subcommand; :mod:`dualpower_sim.cli`
runs what it parses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from . import __version__
from .params import did_you_mean

__all__ = ["EXAMPLES", "FIGURE_FORMATS", "PROG", "UsageError", "build_parser", "unrecognized"]

PROG = "dualpower"
FIGURE_FORMATS = ("png", "pdf", "svg")


class UsageError(Exception):
    """Bad command-line usage (argparse's complaint, kept from exiting the interpreter)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and sys.exit(2)
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class _Renamed(argparse.Action):
    """An option whose meaning moved to another name: refused with one line naming the new one."""

    def __init__(self, option_strings: list[str], dest: str, new: str, meaning: str) -> None:
        super().__init__(option_strings, dest, nargs="?", help=argparse.SUPPRESS)
        self.new, self.meaning = new, meaning

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        raise UsageError(
            f"{parser.prog}: {option_string} is now {self.new}, the number of {self.meaning} "
            f"({option_string} is the city's size in {PROG} run)"
        )


def _positive_int(low: int = 1, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, not {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high} (2**63 - 1), not {value}")
        return value

    return parse


def _workers(text: str) -> int:
    try:
        value = float(text)  # accepts 1e6
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if not value.is_integer() or value < 2:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 2, not {text!r}")
    return int(value)


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed", type=_positive_int(0, 2**63 - 1), help="root seed (replaces the config's)"
    )
    p.add_argument(
        "--steps",
        type=_positive_int(),
        help="run at most N days (replaces the config's horizon)",
    )
    p.add_argument("--workers", type=_workers, help="number of workers, e.g. 1000000 or 1e6")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one parameter, e.g. --set councils.formation_share=0.4 (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``dualpower`` command's parser: each subcommand added by its own function."""
    p = _Parser(
        prog=PROG,
        description=(
            "Simulate dual power: workers' councils beside a state, and which one gives way. "
            "Run an experiment config or a historical scenario, inspect configs, redraw plots."
        ),
        epilog="Each command has its own --help, e.g. dualpower run --help.",
    )
    p.add_argument("--version", action="version", version=f"dualpower_sim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (
        _add_run,
        _add_scenarios,
        _add_config,
        _add_sweep,
        _add_report,
        _add_discover,
        _add_calibrate,
        _add_posterior,
        _add_plot,
        _add_app,
    ):
        add(sub)
    _add_examples(p)
    return p


def _add_run(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower run CONFIG``: one run, its results written to a folder."""
    run = sub.add_parser(
        "run",
        help="run one model from a config and write its results",
        description=(
            "Run one model from a config (a TOML file or a scenario's name) with a progress "
            "bar, print a short summary, and write summary.json, the indicators and events "
            "(CSV), the resolved config and the figures to DIR."
        ),
    )
    run.add_argument("config", metavar="CONFIG", help="a .toml file or a scenario's name")
    _add_overrides(run)
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder (default: out/NAME, or out/NAME-seedN with --seed)",
    )
    run.add_argument(
        "--overwrite", action="store_true", help="replace an earlier run in the results folder"
    )
    run.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run even if the city's estimated memory is more than the machine has free",
    )


def _add_scenarios(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower scenarios``: the presets."""
    sub.add_parser(
        "scenarios",
        help="list the preset scenarios",
        description="List the preset scenarios (the .toml files of the experiments folder).",
    )


def _add_config(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower config show CONFIG``: the resolved config."""
    config = sub.add_parser(
        "config",
        help="inspect a config",
        description="Inspect a config.",
    )
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    show = config_sub.add_parser(
        "show",
        help="print the fully resolved config, defaults included",
        description=(
            "Print the fully resolved config: every parameter with its default or value, "
            "what it means, and the config's hash."
        ),
    )
    show.add_argument("config", metavar="CONFIG", help="a .toml file or a scenario's name")
    _add_overrides(show)
    show.add_argument("--no-comments", action="store_true", help="leave out the explanations")


def _add_sweep(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower sweep FILE``: many runs over a design, and refinement."""
    sweep = sub.add_parser(
        "sweep",
        help="run a sweep: many runs over a design of parameter points",
        description=(
            "Run a sweep file (a design of parameter points, replicates, a root seed) into a "
            "results folder: Parquet parts written atomically, resumable after a crash."
        ),
    )
    sweep.add_argument("file", type=Path, metavar="FILE", help="the sweep's .toml file")
    sweep.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: sweeps/NAME)"
    )
    sweep.add_argument(
        "-j",
        "--jobs",
        type=_positive_int(),
        default=None,
        metavar="N",
        help="processes to run on (default: every core; 1 runs in this process)",
    )
    sweep.add_argument("--workers", action=_Renamed, new="--jobs (-j)", meaning="processes")
    sweep.add_argument(
        "--resume", action="store_true", help="finish the sweep recorded in the results folder"
    )
    sweep.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --resume: run again the runs recorded as failed",
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="print the runs and an estimated time, run nothing"
    )
    sweep.add_argument(
        "--shard", metavar="I/N", help="run only shard I of N (a job array, no scheduler)"
    )
    sweep.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop a run after this long and record it as failed",
    )
    sweep.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or Dask (the dask extra)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://host:8786 (implies --executor dask)",
    )
    sweep.add_argument(
        "--refine",
        action="store_true",
        help="then add runs where an outcome's probability is still unsure around one half",
    )
    sweep.add_argument(
        "--target-width",
        type=float,
        default=0.1,
        metavar="W",
        help="refine until the tipping point's 95%% interval is narrower than W (default 0.1)",
    )
    sweep.add_argument(
        "--budget", type=_positive_int(), metavar="N", help="refine with at most N new runs"
    )
    sweep.add_argument(
        "--outcome",
        metavar="OUTCOME",
        help="refine on this outcome (default: council_power or state_restored)",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sweep.add_argument(
        "--no-memory-check",
        action="store_true",
        help="run as many processes as asked even if their estimated memory does not fit",
    )


def _add_calibrate(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower calibrate FILE``: ABC-SMC against history (the calibrate extra)."""
    cal = sub.add_parser(
        "calibrate",
        help="calibrate against history: ABC-SMC over the episodes (the calibrate extra)",
        description=(
            "Infer the parameters of a calibration file (priors, episodes and their historical "
            "targets) by ABC-SMC with pyabc, into a folder holding pyabc's history database: "
            "a calibration stopped at any moment resumes from its last complete generation."
        ),
    )
    cal.add_argument("file", type=Path, metavar="FILE", help="the calibration's .toml file")
    cal.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: calib/NAME)")
    cal.add_argument(
        "-j",
        "--jobs",
        type=_positive_int(),
        default=None,
        metavar="N",
        help="processes (default: every core; 1 is reproducible, see docs/calibration.md)",
    )
    cal.add_argument(
        "--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786"
    )
    cal.add_argument(
        "--resume", action="store_true", help="continue the calibration in the output folder"
    )
    cal.add_argument(
        "--dry-run",
        action="store_true",
        help="print the particles, generations, runs and an estimated time; run nothing",
    )
    cal.add_argument(
        "--leave-out", metavar="EPISODE", help="calibrate on every episode but this one"
    )
    cal.add_argument(
        "--leave-one-out",
        action="store_true",
        help="then calibrate once more without each episode in turn, into DIR/leave_out/EPISODE",
    )
    cal.add_argument("--quiet", action="store_true", help="no progress lines or bar")


def _add_posterior(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower posterior DIR``: a calibration's report."""
    post = sub.add_parser(
        "posterior",
        help="report a calibration's posterior: intervals, figures, predictive checks",
        description=(
            "Write a calibration's report (report.md, CSV tables, figures): marginal posteriors "
            "with credible intervals and their contraction against the priors, pairwise "
            "densities of the shared parameters, posterior predictive checks of every episode, "
            "and the leave-one-episode-out table when DIR/leave_out holds those calibrations."
        ),
    )
    post.add_argument("folder", type=Path, metavar="DIR", help="the calibration's folder")
    post.add_argument(
        "--out", type=Path, metavar="DIR", help="report folder (default: DIR/posterior)"
    )
    post.add_argument(
        "--draws",
        type=_positive_int(0),
        default=20,
        metavar="N",
        help="posterior draws for the predictive checks (default 20; 0 skips them)",
    )
    post.add_argument(
        "--replicates",
        type=_positive_int(),
        default=1,
        metavar="N",
        help="runs per episode per draw (default 1)",
    )
    post.add_argument(
        "-j",
        "--jobs",
        type=_positive_int(),
        default=None,
        metavar="N",
        help="processes for the predictive runs (default: every core; the same rows whatever N)",
    )


def _add_report(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower report DIR``: a sweep's analysis."""
    report = sub.add_parser(
        "report",
        help="analyse a sweep: outcome probabilities, tipping points, phase diagrams",
        description=(
            "Analyse a sweep folder: outcome probabilities with Wilson intervals, tipping "
            "points with bootstrap intervals, phase diagrams, and a Markdown summary."
        ),
    )
    report.add_argument("folder", type=Path, metavar="DIR", help="a sweep's results folder")
    report.add_argument("--out", type=Path, metavar="DIR", help="default: DIR/report")
    report.add_argument(
        "--discover",
        action="append",
        nargs="?",
        metavar="OUTCOME",
        help=(
            "add scenario discovery (PRIM boxes, CART, feature scores) for this outcome "
            "(repeatable); alone: every outcome met by at least 5%% of the runs (the discover "
            "extra)"
        ),
    )


def _add_discover(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower discover DIR``: scenario discovery on a sweep."""
    discover = sub.add_parser(
        "discover",
        help="scenario discovery: which combinations of parameters lead to a condition",
        description=(
            "Scenario discovery on a sweep folder: PRIM's box of the parameters where runs "
            "meet a condition (with quasi-p-values and a stability check), CART's leaves, "
            "feature scores, figures and discovery.md. A condition compares columns of the run "
            "table (outcome, resolved_step, peak_council_power, ...) with values, joined by "
            "and, or, not: it is parsed, never run as code. Needs the discover extra: python "
            "-m pip install 'dualpower_sim[discover]'."
        ),
    )
    discover.add_argument("folder", type=Path, metavar="DIR", help="a sweep's results folder")
    discover.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help="a condition, e.g. 'resolved_step < 90' (repeatable)",
    )
    discover.add_argument(
        "--outcome",
        action="append",
        default=[],
        metavar="OUTCOME",
        help="an outcome, e.g. council_power (repeatable; default with no --where: every "
        "outcome met by at least 5%% of the runs)",
    )
    discover.add_argument("--out", type=Path, metavar="DIR", help="default: DIR/discovery")
    discover.add_argument(
        "--min-coverage",
        type=float,
        default=0.5,
        metavar="C",
        help="the least share of the runs meeting the condition a box must hold (default 0.5)",
    )
    discover.add_argument(
        "--seed", type=_positive_int(0, 2**63 - 1), default=0, help="seed of the random draws"
    )


def _add_plot(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower plot DIR``: a run's figures redrawn."""
    plot = sub.add_parser(
        "plot",
        help="redraw the figures of a finished run",
        description="Redraw the figures of a run folder written by `dualpower run`.",
    )
    plot.add_argument("folder", type=Path, metavar="DIR", help="a run's results folder")
    plot.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format")


def _add_app(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``dualpower app [CONFIG]``: the interactive app."""
    app = sub.add_parser(
        "app",
        help="open the interactive app in the browser (needs the app extra)",
        description=(
            "Serve the interactive app (Mesa's SolaraViz) on this machine: pick a scenario, move "
            "the sliders, press Reset, then Step or Play, and watch the two powers, the city's "
            "map and the councils. Needs the app extra: python -m pip install "
            "'dualpower_sim[app]'."
        ),
    )
    app.add_argument(
        "config",
        nargs="?",
        default="petrograd_1917",
        metavar="CONFIG",
        help="the scenario or .toml file the app opens with (default: petrograd_1917)",
    )
    app.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for all)",
    )
    app.add_argument(
        "--port",
        type=_positive_int(0),
        default=8765,
        metavar="PORT",
        help="port to listen on (default 8765; 0 picks a free one)",
    )


#: An example or two for each command's --help (the key is the command as typed).
EXAMPLES = {
    "run": """\
examples:
  dualpower run petrograd_1917
  dualpower run paris_1871 --seed 3 --steps 120 --workers 50000 --out out/paris-3
  dualpower run my_experiment.toml --set councils.formation_share=0.4""",
    "scenarios": """\
example:
  dualpower scenarios""",
    "config": """\
example:
  dualpower config show petrograd_1917""",
    "config show": """\
examples:
  dualpower config show petrograd_1917
  dualpower config show my_experiment.toml --set legitimacy=0.3 --no-comments""",
    "sweep": """\
examples:
  dualpower sweep experiments/sweeps/territory_vs_offensive.toml --dry-run
  dualpower sweep experiments/sweeps/territory_vs_offensive.toml --jobs 2
  dualpower sweep experiments/sweeps/territory_vs_offensive.toml --resume""",
    "report": """\
examples:
  dualpower report sweeps/territory_vs_offensive
  dualpower report sweeps/conditions_lhs --discover council_power --discover state_restored""",
    "discover": """\
examples:
  dualpower discover sweeps/conditions_lhs --where 'resolved_step < 90'
  dualpower discover sweeps/conditions_lhs --where 'peak_council_power > 0.6 and steps < 120'""",
    "calibrate": """\
examples:
  dualpower calibrate experiments/calibration/history.toml --dry-run
  dualpower calibrate experiments/calibration/history.toml --out calib/history
  dualpower calibrate experiments/calibration/history.toml --out calib/history --resume""",
    "posterior": """\
example:
  dualpower posterior calib/history""",
    "plot": """\
example:
  dualpower plot out/petrograd_1917 --format pdf""",
    "app": """\
examples:
  dualpower app
  dualpower app paris_1871 --port 8800""",
}


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps a description as argparse does, but prints an epilog's example lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _add_examples(parser: argparse.ArgumentParser) -> None:
    for command, example in EXAMPLES.items():
        sub = parser
        for word in command.split():
            sub = next(
                a.choices for a in sub._actions if isinstance(a, argparse._SubParsersAction)
            )[word]
        sub.epilog = example
        sub.formatter_class = _HelpFormatter


def unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extra) -> None:
    """Name the command whose options were wrong, and the option meant where one is close."""
    command = " ".join(x for x in (args.command, getattr(args, "action", None)) if x)
    sub = parser
    for word in command.split():
        choices = next(a.choices for a in sub._actions if isinstance(a, argparse._SubParsersAction))
        sub = choices[word]
    options = [o for a in sub._actions for o in a.option_strings]
    first = extra[0]
    hint = did_you_mean(first.split("=")[0], options, quote=False)
    raise UsageError(f"{sub.prog}: unrecognized argument {first}{hint} (see {sub.prog} --help)")
