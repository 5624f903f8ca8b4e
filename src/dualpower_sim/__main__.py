"""``python -m dualpower_sim``: the demonstration run (see :mod:`dualpower_sim.cli`)."""

import sys

from .cli import main

sys.exit(main())
