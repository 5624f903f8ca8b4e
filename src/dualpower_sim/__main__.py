"""``python -m dualpower_sim``: the ``dualpower`` command (see :mod:`dualpower_sim.cli`)."""

import sys

from .cli import main

sys.exit(main())
