"""``dualpower calibrate`` and ``dualpower posterior``: calibration against history, from the shell.

The commands' grammar is in :mod:`dualpower_sim.cli_parser`; their errors go through
:func:`dualpower_sim.cli.main` (one line, exit 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .calibration import Calibration, load_calibration
from .calibration.smc import (
    COPY,
    INFO,
    LEAVE_OUT,
    CalibrationError,
    calibrate,
    estimate,
    import_pyabc,
)
from .cli_parser import PROG, UsageError
from .files import read_json

__all__ = ["calibrate_command", "posterior_command"]


def _say(line: str) -> None:
    print(line, flush=True)  # at once, also into a log file


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _dry_run(c: Calibration, jobs: int, leave_one_out: bool) -> int:
    print(f"{c.name}: {c.description}" if c.description else c.name)
    print(f"episodes ({len(c.episodes)}), {c.replicates} run(s) each per particle:")
    for e in c.episodes:
        days = ", ".join(f"{k} {v:g}" for k, v in e.days.items()) or "no timings"
        print(
            f"  {e.name}: {e.experiment.kwargs['n_workers']:,} workers, horizon "
            f"{e.experiment.kwargs['horizon']} days; history: {' or '.join(e.outcomes)}; {days}"
        )
    guesses = [g for e in c.episodes for g in e.guesses]
    if guesses:
        print(f"guesses drawn in every run ({len(guesses)}):")
        for g in guesses:
            print(f"  {g.name}: {g.low:g} to {g.high:g}{', log scale' if g.scale == 'log' else ''}")
    print(f"parameters ({len(c.priors)}):")
    for p in c.priors:
        scale = ", log scale" if p.scale == "log" else ""
        whole = ", whole numbers" if p.integer else ""
        print(f"  {p.name}: {p.low:g} to {p.high:g}{scale}{whole}")
    print(
        f"budget: {c.population_size} particles x at most {c.generations} generations"
        + (f", or until epsilon <= {c.min_epsilon:g}" if c.min_epsilon > 0 else "")
        + f"; root seed {c.seed}"
    )
    cost = estimate(c, jobs)
    times = 1 + (len(c.episodes) if leave_one_out else 0)
    print(
        f"a particle: {cost['runs_per_particle']} runs, about "
        f"{cost['seconds_per_particle']:.1f} s (timed at the middle of the priors)"
    )
    print(
        f"runs: at least {cost['least_runs']:,} (every particle accepted), likely about "
        f"{cost['likely_runs']:,} (acceptance 0.3); time on {jobs} process(es): at least "
        f"{_clock(cost['least_seconds'])}, likely about {_clock(cost['likely_seconds'])}"
        + (f"; x{times} with --leave-one-out" if times > 1 else "")
    )
    return 0


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``dualpower calibrate``."""
    import_pyabc()  # the extra's message before anything is read or written
    c = load_calibration(args.file)
    if args.leave_out is not None and args.leave_one_out:
        raise UsageError(f"{PROG} calibrate: --leave-out and --leave-one-out: choose one")
    if args.scheduler is not None and args.jobs is not None:
        raise UsageError(f"{PROG} calibrate: --jobs and --scheduler: choose one")
    fitted = c.without(args.leave_out) if args.leave_out is not None else c  # checks the name
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if args.dry_run:
        return _dry_run(fitted, jobs, args.leave_one_out)
    out = args.out if args.out is not None else Path("calib") / fitted.name
    echo = None if args.quiet else _say
    bar = False if args.quiet else None
    common = {"jobs": jobs, "scheduler": args.scheduler, "echo": echo, "progress_bar": bar}
    calibrate(c, out, resume=args.resume, leave_out=args.leave_out, source=args.file, **common)
    if args.leave_one_out:
        for e in c.episodes:
            sub = out / LEAVE_OUT / e.name
            if echo:
                echo(f"leaving out {e.name}: {sub}")
            resume = (sub / INFO).is_file()
            calibrate(c, sub, resume=resume, leave_out=e.name, source=args.file, **common)
    if echo:
        echo(f"wrote {out}; report it with: {PROG} posterior {out}")
    return 0


def _calibration_of(folder: Path, info: dict) -> Calibration:
    """The whole calibration a folder was made from: its file if unchanged, else its copy.

    Raises:
        CalibrationError: If neither is the calibration the folder was made from.
    """
    where = info.get("source_path")
    for path in (Path(where) if where else None, folder / COPY):
        if path is None or not path.is_file():
            continue
        c = load_calibration(path)
        if c.calibration_hash == info.get("whole_hash"):
            return c
    raise CalibrationError(
        f"{folder}: neither {where} nor {folder / COPY} is the calibration it was made from "
        "(priors, episodes, budget or seed differ): restore one, or skip the predictive "
        "checks with --draws 0"
    )


def posterior_command(args: argparse.Namespace) -> int:
    """Run ``dualpower posterior``."""
    from .calibration.posterior import load_posterior
    from .calibration.predictive import posterior_predictive
    from .calibration.report import leave_one_out_table, predictive_table, write_posterior_report

    post = load_posterior(args.folder)
    out = args.out if args.out is not None else args.folder / "posterior"
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    runs = None
    if args.draws:
        c = _calibration_of(args.folder, post.info)
        runs = posterior_predictive(c, post, args.draws, args.replicates, jobs=jobs)
    loo = None
    folders = sorted((args.folder / LEAVE_OUT).glob(f"*/{INFO}"))
    if folders and args.draws:
        held = []
        for path in folders:
            info = read_json(path)
            if info is None or not info.get("leave_out"):
                continue
            if info.get("state") != "done":
                print(f"{path.parent}: not finished; left out of the leave-one-out table")
                continue
            if info.get("whole_hash") != post.info.get("whole_hash"):
                # Another file, budget or seed: its prediction would not be this calibration's.
                print(
                    f"{path.parent}: made from another calibration than {args.folder} (its "
                    "priors, episodes, budget or seed differ); left out of the leave-one-out table"
                )
                continue
            sub = load_posterior(path.parent)
            c = _calibration_of(path.parent, sub.info)
            one = posterior_predictive(
                c, sub, args.draws, args.replicates, [info["leave_out"]], jobs=jobs
            )
            held.append(predictive_table(one, [sub.info["held_out_episode"]]))
        if held:
            import pandas as pd

            full = predictive_table(runs, post.info["episodes"]) if runs is not None else None
            order = [e["name"] for e in post.info["episodes"]]
            table = pd.concat(held, ignore_index=True)
            table = table.sort_values("episode", key=lambda c: c.map(order.index))
            loo = leave_one_out_table(table, full)
    write_posterior_report(post, out, runs, loo)
    print(f"wrote {out}/report.md, its tables and figures")
    return 0
