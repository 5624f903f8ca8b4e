"""Calibration against history: ABC-SMC (pyabc) over the episodes, and the posterior it gives.

- :mod:`~dualpower_sim.calibration.spec`: the calibration file (priors, episodes, targets).
- :mod:`~dualpower_sim.calibration.summaries`: summary statistics and the distance.
- :mod:`~dualpower_sim.calibration.episodes`: a particle's runs (the simulator side).
- :mod:`~dualpower_sim.calibration.smc`: running ABC-SMC into a resumable folder.
- :mod:`~dualpower_sim.calibration.posterior`: reading a calibration's posterior.

pyabc is an optional dependency (the ``calibrate`` extra): this package imports without it,
and what needs it says which extra to install.
"""

from __future__ import annotations

from .spec import Calibration, Episode, Prior, load_calibration

__all__ = ["Calibration", "Episode", "Prior", "load_calibration"]
