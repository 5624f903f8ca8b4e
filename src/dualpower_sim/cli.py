"""The ``dualpower`` command (also ``python -m dualpower_sim``).

::

    dualpower run CONFIG [--seed N] [--steps N] [--workers N] [--set key=value ...] [--out DIR]
    dualpower scenarios
    dualpower config show CONFIG [--set key=value ...]
    dualpower plot DIR
    dualpower sweep FILE [--jobs N] [--resume] [--dry-run] ...
    dualpower report DIR [--discover [OUTCOME]] ...
    dualpower discover DIR [--where CONDITION] [--outcome OUTCOME] ...
    dualpower calibrate FILE [--out DIR] [--jobs N] [--resume] [--dry-run] ...
    dualpower posterior DIR [--draws N]
    dualpower app [CONFIG] [--host HOST] [--port PORT]

``CONFIG`` is a TOML file or a preset's name (``dualpower scenarios`` lists them).
:func:`main` takes the arguments as a list and returns the exit code, so tests call it directly:
0 on success, 2 on bad input (one message naming the file, the key and what is allowed; never a
traceback, and nothing written), 1 if a run fails, 130 if interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .calibration.smc import CalibrationError
from .cli_calibrate import calibrate_command as _calibrate
from .cli_calibrate import posterior_command as _posterior
from .cli_parser import EXAMPLES as EXAMPLES
from .cli_parser import FIGURE_FORMATS as FIGURE_FORMATS
from .cli_parser import PROG, UsageError, build_parser, unrecognized
from .config import ConfigError, Experiment, experiments_dir, load_experiment, scenario_names
from .discovery import DiscoveryError, MissingExtraError
from .locking import NoLockWarning
from .params import ParameterError
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

#: The command line's flag for each argument the library names in its messages. The library
#: speaks Python: it names an argument as it was passed (``horizon=2000000``, ``out=o/c``), advises
#: one as a keyword (``pass overwrite=True``, ``with where=...``), and names a config's override
#: ``override KEY=VALUE``; :func:`_in_flags` turns each into its option (``--steps 2000000``,
#: ``--out o/c``, ``--overwrite``, ``--where``, ``--set KEY=VALUE``). One table for every command:
#: where two commands share a name (``seed``, ``out``) they share the flag.
FLAGS = {
    "override": "--set",
    "seed": "--seed",
    "n_workers": "--workers",
    "horizon": "--steps",
    "out": "--out",
    "overwrite": "--overwrite",
    "resume": "--resume",
    "retry_failed": "--retry-failed",
    "discover": "--discover",
    "where": "--where",
    "outcomes": "--outcome",
    "jobs": "--jobs",
    "time_limit": "--time-limit",
    "executor": "--executor",
    "scheduler": "--scheduler",
    "shard": "--shard",
    "outcome": "--outcome",
    "target_width": "--target-width",
    "budget": "--budget",
    "leave_out": "--leave-out",
}

#: An argument named at the start of a word: ``override KEY=VALUE`` (taken whole, so a key that
#: is also an argument's name, ``override seed=4``, stays the override's), ``name=True`` or
#: ``name=...`` (the option alone), or ``name=`` before its value.
_NAMED = re.compile(
    r"(?<![^\s(])(?:override (?P<override>\S+)|(?P<name>"
    + "|".join(name for name in FLAGS if name != "override")
    + r")=(?P<bare>True\b|\.\.\.)?)"
)


def _in_flags(text: str) -> str:
    """The library's message (or a config's layer) with each argument named as its option."""

    def flag(match: re.Match[str]) -> str:
        if match["override"] is not None:
            return f"{FLAGS['override']} {match['override']}"
        return FLAGS[match["name"]] + ("" if match["bare"] else " ")

    return _NAMED.sub(flag, text)


def _message(exc: Exception) -> str:
    """What the command says about an error: the library's words in the command's options."""
    if isinstance(exc, ParameterError):  # one of the options, checked by the library
        value = repr(exc.value) if isinstance(exc.value, str) else exc.value
        return _in_flags(f"{exc.name}={value}: {exc.allowed}")
    if isinstance(exc, UsageError | MissingExtraError):  # already in the command's words
        return str(exc)
    return _in_flags(str(exc))


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


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library warning as one line on stderr, in the command's options."""
    print(f"warning: {_in_flags(str(message))}", file=sys.stderr)


def _command(argv: Sequence[str] | None) -> int:
    with warnings.catch_warnings():
        # The library's own warnings (a folder that cannot be locked) speak its words; the
        # command prints them as one line in its own, without Python's file and line.
        warnings.simplefilter("always", NoLockWarning)
        warnings.showwarning = _show_warning
        return _dispatch(argv)


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            unrecognized(parser, args, extra)
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
            "calibrate": _calibrate,
            "posterior": _posterior,
            "app": _app,
        }
        return handler[args.command](args)
    except SystemExit as exc:  # --help and --version exit 0 through argparse
        return int(exc.code or 0)
    except ParameterError as exc:
        if exc.name not in FLAGS:  # not an option: a bug, shown as one
            raise
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    except (
        UsageError,
        ConfigError,
        ResultsError,
        DiscoveryError,
        MissingExtraError,
        CalibrationError,
    ) as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if getattr(locals().get("args"), "command", None) == "sweep":
            print(
                "interrupted; the finished runs are recorded: rerun with --resume to go on",
                file=sys.stderr,
            )
        elif getattr(locals().get("args"), "command", None) == "calibrate":
            print(
                "interrupted; the complete generations are recorded: rerun with --resume to go on",
                file=sys.stderr,
            )
        else:
            print("interrupted; nothing was written", file=sys.stderr)
        return 130


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
        f"# read from: {' <- '.join(_in_flags(x) for x in reversed(experiment.layers))}",
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
    shard = parse_shard(args.shard, sweep.n_runs) if args.shard else None
    if args.refine and args.shard:
        raise UsageError("--refine with --shard: refine once, after every shard has finished")
    check_run_options(
        jobs=args.jobs or 1,
        time_limit=args.time_limit,
        executor=args.executor,
        scheduler=args.scheduler,
    )
    check_refine_options(outcome=args.outcome, target_width=args.target_width, budget=args.budget)
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
