"""The ``dualpower`` command (also ``python -m dualpower_sim``).

::

    dualpower run CONFIG [--seed N] [--steps N] [--workers N] [--set key=value ...] [--out DIR]
    dualpower scenarios
    dualpower config show CONFIG [--set key=value ...]
    dualpower plot DIR
    dualpower sweep FILE [--jobs N] [--resume] [--dry-run] ...
    dualpower report DIR [--discover [OUTCOME]] ...
    dualpower discover DIR [--where CONDITION] [--outcome OUTCOME] ...
    dualpower app [CONFIG] [--host HOST] [--port PORT]

``CONFIG`` is a TOML file or a preset's name (``dualpower scenarios`` lists them).
:func:`main` takes the arguments as a list and returns the exit code, so tests call it directly:
0 on success, 2 on bad input (one message naming the file, the key and what is allowed; never a
traceback, and nothing written), 1 if a run fails, 130 if interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import ConfigError, Experiment, experiments_dir, load_experiment, scenario_names
from .discovery import DiscoveryError, MissingExtraError
from .params import ParameterError, did_you_mean
from .provenance import library_versions, now
from .results import (
    ResultsError,
    RunRecord,
    check_out_dir,
    claim_out_dir,
    load_run,
    save_figures,
    write_run,
)

__all__ = ["main"]

PROG = "dualpower"
#: The command-line flag of each option the library checks by its Python name.
FLAGS = {
    "jobs": "--jobs",
    "time_limit": "--time-limit",
    "executor": "--executor",
    "scheduler": "--scheduler",
    "shard": "--shard",
    "outcome": "--outcome",
    "target_width": "--target-width",
    "budget": "--budget",
}
FIGURE_FORMATS = ("png", "pdf", "svg")


class UsageError(Exception):
    """Bad command-line usage (argparse's complaint, kept from exiting the interpreter)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and sys.exit(2)
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


@contextlib.contextmanager
def _flags() -> Iterator[None]:
    """Name the flag in a library's message about one of its options (``jobs`` is ``--jobs``)."""
    try:
        yield
    except ParameterError as exc:
        if exc.name not in FLAGS:
            raise
        value = repr(exc.value) if isinstance(exc.value, str) else exc.value
        raise UsageError(f"{FLAGS[exc.name]} {value}: {exc.allowed}") from None


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


def _parser() -> argparse.ArgumentParser:
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

    sub.add_parser(
        "scenarios",
        help="list the preset scenarios",
        description="List the preset scenarios (the .toml files of the experiments folder).",
    )

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

    plot = sub.add_parser(
        "plot",
        help="redraw the figures of a finished run",
        description="Redraw the figures of a run folder written by `dualpower run`.",
    )
    plot.add_argument("folder", type=Path, metavar="DIR", help="a run's results folder")
    plot.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format")

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
    _add_examples(p)
    return p


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dualpower`` command.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        Exit code: 0 success, 1 failure, 2 bad input, 130 interrupted, 141 when the reader of
        the output went away (``dualpower scenarios | head -1``), as a shell reports a closed pipe.
    """
    try:
        code = _command(argv)
        sys.stdout.flush()  # a closed pipe shows here rather than as the interpreter exits
    except BrokenPipeError:
        # The reader has what it wanted: stop quietly, as Unix tools do. Python would still try
        # to flush what is left when it exits and print a traceback, so stdout goes to devnull.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture)
            pass
        return 141
    return code


def _command(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unrecognized(parser, args, extra)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command == "config" and args.action is None:
            raise UsageError(f"{PROG} config: choose an action: show (see {PROG} config --help)")
        handler = {
            "run": _run,
            "scenarios": _scenarios,
            "config": _config,
            "plot": _plot,
            "sweep": _sweep,
            "report": _report,
            "discover": _discover,
            "app": _app,
        }
        return handler[args.command](args)
    except SystemExit as exc:  # --help and --version exit 0 through argparse
        return int(exc.code or 0)
    except (UsageError, ConfigError, ResultsError, DiscoveryError, MissingExtraError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if getattr(locals().get("args"), "command", None) == "sweep":
            print(
                "interrupted; the finished runs are recorded: rerun with --resume to go on",
                file=sys.stderr,
            )
        else:
            print("interrupted; nothing was written", file=sys.stderr)
        return 130


def _unrecognized(parser: argparse.ArgumentParser, args: argparse.Namespace, extra) -> None:
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


def _load(args: argparse.Namespace) -> Experiment:
    return load_experiment(
        args.config,
        args.overrides,
        seed=args.seed,
        n_workers=args.workers,
        horizon=args.steps,
    )


def _scenarios(args: argparse.Namespace) -> int:
    names = scenario_names()
    if not names:
        print(f"error: no scenarios found in {experiments_dir()}", file=sys.stderr)
        return 1
    width = max(map(len, names))
    for name in names:
        try:
            description = load_experiment(name).description
        except ConfigError as exc:
            description = f"(broken: {exc})"
        print(f"{name:<{width}}  {description}")
    print(f"\n{len(names)} scenarios in {experiments_dir()}; run one with: {PROG} run NAME")
    return 0


def _config(args: argparse.Namespace) -> int:
    experiment = _load(args)
    header = [
        f"# {experiment.name}: resolved config, every parameter with its default or value",
        f"# read from: {' <- '.join(reversed(experiment.layers))}",
        f"# config_hash: {experiment.config_hash}",
        "",
    ]
    sys.stdout.write("\n".join(header) + experiment.to_toml(comments=not args.no_comments))
    return 0


def _default_out(experiment: Experiment, args: argparse.Namespace) -> Path:
    """out/NAME, with the seed if given, and the config's hash if anything was overridden."""
    name = experiment.name
    if args.overrides or args.workers is not None or args.steps is not None:
        name += f"-{experiment.config_hash[:8]}"
    if args.seed is not None:
        name += f"-seed{experiment.seed}"
    return Path("out") / name


def _run(args: argparse.Namespace) -> int:
    experiment = _load(args)
    out = args.out if args.out is not None else _default_out(experiment, args)
    claim = claim_out_dir(out)  # a second run to the same folder is refused while this one runs
    try:
        check_out_dir(out, args.overwrite)  # refuse before spending the run's time
        if not args.no_memory_check:
            _check_memory(experiment)
        return _run_claimed(args, experiment, out)
    finally:
        claim.release()


def _check_memory(experiment: Experiment) -> None:
    """Refuse a run whose city would not fit in the memory available (before building it)."""
    from .memory import SMALL, available_memory, estimate_memory, human_bytes

    n = experiment.kwargs["n_workers"]
    if n < SMALL:
        return
    need = estimate_memory(n, experiment.kwargs["city"])
    room, source = available_memory()
    if room is not None and need.bytes > room:
        raise UsageError(
            f"n_workers = {n:,}: a city this size needs about {human_bytes(need.bytes)} "
            f"(mean degree {need['mean_degree']:.1f}), more than the {human_bytes(room)} "
            f"available ({source}); choose fewer workers with --workers, or pass "
            "--no-memory-check to try anyway"
        )


def _run_claimed(args: argparse.Namespace, experiment: Experiment, out: Path) -> int:
    started = now()
    t0 = time.perf_counter()
    model = experiment.build_model()
    built = time.perf_counter() - t0
    quiet = args.quiet
    if not quiet:
        city = model.city
        print(
            f"{experiment.name}: {city.population.n:,} workers in {city.n_firms:,} firms and "
            f"{city.n_neighbourhoods:,} neighbourhoods (built in {built:.1f} s), "
            f"seed {experiment.seed}, up to {model.horizon} days"
        )
    _step_with_progress(model, experiment.name, quiet)
    summary = _summary(model, experiment, started)
    record = RunRecord(
        summary=summary,
        indicators=model.indicators(),
        events=model.events(),
        config_toml=_config_file(experiment),
    )
    from .plots import run_figures

    figures = run_figures(record.indicators, record.events, summary)
    names = write_run(record, out, figures, overwrite=args.overwrite, figure_format=args.format)
    if not quiet:
        _print_summary(summary)
        print(f"wrote {out}/: {', '.join(names)}")
    return 0


def _step_with_progress(model: Any, name: str, quiet: bool) -> None:
    from tqdm import tqdm

    # tqdm draws on a terminal only (disable=None), so logs and tests get no bar.
    with tqdm(
        total=model.horizon,
        desc=name,
        unit="day",
        disable=True if quiet else None,
        file=sys.stderr,
        leave=False,
    ) as bar:
        while model.running:
            model.step()
            bar.update(1)
            if model.world.verdict.dual_power:
                bar.set_postfix_str("dual power", refresh=False)


def _config_file(experiment: Experiment) -> str:
    return (
        f"# {experiment.name}: the resolved config of this run (run it again: dualpower run "
        f"config.toml --out ANOTHER_DIR)\n# config_hash: {experiment.config_hash}\n\n"
        + experiment.to_toml()
    )


def _summary(model: Any, experiment: Experiment, started: str) -> dict[str, Any]:
    from .outcomes import run_record

    record = run_record(model.summary(), model.indicators())
    facts = {k: v for k, v in record.items() if k not in ("outcome", "steps", "explanation")}
    return {
        "name": experiment.name,
        "description": experiment.description,
        "outcome": record["outcome"],
        "seed": experiment.seed,
        "steps": record["steps"],
        "horizon": model.horizon,
        "n_workers": model.city.population.n,
        **facts,
        "config_hash": experiment.config_hash,
        "config_source": experiment.source,
        "version": __version__,
        "versions": library_versions(),
        "started_at": started,
        "finished_at": now(),
        "explanation": record["explanation"],
    }


def _print_summary(s: dict[str, Any]) -> None:
    when = f" on day {s['resolved_step']}" if s["resolved_step"] is not None else ""
    print(f"outcome: {s['outcome']}{when} (after {s['steps']} days): {s['explanation']}")
    if s["dual_power_began"] is None:
        print("dual power: never")
    else:
        print(f"dual power: from day {s['dual_power_began']} to day {s['dual_power_ended']}")
    print(
        f"peak council power: {s['peak_council_power']:.2f} on day "
        f"{s['peak_council_power_day']}; peak mobilized: {s['peak_mobilized']:.0%}; "
        f"state offensives: {s['offensives']}"
    )


def _plot(args: argparse.Namespace) -> int:
    record = load_run(args.folder)
    from .plots import run_figures

    try:
        figures = run_figures(record.indicators, record.events, record.summary)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ResultsError(
            f"{args.folder}: the run's tables cannot be drawn ({type(exc).__name__}: {exc}); "
            "the folder is damaged (rerun with `dualpower run`)"
        ) from None
    names = save_figures(figures, args.folder, record.summary, args.format)
    print(f"wrote {args.folder}/: {', '.join(names)}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweeps import (
        check_refine_options,
        check_run_options,
        estimate_seconds_per_run,
        load_sweep,
        parse_shard,
        refine_sweep,
        run_sweep,
    )

    if args.retry_failed and not args.resume:
        raise UsageError("--retry-failed: allowed only with --resume (it retries a sweep's runs)")
    sweep = load_sweep(args.file)
    with _flags():
        shard = parse_shard(args.shard, sweep.n_runs) if args.shard else None
        if args.refine and args.shard:
            raise UsageError("--refine with --shard: refine once, after every shard has finished")
        check_run_options(
            jobs=args.jobs or 1,
            time_limit=args.time_limit,
            executor=args.executor,
            scheduler=args.scheduler,
        )
        check_refine_options(
            outcome=args.outcome, target_width=args.target_width, budget=args.budget
        )
    workers = _sweep_processes(sweep, args)
    out = args.out if args.out is not None else Path("sweeps") / sweep.name
    n_runs = sweep.n_runs if shard is None else len(range(shard[0], sweep.n_runs, shard[1]))
    if args.dry_run:
        per_run = estimate_seconds_per_run(sweep)
        hours = per_run * n_runs / max(1, min(workers, n_runs)) / 3600
        print(
            f"{sweep.name}: {len(sweep.points)} points x {sweep.replicates} replicates = "
            f"{sweep.n_runs} runs" + (f" (shard {args.shard}: {n_runs})" if shard else "")
        )
        print(f"parameters: {', '.join(sweep.parameters) or 'none'}; design: {sweep.design}")
        print(
            f"about {per_run:.1f} s a run ({min(3, len(sweep.points))} whole runs timed across "
            f"the design), so about "
            f"{_duration(hours * 3600)} on {workers} process(es); results: {out}/"
        )
        return 0
    if not args.resume and shard is None:
        check_sweep_folder(out)
    counts = run_sweep(
        sweep,
        out,
        jobs=workers,
        resume=args.resume,
        shard=shard,
        time_limit=args.time_limit,
        progress=not args.quiet,
        executor=args.executor,
        scheduler=args.scheduler,
        retry_failed=args.retry_failed,
    )
    if args.refine:
        refined = refine_sweep(
            sweep,
            out,
            time_limit=args.time_limit,
            outcome=args.outcome,
            target_width=args.target_width,
            budget=args.budget,
            jobs=workers,
            executor=args.executor,
            scheduler=args.scheduler,
            log=(lambda _: None) if args.quiet else print,
        )
        if not args.quiet:
            tp = refined["tipping"]
            found = (
                f"; tipping point {tp.estimate:.3g} (95% interval {tp.low:.3g} to {tp.high:.3g})"
                if tp is not None and tp.found
                else ""
            )
            print(
                f"refined: {refined['runs_added']} runs in {refined['rounds']} rounds, "
                f"stopped: {refined['stopped']}{found}"
            )
    if not args.quiet:
        print(
            f"{sweep.name}: {counts['done']} runs done, {counts['failed']} failed, "
            f"{counts['skipped']} recorded before; results in {out}/ "
            f"(report: {PROG} report {out})"
        )
    return 0 if counts["failed"] == 0 else 1


def _sweep_processes(sweep: Any, args: argparse.Namespace) -> int:
    """Processes for a local sweep: as asked (default every core), capped at cores and memory.

    Says so on stderr when it runs fewer than asked.
    """
    from .memory import cores, estimate_memory, human_bytes, processes_that_fit

    if args.scheduler is not None:
        return args.jobs or 1  # the cluster's workers run the runs
    have = cores()
    wanted = args.jobs or have
    workers = min(wanted, have, max(sweep.n_runs, 1))
    notes = []
    if args.jobs is not None and args.jobs > have:
        notes.append(f"{have} core(s) available")
    if not args.no_memory_check:
        column = sweep.points.get("n_workers")
        n = int(column.max()) if column is not None else sweep.experiment.kwargs["n_workers"]
        need = estimate_memory(n, sweep.experiment.kwargs["city"])
        fit, room, source = processes_that_fit(need.bytes, workers)
        if fit == 0:
            raise UsageError(
                f"{sweep.source}: a run of {n:,} workers needs about {human_bytes(need.bytes)}, "
                f"more than the {human_bytes(room or 0)} available ({source}); choose fewer "
                "workers (n_workers), or pass --no-memory-check to try anyway"
            )
        if fit < workers:
            notes.append(
                f"each run needs about {human_bytes(need.bytes)} of the "
                f"{human_bytes(room or 0)} available"
            )
            workers = fit
    if notes and args.jobs is not None and workers < args.jobs:
        print(
            f"{PROG} sweep: --jobs {args.jobs}: running {workers} process(es) ({'; '.join(notes)})",
            file=sys.stderr,
        )
    return workers


def check_sweep_folder(out: Path) -> None:
    """Refuse a folder a new sweep would write over."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "a sweep" if (out / "sweep.json").is_file() else "other files"
        raise ResultsError(
            f"--out {out}: already holds {what}; "
            + (
                "pass --resume to finish it, or "
                if what == "a sweep"
                else "it is never overwritten: "
            )
            + "choose another folder with --out"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    out = write_report(args.folder, args.out, discover=args.discover or False)
    print(f"wrote {out}/report.md, outcomes.csv and the figures")
    return 0


def _discover(args: argparse.Namespace) -> int:
    from .report import write_discovery

    if not 0 < args.min_coverage <= 1:
        raise UsageError(f"--min-coverage {args.min_coverage}: allowed: 0 < C <= 1")
    out, found = write_discovery(
        args.folder,
        where=args.where,
        outcomes=args.outcome,
        out=args.out,
        min_coverage=args.min_coverage,
        seed=args.seed,
    )
    for d in found:
        limits = "; ".join(
            " ".join(
                ([f"{row.low:.3g} <="] if row.qp_low == row.qp_low else [])
                + [name]
                + ([f"<= {row.high:.3g}"] if row.qp_high == row.qp_high else [])
            )
            for name, row in d.box.iterrows()
        )
        print(
            f"{d.condition}: {d.cases} of {d.runs} runs; box (coverage {d.coverage:.2f}, "
            f"density {d.density:.2f} against {d.base_rate:.2f} over all runs): "
            f"{limits or 'none'}"
        )
    print(f"wrote {out}/discovery.md, boxes.csv and the figures")
    return 0


def _free_port(host: str, port: int) -> int:
    """``port`` if it can be listened on at ``host`` (a free one for 0), else a UsageError."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the server will: a port whose last connections are still closing is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            raise UsageError(
                f"{PROG} app: cannot find host {host!r} ({exc.strerror}); "
                "--host takes an address such as 127.0.0.1 or 0.0.0.0"
            ) from None
        except (OSError, OverflowError) as exc:  # OverflowError: a port above 65535
            why = getattr(exc, "strerror", None) or exc
            raise UsageError(
                f"{PROG} app: cannot listen on {host}:{port} ({why}); "
                "pick another with --port (0 picks a free one)"
            ) from None
        return int(probe.getsockname()[1])


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _app(args: argparse.Namespace) -> int:
    try:
        from . import app
    except ImportError as exc:
        raise UsageError(
            f"{PROG} app needs the app extra (missing: {exc.name}); install it with: "
            "python -m pip install 'dualpower_sim[app]'"
        ) from None
    source = args.config
    if source.endswith(".toml") or Path(source).exists():
        source = str(Path(source).resolve())
    experiment = app.check_config(source)
    port = _free_port(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    if not _loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach port {port} of this "
            "machine can drive the app (and use its processors and memory); the default "
            "--host 127.0.0.1 keeps it to this machine",
            file=sys.stderr,
            flush=True,
        )
    print(
        f"{PROG} app: {experiment.name} at http://{shown}:{port}/ (open it in a browser; "
        "Ctrl-C stops the app)",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "dualpower_sim.app",
        "--host",
        args.host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]
    # Solara warns, on every page load, that its session cookie falls back to SameSite=Lax over
    # plain http: expected on localhost, and noise in the user's terminal.
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    warnings = ",".join(w for w in (os.environ.get("PYTHONWARNINGS"), quiet) if w)
    env = {**os.environ, app.CONFIG_ENV: source, "PYTHONWARNINGS": warnings}
    # The server replaces this process, so Ctrl-C, a kill or a job scheduler's signal reach it
    # directly and never leave an orphaned server holding the port.
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return
