"""The ``dualpower`` console script's entry point, outside the package on purpose.

Importing :mod:`dualpower_sim` loads numpy, scipy, pandas and Mesa, which takes a second or
more; a Ctrl-C in that second would otherwise end in a ``KeyboardInterrupt`` traceback from
the imports, before :func:`dualpower_sim.cli.main` (which turns Ctrl-C into exit 130) runs.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Load the command and run it; Ctrl-C while loading exits 130 with one line."""
    try:
        from dualpower_sim.cli import main as command
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    return command()
