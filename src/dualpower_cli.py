"""The ``dualpower`` console script's entry point, outside the package on purpose.

Importing :mod:`dualpower_sim` loads numpy, scipy, pandas and Mesa, which takes a second or
more; a Ctrl-C in that second would otherwise end in a ``KeyboardInterrupt`` traceback from
the imports, before :func:`dualpower_sim.cli.main` (which turns Ctrl-C into exit 130) runs.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def main() -> int:
    """Load the command and run it; Ctrl-C while loading exits 130 with one line."""
    interrupted: list[bool] = []

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        # Remember the Ctrl-C as well as raising it: an import that swallows the
        # KeyboardInterrupt (a bare ``except:`` in a library) must not make us run the command.
        interrupted.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        from dualpower_sim.cli import main as command
    except KeyboardInterrupt:
        interrupted.append(True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    return command()
