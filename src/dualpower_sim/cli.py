"""Command line: ``python -m dualpower_sim`` runs a demonstration city and saves a plot.

``main(argv)`` is callable from tests and returns the exit code: 0 on success, 2 on bad input
(with one line naming the parameter and what is allowed, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import __version__
from .params import ParameterError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dualpower_sim",
        description=(
            "Run the demonstration: a mixed city (half workplace-, half territory-organised) "
            "hit by a hardship shock on day 20 that lasts 60 days. Prints the city's network "
            "statistics, the last indicators and the outcome, and saves a plot."
        ),
    )
    p.add_argument("--workers", type=int, default=20_000, help="number of workers (default 20000)")
    p.add_argument("--steps", type=int, default=150, help="days to simulate (default 150)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="folder for the plot and table (default ./out)",
    )
    p.add_argument("--version", action="version", version=f"dualpower_sim {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demonstration.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        Exit code: 0 on success, 2 on bad input.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message
        return int(exc.code or 0)

    from .model import DualPowerModel
    from .plots import plot_mobilization
    from .rules import HardshipShock

    try:
        if args.steps < 0:
            raise ParameterError("--steps", args.steps, "allowed: an integer >= 0")
        t0 = time.perf_counter()
        model = DualPowerModel(
            n_workers=args.workers,
            seed=args.seed,
            shocks=[HardshipShock(start=20, duration=60, magnitude=0.3)],
        )
        built = time.perf_counter() - t0
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out.exists() and not args.out.is_dir():
        print(f"error: --out {args.out} exists and is not a folder", file=sys.stderr)
        return 2
    parent = next((p for p in (args.out, *args.out.absolute().parents) if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK):
        print(f"error: --out {args.out} cannot be created (no writable parent)", file=sys.stderr)
        return 2

    stats = model.network_stats()
    print(
        f"dualpower_sim {__version__}: {stats['workers']:,} workers, {stats['firms']:,} firms, "
        f"{stats['neighbourhoods']} neighbourhoods (built in {built:.1f} s, seed {model.seed})"
    )
    print(f"share of workers in firms of 1,000+: {stats['share_in_1000_plus']:.1%}")
    with pd.option_context("display.width", 120, "display.precision", 3):
        print("\nTies per worker by layer:")
        print(stats["degrees"][["mean", "median", "max", "isolated"]].round(3).to_string())
        t0 = time.perf_counter()
        model.run(args.steps)
        took = time.perf_counter() - t0
        df = model.indicators()
        print(f"\nRan {model.steps} days in {took:.1f} s. Last indicators:")
        columns = ["mobilized", "jailed", "councils", "council_power", "state_power", "legitimacy"]
        print(df[columns].tail().round(3))
        summary = model.summary()
        began, ended = summary["dual_power_began"], summary["dual_power_ended"]
        span = f", dual power from day {began} to day {ended}" if began is not None else ""
        final = "" if not model.running else " so far"
        print(
            f"\nOutcome{final}: {summary['outcome']}{span}; peak council power "
            f"{summary['peak_council_power']:.2f}, {summary['offensives']} offensive(s)."
        )

    fig = plot_mobilization(
        df, title=f"Demonstration city, {args.workers:,} workers, seed {args.seed}"
    )
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.out / "indicators.csv")
        fig.savefig(args.out / "mobilization.png", dpi=110)
    except OSError as exc:
        print(f"error: cannot write to --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"\nWrote {args.out / 'indicators.csv'} and {args.out / 'mobilization.png'}")
    return 0
