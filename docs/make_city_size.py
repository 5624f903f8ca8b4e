"""Write docs/city_size.md: does a smaller city end as the presets' own size does (on demand)?

The validation's hypercube and robustness rows run at 6,000 workers, and a calibration (issue 15)
needs the smallest city whose outcome shares agree with the presets' own size. This script runs
every preset at several sizes over the same seeds and compares each size's outcome shares with
those at 20,000 workers.

    python docs/make_city_size.py              # the whole file (a few minutes on 2 cores)
    python docs/make_city_size.py --seeds 5    # a quick look (does not match the committed file)

A size **agrees** with 20,000 workers when no outcome's share differs between them by Fisher's
exact test (that outcome against the rest) at the 5% level, Bonferroni-corrected for the outcomes
tested. With 20 seeds a side only large differences show: 20 of 20 against 15 of 20 does not.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from make_validation import SAMPLE_WORKERS, run_all
from scipy import stats

from dualpower_sim import OUTCOMES, __version__, scenario_names
from dualpower_sim.config import ConfigError, load_experiment

OUT = Path(__file__).with_name("city_size.md")
SEEDS = 20
#: City sizes compared with the reference (the presets' own size).
SIZES = (3_000, 6_000, 10_000)
REFERENCE = 20_000


def buildable(name: str, n_workers: int) -> bool:
    """Whether the preset's city can be built with ``n_workers`` (its firm-size bands fit)."""
    try:
        load_experiment(name, n_workers=n_workers).build_model()
    except ConfigError:
        return False
    return True


def agrees(counts: Mapping[str, int], reference: Mapping[str, int]) -> bool:
    """Whether two samples' outcome shares agree: no outcome's share differs significantly.

    Each outcome seen in either sample is tested, that outcome against all others, with
    Fisher's exact test; the samples differ when some test gives p below 0.05 divided by the
    number of outcomes tested (Bonferroni).

    Args:
        counts: Runs per outcome at the size tested.
        reference: Runs per outcome at the reference size.

    Returns:
        True when no outcome's share differs at the 5% level, corrected for the outcomes tested.
    """
    n, m = sum(counts.values()), sum(reference.values())
    if n == 0 or m == 0:
        return False
    seen = [o for o in set(counts) | set(reference) if counts.get(o, 0) or reference.get(o, 0)]
    for outcome in seen:
        k, j = counts.get(outcome, 0), reference.get(outcome, 0)
        p = stats.fisher_exact([[k, n - k], [j, m - j]]).pvalue
        if p < 0.05 / len(seen):
            return False
    return True


def smallest_agreeing(
    by_size: Mapping[int, Mapping[str, int]], reference: Mapping[str, int]
) -> int | None:
    """The smallest size from which every larger size tested agrees with the reference."""
    smallest = None
    for size in sorted(by_size, reverse=True):
        if not agrees(by_size[size], reference):
            break
        smallest = size
    return smallest


def describe(counts: Mapping[str, int]) -> str:
    """``outcome k, outcome k`` in the order of :data:`OUTCOMES`, most runs first."""
    seen = [o for o in counts if counts[o]]
    ordered = sorted(seen, key=lambda o: (-counts[o], OUTCOMES.index(o)))
    return ", ".join(f"{o} {counts[o]}" for o in ordered)


def measure(
    names: Sequence[str], seeds: int, jobs: int
) -> dict[str, dict[int, Counter[str] | None]]:
    """Outcome counts per preset and size (None where the preset's city cannot be built)."""
    sizes = [*SIZES, REFERENCE]
    feasible = {(name, size): buildable(name, size) for name in names for size in sizes}
    tasks = [
        (name, seed, {}, size)
        for name in names
        for size in sizes
        if feasible[name, size]
        for seed in range(1, seeds + 1)
    ]
    counted: dict[tuple[str, int], Counter[str]] = {}
    for (name, _, _, size), run in zip(tasks, run_all(tasks, jobs), strict=True):
        counted.setdefault((name, size), Counter())[run["outcome"]] += 1
    return {name: {size: counted.get((name, size)) for size in sizes} for name in names}


def row(name: str, by_size: Mapping[int, Mapping[str, int] | None]) -> str:
    """One preset's row of the table: its outcomes at each size and the smallest that agrees."""
    ref = by_size[REFERENCE]
    assert ref is not None  # every preset builds at its own size
    cells = []
    for size in [*SIZES, REFERENCE]:
        counts = by_size[size]
        if counts is None:
            cells.append("too small for its firms")
        elif size == REFERENCE:
            cells.append(describe(counts))
        else:
            mark = "agrees" if agrees(counts, ref) else "**differs**"
            cells.append(f"{describe(counts)} ({mark})")
    tested = {s: c for s, c in by_size.items() if c is not None and s != REFERENCE}
    small = smallest_agreeing(tested, ref)
    cells.append(f"{small:,}" if small is not None else f"{REFERENCE:,} (none smaller)")
    return f"| `{name}` | " + " | ".join(cells) + " |"


def table(results: Mapping[str, Mapping[int, Mapping[str, int] | None]]) -> str:
    """The markdown table: a row per preset, a column per size, and the smallest agreeing size."""
    sizes = [*SIZES, REFERENCE]
    head = "| preset | " + " | ".join(f"{s:,} workers" for s in sizes)
    head += " | smallest size that agrees |\n" + "|---" * (len(sizes) + 2) + "|\n"
    return head + "\n".join(row(name, by_size) for name, by_size in results.items())


def main(argv: Sequence[str] | None = None) -> None:
    """Run every preset at every size and write docs/city_size.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds per preset and size")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    results = measure(scenario_names(), args.seeds, args.jobs)
    took = time.perf_counter() - t0
    differs = [
        f"`{name}` at {size:,}"
        for name, by_size in results.items()
        for size, counts in by_size.items()
        if counts is not None and size != REFERENCE and not agrees(counts, by_size[REFERENCE])
    ]
    at_sample = [
        name
        for name, by_size in results.items()
        if by_size.get(SAMPLE_WORKERS) is not None
        and not agrees(by_size[SAMPLE_WORKERS], by_size[REFERENCE])
    ]
    sample_note = (
        "Every preset that builds at that size agrees there."
        if not at_sample
        else "At that size "
        + " and ".join(f"`{n}`" for n in at_sample)
        + (" ends" if len(at_sample) == 1 else " end")
        + " otherwise than at 20,000 workers: read "
        + ("its robustness row" if len(at_sample) == 1 else "their robustness rows")
        + " as a smaller city's."
    )
    OUT.write_text(
        f"""# Does a smaller city end the same way?

Each preset run at {", ".join(f"{s:,}" for s in SIZES)} and {REFERENCE:,} workers (the presets'
own size) over seeds 1 to {args.seeds}, every other figure as the preset sets it: the outcomes,
and whether each size's outcome shares agree with those at {REFERENCE:,} workers (no outcome's
share differs by Fisher's exact test at the 5% level, Bonferroni-corrected for the outcomes
seen; with {args.seeds} seeds a side only large differences show). A preset whose firm-size
bands cannot be filled at a size (a band of firms of 1,000 or more needs enough workers for one
such firm) is not run there.

The validation's hypercube and robustness rows run at {SAMPLE_WORKERS:,} workers
([validation.md](validation.md)). {sample_note}

{table(results)}

Sizes that differ: {", ".join(differs) if differs else "none"}.

A city of fewer workers is not a sample of the same city: firm sizes are drawn at their
historical scale, so a smaller Petrograd has fewer giant plants (with seed 1 its band of 1,000 or
more holds one plant of 13,580 workers at {REFERENCE:,} workers, eight at 100,000), and
neighbourhoods keep their size, so it has fewer neighbourhoods. Agreement says the outcome
survives that, not that the smaller city is Petrograd.

Written by `python docs/make_city_size.py` with dualpower_sim {__version__} in {took:.0f} s on
{args.jobs} processes.
"""
    )
    print(f"wrote {OUT} in {took:.0f} s")


if __name__ == "__main__":
    main()
