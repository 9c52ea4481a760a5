"""ik.SurveyDesign Taylor-linearised means, totals and ratios against the Python package `svy` (live).

`svy` (Samplics LLC, MIT; 0.35.0 tested) is an optional peer, skipped with a reason when it is not
importable. Install without pyarrow (a plain ``pip install svy`` pulls pyarrow through
polars[pyarrow], and pandas >= 3 then switches its default string storage to pyarrow for everything):
    pip install --no-deps "svy==0.35.0" "svy-rs==0.19.1" "svy-io==0.7.1" "polars==2.1.0" \
        "polars-runtime-32==2.1.0" "msgspec==0.23.0"      (numpy and scipy are already required)
On the api data shipped with R survey (tests/reference/r/survey/*.csv) svy agrees with R survey to
~1e-15, so this is a second, independent implementation of the same conventions.

Tolerances: estimates and standard errors rel 1e-10; design df exact (whole-sample estimates only:
svy reports a per-domain df = #PSU - #strata within the domain, impactkit the design's df as R).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

svy = pytest.importorskip("svy", reason="optional peer `svy` not installed (install line in this module's docstring)")
pl = pytest.importorskip("polars", reason="svy needs polars")

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "survey"
RTOL = 1e-10

DESIGNS = {
    # name: (csv, ik.SurveyDesign kwargs, svy.Design kwargs)
    "apistrat_fpc": ("apistrat.csv", dict(weights="pw", strata="stype", fpc="fpc"),
                     dict(stratum="stype", wgt="pw", pop_size="fpc")),
    "apiclus1_fpc": ("apiclus1.csv", dict(weights="pw", psu="dnum", fpc="fpc"),
                     dict(psu="dnum", wgt="pw", pop_size="fpc")),
    "apiclus1_nofpc": ("apiclus1.csv", dict(weights="pw", psu="dnum"), dict(psu="dnum", wgt="pw")),
}
COLUMNS = ["snum", "dnum", "stype", "api00", "api99", "enroll", "pw", "fpc"]

ESTIMATES = {
    "mean": (lambda d, by: d.mean("api00", by=by), lambda e, by: e.mean("api00", by=by)),
    "total": (lambda d, by: d.total("enroll", by=by), lambda e, by: e.total("enroll", by=by)),
    "ratio": (lambda d, by: d.ratio("api00", "api99", by=by), lambda e, by: e.ratio("api00", "api99", by=by)),
}


def _svy_table(design_name, estimator, by):
    csv, _, svy_kw = DESIGNS[design_name]
    sample = svy.Sample(pl.read_csv(REF_DIR / csv, columns=COLUMNS), svy.Design(**svy_kw))
    est = ESTIMATES[estimator][1](sample.estimation, by)
    table = pd.DataFrame(est.to_polars().to_dict(as_series=False))   # no pyarrow needed
    return table, est


@pytest.mark.parametrize("by", [None, "stype"], ids=["all", "by_stype"])
@pytest.mark.parametrize("estimator", list(ESTIMATES))
@pytest.mark.parametrize("design_name", list(DESIGNS))
def test_taylor_estimates_match_svy(design_name, estimator, by):
    csv, ik_kw, _ = DESIGNS[design_name]
    data = pd.read_csv(REF_DIR / csv)
    res = ESTIMATES[estimator][0](ik.SurveyDesign(data, **ik_kw), by)
    peer, peer_obj = _svy_table(design_name, estimator, by)
    tidy = res.tidy()
    if by is None:
        assert len(tidy) == 1 and len(peer) == 1
        pos_ik, pos_peer = [0], [0]
        assert float(res.df_inference.iloc[0]) == float(peer_obj.design_df)
    else:
        levels = sorted(peer[by].astype(str))
        pos_ik = [list(tidy[by].astype(str)).index(lv) for lv in levels]
        pos_peer = [list(peer[by].astype(str)).index(lv) for lv in levels]
    np.testing.assert_allclose(tidy["estimate"].to_numpy(float)[pos_ik], peer["est"].to_numpy(float)[pos_peer],
                               rtol=RTOL, atol=0)
    np.testing.assert_allclose(tidy["std_error"].to_numpy(float)[pos_ik], peer["se"].to_numpy(float)[pos_peer],
                               rtol=RTOL, atol=0)
