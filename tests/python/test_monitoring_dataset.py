"""The shipped synthetic monitoring panel: the documented, seeded generator reproduces the shipped file
(values to the file's rounding), and its results framework is valid and evaluable."""
import numpy as np
import pandas as pd

import impactkit as ik
from impactkit.datasets.monitoring import monitoring_framework, simulate_monitoring_panel


def test_generator_reproduces_the_shipped_file():
    shipped = ik.datasets.load("monitoring_panel")
    made = simulate_monitoring_panel(seed=2026)
    assert list(made.columns) == list(shipped.columns) and made.shape == shipped.shape
    for c in made.columns:
        if pd.api.types.is_numeric_dtype(made[c]):
            np.testing.assert_allclose(made[c].to_numpy(dtype=float), shipped[c].to_numpy(dtype=float), rtol=1e-12,
                                       equal_nan=True, err_msg=c)
        else:
            assert (made[c].to_numpy() == shipped[c].to_numpy()).all(), c


def test_panel_structure_attrition_and_framework():
    df = ik.datasets.load("monitoring_panel")
    assert not df.duplicated(["household", "round"]).any()
    n = df.groupby("round").size()
    assert list(n.index) == [0, 1, 2, 3] and (np.diff(n.to_numpy()) < 0).all()  # attrition, no entrants
    # households leave for good: their rounds are 0..k
    k = df.groupby("household")["round"].agg(["min", "max", "size"])
    assert (k["min"] == 0).all() and (k["max"] + 1 == k["size"]).all()
    assert df["school_attendance"].isna().eq(df["children"] == 0).all()
    other = simulate_monitoring_panel(seed=1, households_per_village=4)
    assert len(other) < len(df) and not other["income"].equals(df["income"].iloc[: len(other)])
    rf = ik.ResultsFramework(monitoring_framework())
    ev = rf.evaluate(df, period="round", by="disability").table()
    assert set(ev["status"]) <= {"on track", "at risk", "off track"} and ev["id"].nunique() == 5
