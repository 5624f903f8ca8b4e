import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dualpower_sim.plots import plot_mobilization


def test_plot_draws_every_series_it_is_given():
    steps = pd.RangeIndex(50, name="step")
    df = pd.DataFrame(
        {
            "mobilized": np.linspace(0, 0.5, 50),
            "jailed": np.linspace(0, 0.1, 50),
            "hardship": 0.4,
            "legitimacy": 0.7,
            "striking": 0.1,
            "blockading": 0.2,
            "occupying": 0.0,
            "mobilized_firms_1_50": 0.1,
            "mobilized_firms_1001_plus": 0.3,
            "mobilized_sector_metal_working": 0.2,
        },
        index=steps,
    )
    fig = plot_mobilization(df)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 4
    labels = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert labels[0] == ["mobilized", "jailed", "mean hardship", "state legitimacy"]
    assert labels[2] == ["1-50 workers", "1001+ workers"]
    assert labels[3] == ["metal working"]
    assert all(ax.get_title(loc="left") for ax in axes)
