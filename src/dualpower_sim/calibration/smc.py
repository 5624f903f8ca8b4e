"""Running a calibration: pyabc's ABC-SMC over the episodes, into a resumable folder.

The folder holds ``history.db`` (pyabc's SQLite history: every generation's particles, weights,
distances and summary statistics, the record of the calibration), ``calibration.json``
(provenance: the calibration's hash, root seed, package and library versions, and its state)
and ``calibration.toml`` (the file as written). A generation is written to the history when it
is complete, so a calibration killed at any moment resumes from its last complete generation.

Reproducibility. Every run's seed comes from the root seed, the generation and the particle
(:func:`~dualpower_sim.calibration.episodes.particle_seed`), so a particle's statistics are the
same on any executor. Which particles are proposed is pyabc's: it draws them from numpy's
global generator, which this module seeds from the root seed at the start of every generation
(the one place the project touches that generator, because pyabc offers no other). With one
process (pyabc's single-core sampler) a calibration is therefore reproducible, resumed or not.
pyabc's multi-process and Dask samplers reseed each worker from fresh entropy and accept the
particles that finish first, so with more than one process the accepted population differs
from one calibration to the next; it is a draw from the same approximate posterior.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_text, json_default, read_json
from ..locking import Claim, ClaimError
from ..provenance import now, provenance
from .episodes import ParticleModel
from .spec import Calibration
from .summaries import distance, target_statistics

__all__ = [
    "EXTRA",
    "CalibrationError",
    "calibrate",
    "estimate",
    "import_pyabc",
]

#: How to install what calibration needs.
EXTRA = "python -m pip install 'dualpower_sim[calibrate]'"

#: The files of a calibration's folder, and the folder of its leave-one-out calibrations.
HISTORY, INFO, COPY = "history.db", "calibration.json", "calibration.toml"
LEAVE_OUT = "leave_out"


class CalibrationError(Exception):
    """A calibration cannot run or be read: the message says why, in one line."""


def import_pyabc() -> Any:
    """pyabc, with its log lines silenced (the command prints its own progress).

    Raises:
        CalibrationError: If the ``calibrate`` extra is not installed.
    """
    try:
        import pyabc
    except ImportError:
        raise CalibrationError(
            f"calibration needs pyabc, in the calibrate extra: {EXTRA}"
        ) from None
    # Its warnings too: "total population weight close to zero" is only the weights' scale
    # before pyabc normalises them (a prior density over one of the proposal's, both products
    # over the parameters); the report gives each generation's effective sample size instead.
    logging.getLogger("ABC").setLevel(logging.ERROR)
    return pyabc


def _prior(pyabc: Any, calibration: Calibration) -> Any:
    rvs = {}
    for p in calibration.priors:
        if p.scale == "log":
            rvs[p.name] = pyabc.RV("loguniform", p.low, p.high)
        else:
            rvs[p.name] = pyabc.RV("uniform", p.low, p.high - p.low)
    return pyabc.Distribution(**rvs)


def _abc_model(pyabc: Any, calibration: Calibration) -> Any:
    """The episodes as a pyabc model, told the generation it simulates for."""
    particles = ParticleModel(calibration)

    class Episodes(pyabc.Model):
        def summary_statistics(self, t: int, pars: Any, sum_stat_calculator: Any) -> Any:
            return pyabc.model.ModelResult(sum_stat=particles(dict(pars), t))

    return Episodes(name="episodes")


#: A generation whose acceptance rate falls below this gives up: the calibration stops at the
#: generation before (its epsilon is as fine as this budget reaches).
MIN_ACCEPTANCE = 0.01


def _transition(calibration: Calibration) -> Any:
    """The perturbation kernel (:mod:`~dualpower_sim.calibration.transition`)."""
    from .transition import BoundedTransition

    return BoundedTransition(calibration.priors)


def _distance(x: dict[str, float], x0: dict[str, float]) -> float:
    return distance(x, x0)


def _sampler(pyabc: Any, jobs: int, scheduler: str | None, progress: bool) -> tuple[Any, Any]:
    """The pyabc sampler, and the Dask client to close afterwards (or None)."""
    client = None
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise CalibrationError(
                "scheduler=... needs dask's distributed (in the calibrate extra): " + EXTRA
            ) from None
        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError) as exc:
            raise CalibrationError(f"scheduler={scheduler}: cannot connect ({exc})") from None
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    elif jobs <= 1:
        sampler = pyabc.sampler.SingleCoreSampler()
    else:
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=jobs)
    # pyabc's bar of the particles accepted so far in a generation (jabbar, on stderr).
    sampler.show_progress = progress
    return sampler, client


def _seed_numpy(root: int, generation: int) -> None:
    """Seed numpy's global generator, which pyabc draws particles from, for one generation."""
    state = np.random.SeedSequence(root, spawn_key=(generation + 2,)).generate_state(1)
    np.random.seed(int(state[0]))  # noqa: NPY002 - pyabc's own generator (module docstring)


def _episode_record(e: Any) -> dict:
    return {
        "name": e.name,
        "outcomes": list(e.outcomes),
        "days": dict(e.days),
        "source": e.source,
        "n_workers": e.experiment.kwargs["n_workers"],
        "horizon": e.experiment.kwargs["horizon"],
        "guesses": [dataclasses.asdict(g) for g in e.guesses],
    }


def _info(
    calibration: Calibration,
    fitted: Calibration,
    source: Path | None,
    leave_out: str | None,
    pyabc_version: str,
) -> dict:
    return {
        "name": fitted.name,
        "description": fitted.description,
        "source": fitted.source,
        "source_path": str(source.resolve()) if source is not None else None,
        "calibration_hash": fitted.calibration_hash,
        # The whole file's, left-out episode included (to predict it later from this folder).
        "whole_hash": calibration.calibration_hash,
        "seed": fitted.seed,
        "leave_out": leave_out,
        "held_out_episode": (
            _episode_record(calibration.episode(leave_out)) if leave_out is not None else None
        ),
        "episodes": [_episode_record(e) for e in fitted.episodes],
        "priors": [dataclasses.asdict(p) for p in fitted.priors],
        "replicates": fitted.replicates,
        "population_size": fitted.population_size,
        "generations": fitted.generations,
        "min_epsilon": fitted.min_epsilon,
        "provenance": {**provenance(), "pyabc": pyabc_version},
        "created": now(),
        "state": "running",
    }


def _write_info(out: Path, info: dict) -> None:
    atomic_text(out / INFO, json.dumps(info, indent=2, default=json_default) + "\n")


def _check_folder(out: Path, calibration: Calibration, resume: bool) -> dict | None:
    """The folder's record when resuming (checked to be this calibration's), else None."""
    info = read_json(out / INFO) if out.is_dir() else None
    if resume:
        if info is None:
            raise CalibrationError(
                f"resume=True: out={out} holds no calibration ({INFO} is missing or "
                "unreadable); start one without resume=True"
            )
        if info.get("calibration_hash") != calibration.calibration_hash:
            raise CalibrationError(
                f"resume=True: out={out} was made by another calibration (its priors, episodes, "
                "budget or seed differ from this file's); choose another folder with out=..."
            )
        _check_versions(out, info)
        return info
    # A lock file alone is what a start that failed before writing anything leaves; the
    # leave-one-out calibrations of this one live in its folder and may start first.
    if out.exists() and (
        not out.is_dir() or any(p.name not in (".lock", LEAVE_OUT) for p in out.iterdir())
    ):
        what = "a calibration" if info is not None else "other files"
        raise CalibrationError(
            f"out={out}: holds {what}; "
            + ("pass resume=True to continue it, " if info is not None else "")
            + "or choose another folder"
        )
    return None


def _check_versions(out: Path, info: dict) -> None:
    """Refuse to mix generations made by another version of this package or of pyabc."""
    import pyabc

    from .. import __version__

    made = info.get("provenance", {})
    now_ = {"dualpower_sim": __version__, "pyabc": pyabc.__version__}
    then = {"dualpower_sim": made.get("version"), "pyabc": made.get("pyabc")}
    for name, version in now_.items():
        if then[name] != version:
            raise CalibrationError(
                f"resume=True: out={out} was made with {name} {then[name]}, this is {version}: "
                "its generations would mix two versions; choose another folder with out=..."
            )


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def calibrate(
    calibration: Calibration,
    out: str | Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    leave_out: str | None = None,
    source: Path | None = None,
    echo: Callable[[str], None] | None = print,
    progress_bar: bool | None = None,
) -> Path:
    """Run (or continue) a calibration into a folder.

    Args:
        calibration: The calibration (:func:`~dualpower_sim.calibration.load_calibration`).
        out: The output folder: new (or empty), or, with ``resume``, this calibration's.
        jobs: Local processes (1: pyabc's single-core sampler, reproducible).
        scheduler: A running Dask scheduler's address (``tcp://host:8786``) instead.
        resume: Continue the calibration in ``out`` from its last complete generation.
        leave_out: Calibrate on every episode but this one (its prediction is then the
            held-out check of ``dualpower posterior``).
        source: The calibration file (recorded, to predict a left-out episode later).
        echo: Where progress lines go (None: nowhere).
        progress_bar: pyabc's bar of accepted particles within a generation (default: when
            stderr is a terminal).

    Returns:
        The folder.

    Raises:
        CalibrationError: If pyabc is missing, the folder is another's or in use, or the
            scheduler cannot be reached.
    """
    pyabc = import_pyabc()
    out = Path(out)
    fitted = calibration.without(leave_out) if leave_out is not None else calibration
    info = _check_folder(out, fitted, resume)
    out.mkdir(parents=True, exist_ok=True)
    say = echo or (lambda _: None)
    try:
        claim = Claim(out / ".lock", f"out={out}").acquire()
    except ClaimError as exc:
        raise CalibrationError(str(exc)) from None
    client = None
    try:
        if info is None:
            info = _info(calibration, fitted, source, leave_out, pyabc.__version__)
            _write_info(out, info)
            atomic_text(out / COPY, calibration.text)
        info = {**info, "jobs": jobs if scheduler is None else None, "scheduler": scheduler}
        bar = sys.stderr.isatty() if progress_bar is None else progress_bar
        sampler, client = _sampler(pyabc, jobs, scheduler, bar)
        abc = pyabc.ABCSMC(
            _abc_model(pyabc, fitted),
            _prior(pyabc, fitted),
            _distance,
            population_size=fitted.population_size,
            transitions=_transition(fitted),
            sampler=sampler,
            eps=pyabc.MedianEpsilon(),
        )
        db = f"sqlite:///{(out / HISTORY).resolve()}"
        x0 = target_statistics([(e.name, e.days) for e in fitted.episodes])
        started = _has_run(pyabc, out)
        if started:
            abc.load(db, 1)
        else:
            abc.new(db, x0, meta_info={"calibration_hash": fitted.calibration_hash})
        history = abc.history
        done = history.n_populations
        last_eps = _last_epsilon(history)
        if done >= fitted.generations or (
            done and last_eps is not None and last_eps <= fitted.min_epsilon
        ):
            say(f"{fitted.name}: already complete ({done} generations); nothing to do")
            _finish(out, info, history)
            return out
        if done:
            say(f"{fitted.name}: resuming after generation {done - 1} of {fitted.generations}")
        _run(abc, fitted, done, say)
        _finish(out, info, abc.history)
    finally:
        if client is not None:
            client.close()
        claim.release()
    return out


def _has_run(pyabc: Any, out: Path) -> bool:
    """Whether the folder's history holds a started ABC-SMC run."""
    path = out / HISTORY
    if not path.is_file():
        return False
    try:
        history = pyabc.History(f"sqlite:///{path.resolve()}", create=False)
        started = len(history.all_runs()) > 0
        if started:
            history.id = 1
            started = history.max_t is not None  # the prior's sample (t = -1) was stored
    except Exception as exc:  # pyabc wraps SQLAlchemy's errors in its own
        raise CalibrationError(f"{path}: not a readable pyabc history ({exc})") from None
    if not started:  # killed inside pyabc's new(): nothing of it is worth keeping
        path.unlink()
    return started


def _last_epsilon(history: Any) -> float | None:
    if history.n_populations == 0:
        return None
    populations = history.get_all_populations()
    return float(populations["epsilon"].iloc[-1])


def _run(abc: Any, c: Calibration, done: int, say: Callable[[str], None]) -> None:
    """Run the remaining generations, one line of progress after each."""
    remaining = c.generations - done
    _seed_numpy(c.seed, done - 1)  # the sample from the prior that sets the first epsilon
    t = abc.initialize_components_before_run(
        minimum_epsilon=c.min_epsilon,
        max_nr_populations=remaining,
        min_acceptance_rate=MIN_ACCEPTANCE,
        max_total_nr_simulations=math.inf,
        max_walltime=None,
        min_eps_diff=0.0,
    )
    start = time.perf_counter()
    per_particle = len(c.episodes) * c.replicates
    while True:
        _seed_numpy(c.seed, t)
        began = time.perf_counter()
        ret = abc.run_generation(t=t)
        if not ret["successful"]:
            say(
                f"generation {t + 1}: acceptance fell below {MIN_ACCEPTANCE}; the calibration "
                f"stops at generation {t}"
            )
            break
        finished = t - done + 1
        elapsed = time.perf_counter() - start
        stop = abc.check_terminate(t=t, acceptance_rate=ret["acceptance_rate"])
        left = c.generations - t - 1
        pace = (time.perf_counter() - began) if finished == 1 else elapsed / finished
        accepted = c.population_size
        particles = round(accepted / ret["acceptance_rate"])
        say(
            f"generation {t + 1} of {c.generations}: epsilon {abc.eps(t):.3g}, accepted "
            f"{accepted} of {particles} particles ({ret['acceptance_rate']:.2f}; "
            f"{particles * per_particle:,} runs), {_clock(elapsed)} so far"
            + ("" if stop or left <= 0 else f", about {_clock(pace * left)} left at this pace")
        )
        if stop:
            break
        t += 1


def _finish(out: Path, info: dict, history: Any) -> None:
    history.done()
    everything = history.get_all_populations()
    populations = everything[everything["t"] >= 0]
    info = {
        **info,
        "state": "done",
        # pyabc's own time per generation (the prior's sample included): no time stopped.
        "wall_seconds": float(everything["wall_time"].fillna(0).sum()),
        "finished": now(),
        "generations_done": len(populations),
        "final_epsilon": float(populations["epsilon"].iloc[-1]) if len(populations) else None,
        "runs": int(history.total_nr_simulations),
    }
    _write_info(out, info)


def estimate(calibration: Calibration, jobs: int = 1) -> dict[str, Any]:
    """What a calibration will cost: particles, runs and time, from a few timed runs.

    Each episode's replicates are run once at the middle of the priors (after an untimed run
    that loads the compiled kernels): a particle's cost.

    Args:
        calibration: The calibration.
        jobs: Processes it will run on.

    Returns:
        ``runs_per_particle``, ``seconds_per_particle``, ``least_runs`` (every proposed particle
        accepted, the prior sample that sets the first epsilon included), ``likely_runs`` (at an
        acceptance rate of 0.3, typical of ABC-SMC's later generations) and the matching
        ``least_seconds`` and ``likely_seconds`` on ``jobs`` processes.
    """
    particles = ParticleModel(calibration)
    middle = {
        p.name: (math.sqrt(p.low * p.high) if p.scale == "log" else (p.low + p.high) / 2)
        for p in calibration.priors
    }
    # A first, untimed run: the process loads the compiled kernels once.
    ParticleModel(dataclasses.replace(calibration, replicates=1)).observations(middle, -2, 0)
    seconds = 0.0
    for i in range(len(calibration.episodes)):
        t0 = time.perf_counter()
        particles.observations(middle, -2, i)  # every replicate of the episode
        seconds += time.perf_counter() - t0
    runs_per_particle = len(calibration.episodes) * calibration.replicates
    seconds_per_particle = seconds
    least = (calibration.generations + 1) * calibration.population_size
    likely = calibration.population_size * (1 + calibration.generations / 0.3)
    workers = max(1, min(jobs, os.cpu_count() or 1))
    return {
        "runs_per_particle": runs_per_particle,
        "seconds_per_particle": seconds_per_particle,
        "least_runs": least * runs_per_particle,
        "likely_runs": round(likely) * runs_per_particle,
        "least_seconds": least * seconds_per_particle / workers,
        "likely_seconds": likely * seconds_per_particle / workers,
    }
