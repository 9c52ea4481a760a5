"""Estimators on a dask DataFrame equal the in-memory call (which equals R survey / laeken:
test_targeting.py, test_inequality.py, test_survey_reference.py).

Every partition is reduced to a mergeable accumulator on a real two-process `distributed.LocalCluster`
(started and closed here), merged in a tree and finalized on the client. Data: the R reference registry
(tests/reference/r/targeting/targeting_data.csv: 380 rows, strata, PSUs nested in strata, stage-1 FPC),
split into 1, 3 and 16 partitions (the fixed-line targeting test; 16 also for Gini ties and registries) and,
everywhere, a ragged split with an empty, a one-row and two larger partitions. One two-process cluster
(module fixture) serves every test.
Tolerance: estimates and (co)variances relative 1e-10 (entries below 1e-12 of the largest: absolute
1e-10 of it), counts and df exact. Quantiles (lines, quintile cuts) are exact (laeken rule).
"""
from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "targeting"
DATA = pd.read_csv(REF_DIR / "targeting_data.csv")
RTOL = 1e-10


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _split(df: pd.DataFrame, how):
    """A dask frame of df: `how` partitions, or "ragged": an empty, a one-row and two larger partitions."""
    if how == "ragged":
        cuts = [0, 0, 1, 150, len(df)]
        pieces = [df.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        return dd.from_delayed([dask.delayed(p.copy)() for p in pieces], meta=df.iloc[:0], verify_meta=False)
    return dd.from_pandas(df, npartitions=how, sort=False)


def _close(got, want, what=""):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, what
    assert np.array_equal(np.isnan(got), np.isnan(want)), what
    m = ~np.isnan(want)
    scale = np.max(np.abs(want[m])) if m.any() else 1.0
    np.testing.assert_allclose(got[m], want[m], rtol=RTOL, atol=RTOL * 1e-2 * scale, err_msg=what)


def _same_result(got, want):
    assert list(got.params.index) == list(want.params.index)
    _close(got.params, want.params, "estimates")
    _close(got.vcov, want.vcov, "vcov")
    assert got.nobs == want.nobs
    for k in ("df", "n_strata", "n_psu", "n_lonely_strata", "n_obs"):
        if k in want.conventions:
            assert got.conventions[k] == want.conventions[k], k


DESIGN = dict(weights="w", strata="stratum", psu="psu", fpc="fpc", nest=True)


@pytest.mark.parametrize("how", [1, 3, 16, "ragged"])
def test_targeting_fixed_line_by_groups_on_design(client, how):
    kw = dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(20.0), benefit="benefit", by=["sex", "age_band"])
    want = ik.targeting(DATA, design=ik.SurveyDesign(DATA, **DESIGN), **kw)
    ddf = _split(DATA, how)
    got = ik.targeting(ddf, design=ik.SurveyDesign(ddf, **DESIGN), **kw)
    _same_result(got, want)
    np.testing.assert_array_equal(got.welfare_cuts, want.welfare_cuts)
    pd.testing.assert_frame_equal(got.table().drop(columns=["estimate", "std_error", "conf_low", "conf_high"]),
                                  want.table().drop(columns=["estimate", "std_error", "conf_low", "conf_high"]))
    t = got.test_equal("coverage")
    w = want.test_equal("coverage")
    assert t.statistic == pytest.approx(w.statistic, rel=1e-9)


@pytest.mark.parametrize("target,how", [(ik.relative_line(0.6), 3), (ik.relative_line(0.5, strict=False), "ragged"),
                                        (ik.bottom(0.2), "ragged"), (ik.bottom(0.5), 16), ("eligible", "ragged")])
def test_targeting_estimated_lines_and_columns(client, target, how):
    kw = dict(welfare="welfare", beneficiary="beneficiary", target=target, benefit="benefit", by="sex")
    want = ik.targeting(DATA, design=ik.SurveyDesign(DATA, **DESIGN), **kw)
    ddf = _split(DATA, how)
    got = ik.targeting(ddf, design=ik.SurveyDesign(ddf, **DESIGN), **kw)
    _same_result(got, want)
    if not isinstance(target, str):
        assert got.line == want.line  # the exact weighted quantile
        assert got.bandwidth == pytest.approx(want.bandwidth, rel=1e-13)


def _households() -> pd.DataFrame:
    """DATA grouped into households of two rows within a PSU (welfare, beneficiary, benefit and eligibility of the
    household's first row), rows shuffled so a household's rows fall into different partitions."""
    frame = DATA.sort_values(["stratum", "psu"]).reset_index(drop=True)
    frame["hh"] = frame.groupby(["stratum", "psu"]).cumcount() // 2 + 1000 * frame["stratum"] + 100 * frame["psu"]
    for c in ("welfare", "beneficiary", "benefit", "eligible"):
        frame[c] = frame.groupby("hh")[c].transform("first")
    return frame.sample(frac=1.0, random_state=2).reset_index(drop=True)


HOUSEHOLDS = _households()


@pytest.mark.parametrize("how", ["ragged"])
def test_targeting_households(client, how):
    """unit="households": each household counts once with its first row in data order (found across partitions);
    its other rows stay in the design; the line and quintile cuts are over households."""
    ddf = _split(HOUSEHOLDS, how)
    for target in (ik.poverty_line(20.0), ik.relative_line(0.6), "eligible"):
        kw = dict(welfare="welfare", beneficiary="beneficiary", target=target, benefit="benefit", by="sex", unit="households", household="hh")
        got = ik.targeting(ddf, design=ik.SurveyDesign(ddf, **DESIGN), **kw)
        want = ik.targeting(HOUSEHOLDS, design=ik.SurveyDesign(HOUSEHOLDS, **DESIGN), **kw)
        _same_result(got, want)
        assert got.nobs == want.nobs == HOUSEHOLDS["hh"].nunique()
        np.testing.assert_array_equal(got.welfare_cuts, want.welfare_cuts)
        assert got.line == want.line or (np.isnan(got.line) and np.isnan(want.line))
    if how == "ragged":
        varying = HOUSEHOLDS.assign(welfare=HOUSEHOLDS["welfare"] + np.arange(len(HOUSEHOLDS)) * 0.01)
        kw = dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(20.0), unit="households", household="hh")
        with pytest.raises(ValueError, match="needs welfare 'welfare' constant within each household"):
            ik.targeting(_split(varying, how), weights="w", **kw)
        with pytest.raises(ValueError, match="needs household="):
            ik.targeting(ddf, weights="w", **dict(kw, household=None))


def test_targeting_weights_only_and_no_weights(client):
    """Without a design the rows are an independent sample (each row its own PSU)."""
    ddf = _split(DATA, 16)
    kw = dict(welfare="welfare", beneficiary="beneficiary", target=ik.relative_line(0.6), incidence=ik.quantile_groups(4))
    _same_result(ik.targeting(ddf, weights="w", **kw), ik.targeting(DATA, weights="w", **kw))
    _same_result(ik.targeting(ddf, **kw), ik.targeting(DATA, **kw))


@pytest.mark.parametrize("rule", ["remove", "certainty", "average", "adjust"])
def test_lonely_psu_rules_decided_on_merged_counts(client, rule):
    # keep one PSU of the first two strata: two lonely strata, their rows spread over all partitions
    first = DATA.groupby("stratum")["psu"].transform("min")
    lonely = DATA[~DATA["stratum"].isin(DATA["stratum"].unique()[:2]) | (DATA["psu"] == first)].reset_index(drop=True)
    lonely = lonely.sample(frac=1.0, random_state=3).reset_index(drop=True)
    design = dict(DESIGN, lonely_psu=rule)
    kw = dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(20.0), benefit="benefit", by="sex", incidence=None)
    want = ik.targeting(lonely, design=ik.SurveyDesign(lonely, **design), **kw)
    assert want.conventions["n_lonely_strata"] == 2
    ddf = _split(lonely, 16)
    _same_result(ik.targeting(ddf, design=ik.SurveyDesign(ddf, **design), **kw), want)
    d = ik.SurveyDesign(ddf, **design)
    _same_result(d.mean("welfare", by="sex"), ik.SurveyDesign(lonely, **design).mean("welfare", by="sex"))


def test_lonely_psu_fail_names_the_stratum(client):
    first = DATA.groupby("stratum")["psu"].transform("min")
    lonely = DATA[(DATA["stratum"] != DATA["stratum"].iloc[0]) | (DATA["psu"] == first)].reset_index(drop=True)
    ddf = _split(lonely, 3)
    with pytest.raises(ValueError, match="lonely PSU"):
        ik.SurveyDesign(ddf, **DESIGN).total("benefit")


@pytest.mark.parametrize("how", ["ragged"])
def test_survey_design_mean_total_ratio_proportion(client, how):
    mem = ik.SurveyDesign(DATA, **DESIGN)
    ddf = _split(DATA, how)
    lazy = ik.SurveyDesign(ddf, **DESIGN)
    _same_result(lazy.mean(["welfare", "benefit"], by="sex"), mem.mean(["welfare", "benefit"], by="sex"))
    _same_result(lazy.total("benefit", by=["sex", "age_band"]), mem.total("benefit", by=["sex", "age_band"]))
    _same_result(lazy.ratio("benefit", "welfare", by="age_band"), mem.ratio("benefit", "welfare", by="age_band"))
    _same_result(lazy.proportion("age_band", by="sex"), mem.proportion("age_band", by="sex"))
    _same_result(lazy.mean("welfare"), mem.mean("welfare"))


def _two_stage_with_replicates():
    """DATA with a second stage (3 households groups per PSU, with a stage-2 FPC) and 12 replicate weights."""
    rng = np.random.default_rng(11)
    frame = DATA.copy()
    frame["ssu"] = frame.groupby(["stratum", "psu"]).cumcount() % 3
    frame["fpc2"] = frame.groupby(["stratum", "psu"])["ssu"].transform("nunique") + 2.0
    for r in range(12):
        frame[f"rw{r}"] = frame["w"] * rng.uniform(0.5, 1.5, len(frame))
    return frame


TWO_STAGE = _two_stage_with_replicates()
REPW = [f"rw{r}" for r in range(12)]


@pytest.mark.parametrize("how", ["ragged"])
def test_survey_design_multistage_and_replicate_weights(client, how):
    """Multistage with an FPC at every stage (R's multistage variance: one total per finest unit), the
    ultimate-cluster approximation (stage-1 FPC only) and replicate-weight designs (per-replicate totals,
    df = rank of the replicate weights − 1) equal the in-memory design."""
    ddf = _split(TWO_STAGE, how)
    specs = [dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True),
             dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc="fpc", nest=True),
             dict(weights="w", replicate_weights=REPW, replicate_type="bootstrap"),
             dict(weights="w", replicate_weights=REPW, replicate_type="JK1", mse=True)]
    for spec in specs:
        mem, lazy = ik.SurveyDesign(TWO_STAGE, **spec), ik.SurveyDesign(ddf, **spec)
        _same_result(lazy.mean(["welfare", "benefit"], by="sex"), mem.mean(["welfare", "benefit"], by="sex"))
        _same_result(lazy.ratio("benefit", "welfare", by="age_band"), mem.ratio("benefit", "welfare", by="age_band"))
        _same_result(lazy.proportion("age_band"), mem.proportion("age_band"))
        got, want = lazy.total("benefit"), mem.total("benefit")
        _same_result(got, want)
        assert got.conventions.get("n_stages") == want.conventions.get("n_stages")
    assert mem.df == 11 and ik.SurveyDesign(TWO_STAGE, **specs[0]).conventions()["n_stages"] == 2
    spec = specs[0]
    _same_result(ik.gini(ddf, "welfare", design=ik.SurveyDesign(ddf, **spec), by="sex"),
                 ik.gini(TWO_STAGE, "welfare", design=ik.SurveyDesign(TWO_STAGE, **spec), by="sex"))


REPLICATE_SPECS = [dict(weights="w", replicate_weights=REPW[:6], replicate_type="bootstrap"),
                   dict(weights="w", replicate_weights=REPW[:6], replicate_type="JK1", mse=True),
                   dict(weights="w", replicate_weights=REPW[:6], replicate_type="JKn", rscales=[0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
                   dict(weights="w", replicate_weights=REPW[:6], replicate_type="Fay", fay_rho=0.3),
                   dict(weights="w", replicate_weights=REPW[:4], replicate_type="BRR")]
MULTISTAGE = dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True)


@pytest.mark.parametrize("how", ["ragged"])
def test_targeting_and_fgt_on_replicate_and_multistage_designs(client, how):
    """ik.targeting and ik.fgt / ik.watts under replicate-weight designs (JK1, JKn, BRR, Fay, bootstrap: every
    replicate re-estimates the metrics, an estimated line re-estimated with its weights, exactly across
    partitions) and a multistage design with an FPC at every stage equal the in-memory call."""
    ddf = _split(TWO_STAGE, how)
    kw = dict(welfare="welfare", beneficiary="beneficiary", benefit="benefit", by="sex")
    for spec in REPLICATE_SPECS:  # every replicate type: fixed-line targeting and FGT
        mem, lazy = ik.SurveyDesign(TWO_STAGE, **spec), ik.SurveyDesign(ddf, **spec)
        _same_result(ik.targeting(ddf, design=lazy, target=ik.poverty_line(20.0), incidence=None, **kw),
                     ik.targeting(TWO_STAGE, design=mem, target=ik.poverty_line(20.0), incidence=None, **kw))
        _same_result(ik.fgt(ddf, "welfare", line=20.0, alpha=1, design=lazy, by="age_band"),
                     ik.fgt(TWO_STAGE, "welfare", line=20.0, alpha=1, design=mem, by="age_band"))
    for spec in (REPLICATE_SPECS[1], MULTISTAGE):  # estimated lines, target columns, quintile incidence, Watts, ARPT
        mem, lazy = ik.SurveyDesign(TWO_STAGE, **spec), ik.SurveyDesign(ddf, **spec)
        for target in (ik.relative_line(0.6), "eligible"):
            _same_result(ik.targeting(ddf, design=lazy, target=target, **kw), ik.targeting(TWO_STAGE, design=mem, target=target, **kw))
        _same_result(ik.fgt(ddf, "welfare", line=ik.bottom(0.3), alpha=1, design=lazy),
                     ik.fgt(TWO_STAGE, "welfare", line=ik.bottom(0.3), alpha=1, design=mem))
        _same_result(ik.watts(ddf, "welfare", line=20.0, design=lazy), ik.watts(TWO_STAGE, "welfare", line=20.0, design=mem))
        _same_result(ik.arpt(ddf, "welfare", design=lazy), ik.arpt(TWO_STAGE, "welfare", design=mem))
    hh = dict(welfare="welfare", beneficiary="beneficiary", target=ik.relative_line(0.6), unit="households", household="hh",
              incidence=None)
    frame = TWO_STAGE.assign(hh=TWO_STAGE["stratum"] * 1000 + TWO_STAGE["psu"])
    frame = frame.assign(welfare=frame.groupby("hh")["welfare"].transform("first"),
                         beneficiary=frame.groupby("hh")["beneficiary"].transform("first"))
    spec = REPLICATE_SPECS[4]
    _same_result(ik.targeting(_split(frame, how), design=ik.SurveyDesign(_split(frame, how), **spec), **hh),
                 ik.targeting(frame, design=ik.SurveyDesign(frame, **spec), **hh))


@pytest.mark.parametrize("how", [3])
def test_welfare_indices_on_replicate_designs(client, how):
    """Every welfare index under a replicate-weight design on Dask: each weight set re-estimates the index
    (quantiles, lines and ranks included), then C++'s replicate variance (replicate_index_variance) — equal to
    the in-memory welfare_index with replicate weights."""
    ddf = _split(TWO_STAGE, how)
    for spec in (REPLICATE_SPECS[4],):  # BRR, 4 replicates (each index re-estimated 5 times)
        mem, lazy = ik.SurveyDesign(TWO_STAGE, **spec), ik.SurveyDesign(ddf, **spec)
        calls = [(ik.gini, ("welfare",), dict(by="sex")), (ik.theil, ("welfare",), {}), (ik.atkinson, ("welfare",), dict(epsilon=0.5)),
                 (ik.lorenz, ("welfare",), dict(points=[0.2, 0.5, 1.0])), (ik.quantile_shares, ("welfare",), dict(groups=4)),
                 (ik.qsr, ("welfare",), {}), (ik.sen, ("welfare",), dict(line=ik.relative_line(0.6))),
                 (ik.concentration_index, ("benefit",), dict(rank_by="welfare")), (ik.kakwani, ("benefit",), dict(income="welfare"))]
        for f, args, kw in calls:
            got, want = f(ddf, *args, design=lazy, **kw), f(TWO_STAGE, *args, design=mem, **kw)
            _same_result(got, want)
            assert got.vcov_convention == want.vcov_convention, f.__name__


def test_design_from_another_dask_frame_is_refused(client):
    """A dask design holds no row labels to match against the data (pandas' SurveyDesign.check_rows), so it must
    describe the data's rows: a replicate or Taylor design built from another frame (here a shuffled and
    re-indexed copy, whose rows would pair with the wrong weights) is refused, naming the differing column and
    partition; a separately built frame with the same partitions and design columns is accepted."""
    ddf = _split(TWO_STAGE, 3)
    shuffled = TWO_STAGE.sample(frac=1.0, random_state=3).reset_index(drop=True)
    other = _split(shuffled, 3)
    for spec in (REPLICATE_SPECS[4], DESIGN):
        design = ik.SurveyDesign(other, **spec)
        for f, args, kw in [(ik.gini, ("welfare",), {}), (ik.lorenz, ("welfare",), dict(points=[0.5])), (ik.theil, ("welfare",), {}),
                            (ik.kakwani, ("benefit",), dict(income="welfare")), (ik.fgt, ("welfare",), dict(line=20.0)),
                            (ik.targeting, (), dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(20.0)))]:
            name = f.__name__
            with pytest.raises(ValueError, match=f"{name}: the design was built from a different dask DataFrame: column 'w' "
                                                 "differs from the design's in partition 0"):
                f(ddf, *args, design=design, **kw)
    with pytest.raises(ValueError, match="different dask DataFrame: the data have no design column 'rw0'"):
        ik.gini(ddf.drop(columns=["rw0"]), "welfare", design=ik.SurveyDesign(ddf, **REPLICATE_SPECS[4]))
    # a separately built frame of the same rows (ragged splits from delayed pieces have their own graph names)
    mem = ik.SurveyDesign(TWO_STAGE, **REPLICATE_SPECS[4])
    same = ik.SurveyDesign(_split(TWO_STAGE, "ragged"), **REPLICATE_SPECS[4])
    _same_result(ik.gini(_split(TWO_STAGE, "ragged"), "welfare", design=same), ik.gini(TWO_STAGE, "welfare", design=mem))


@pytest.mark.parametrize("how", ["ragged"])
def test_survey_design_quantile_woodruff(client, how):
    """SurveyDesign.quantile (qrule 'math', Woodruff interval) on a Taylor, a weights-only and a replicate design:
    exact distributed quantiles, so estimates, intervals and df equal in memory."""
    ddf = _split(TWO_STAGE, how)
    for spec in (DESIGN, dict(weights="w"), dict(weights="w", replicate_weights=REPW, replicate_type="JK1")):
        got = ik.SurveyDesign(ddf, **spec).quantile("welfare", [0.1, 0.5, 0.9], by="sex")
        want = ik.SurveyDesign(TWO_STAGE, **spec).quantile("welfare", [0.1, 0.5, 0.9], by="sex")
        _same_result(got, want)
        _close(got.conf_int(), want.conf_int(), "Woodruff interval")
        np.testing.assert_array_equal(got._df, want._df)
    ties = TWO_STAGE.assign(welfare=TWO_STAGE["welfare"].round(-1), w=TWO_STAGE["w"].round())  # exact CDF ties with integer weights
    got = ik.SurveyDesign(_split(ties, how), **DESIGN).quantile("welfare", [0.25, 0.5], level=0.9)
    _same_result(got, ik.SurveyDesign(ties, **DESIGN).quantile("welfare", [0.25, 0.5], level=0.9))
    if how == "ragged":
        with pytest.raises(ValueError, match="q must be in"):
            ik.SurveyDesign(ddf, **DESIGN).quantile("welfare", 1.5)
        empty = TWO_STAGE.assign(w=TWO_STAGE["w"].where(TWO_STAGE["sex"] != TWO_STAGE["sex"].iloc[0], 0.0))
        with pytest.raises(ValueError, match="has no rows with positive weight"):
            ik.SurveyDesign(_split(empty, how), **DESIGN).quantile("welfare", 0.5, by="sex")


def test_survey_design_string_labels_and_no_fpc(client):
    frame = DATA.assign(region=DATA["stratum"].map(lambda s: f"region-{s:02d}"), cluster=DATA["stratum"] * 1000 + DATA["psu"])
    frame["cluster"] = frame["cluster"].map(lambda c: f"ea{c}")
    spec = dict(weights="w", strata="region", psu="cluster")
    ddf = _split(frame, 3)
    _same_result(ik.SurveyDesign(ddf, **spec).mean("welfare", by="sex"), ik.SurveyDesign(frame, **spec).mean("welfare", by="sex"))


@pytest.mark.parametrize("line,alpha", [(20.0, 0), (20.0, 2), (ik.relative_line(0.6), 0), (ik.relative_line(0.6), 1),
                                        (ik.bottom(0.3), 2)])
def test_fgt(client, line, alpha):
    ddf = _split(DATA, 3)
    want = ik.fgt(DATA, "welfare", line=line, alpha=alpha, design=ik.SurveyDesign(DATA, **DESIGN), by="sex")
    got = ik.fgt(ddf, "welfare", line=line, alpha=alpha, design=ik.SurveyDesign(ddf, **DESIGN), by="sex")
    _same_result(got, want)
    if not isinstance(line, float):
        assert got.line == want.line
        np.testing.assert_allclose(got.line_variance, want.line_variance, rtol=RTOL)


def test_watts_weights_only(client):
    ddf = _split(DATA, 16)
    _same_result(ik.watts(ddf, "welfare", line=20.0, weights="w"), ik.watts(DATA, "welfare", line=20.0, weights="w"))


@pytest.mark.parametrize("sketch", [2048, 2])
def test_weighted_quantile_exact_ties_and_many_rounds(client, monkeypatch, sketch):
    """Heavy ties, integer weights (exact share == p: the mean with the next value) and a bracket that
    needs several narrowing rounds (few rows fetched per round): with the first pass's sketch brackets
    (2,048 order statistics per partition) and without them (2: the smallest and largest values only, so
    every quantile is narrowed in rounds)."""
    from impactkit import _dask

    monkeypatch.setattr(_dask, "_SKETCH", sketch)
    rounds = []
    run = _dask.map_partitions
    monkeypatch.setattr(_dask, "map_partitions", lambda ddf, fn, *a: rounds.append(fn.__name__) or run(ddf, fn, *a))

    rng = np.random.default_rng(5)
    n = 6_000
    frame = pd.DataFrame({"y": rng.integers(0, 300, n).astype(float), "w": rng.integers(1, 4, n).astype(float),
                          "b": rng.integers(0, 2, n)})
    frame.loc[:9, "w"] = 0.0  # zero weights take no part in quantiles
    frame.loc[:99, "y"] = 1e6  # a long upper tail
    ddf = _split(frame, 16)
    monkeypatch.setattr(_dask, "_FETCH_ROWS", 40)
    for probs in ([0.2, 0.4, 0.6, 0.8], [0.001, 0.5, 0.999]):
        want = ik.targeting(frame, welfare="y", beneficiary="b", target=ik.bottom(probs[0]), weights="w",
                            incidence=ik.quantile_groups(5)).welfare_cuts
        got = _dask.weighted_quantiles(ddf, "y", "w", probs)
        mem = [float(ik.targeting(frame, welfare="y", beneficiary="b", target=ik.bottom(p), weights="w", incidence=None).line)
               for p in probs]
        assert got == mem
    assert list(_dask.weighted_quantiles(ddf, "y", "w", [0.2, 0.4, 0.6, 0.8])) == list(want)
    # an exact tie: equal weights and an even count give share == 1/2 at the end of a run
    even = pd.DataFrame({"y": np.repeat([1.0, 2.0, 3.0, 4.0], 5), "w": 1.0, "b": 0})
    got = _dask.weighted_quantiles(_split(even, 3), "y", "w", [0.5])[0]
    assert got == ik.targeting(even, welfare="y", beneficiary="b", target=ik.bottom(0.5), weights="w", incidence=None).line == 2.5
    if sketch == 2:  # every quantile went through narrowing rounds
        assert "_q_weights_at" in rounds
    # at the default _FETCH_ROWS a bracket of these rows is fetched at once: two passes, no narrowing round
    monkeypatch.setattr(_dask, "_FETCH_ROWS", 200_000)
    rounds.clear()
    assert _dask.weighted_quantiles(ddf, "y", "w", [0.2, 0.4, 0.6, 0.8]) == list(want)
    assert rounds == ["_q_first", "_q_rows"]


def test_registry_overlap(client):
    rng = np.random.default_rng(1)
    reg = pd.DataFrame({"hh": np.arange(5000) * 7 + 3, "eligible": rng.random(5000) < 0.4,
                        "district": rng.choice(["north", "south", "east"], 5000), "female_head": rng.integers(0, 2, 5000)})
    rosters = {"NGO A": pd.DataFrame({"hh": np.concatenate([rng.choice(reg["hh"], 900, replace=False), [1, 2]])}),
               "NGO B": list(rng.choice(reg["hh"], 700, replace=False)) + [int(reg["hh"][0])] * 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = ik.registry_overlap(reg, rosters, key="hh", eligible="eligible", by=["district", "female_head"])
    for how in (16, "ragged"):
        with pytest.warns(ik.ImpactkitWarning, match="not in the registry"):
            got = ik.registry_overlap(_split(reg, how), rosters, key="hh", eligible="eligible", by=["district", "female_head"])
        pd.testing.assert_frame_equal(got.table(), want.table())
        assert {k: list(v) for k, v in got.unknown_keys.items()} == {k: list(v) for k, v in want.unknown_keys.items()}
        assert {k: list(v) for k, v in got.duplicate_keys.items()} == {k: list(v) for k, v in want.duplicate_keys.items()}
        assert got.n_registry == want.n_registry
    dup = pd.concat([reg, reg.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="more than once"):
        ik.registry_overlap(_split(dup, 3), rosters, key="hh", eligible="eligible")


def test_bad_input_on_dask(client):
    ddf = _split(DATA, 3)
    kw = dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(20.0))
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        ik.targeting(ddf, **dict(kw, welfare="nope"))
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        ik.SurveyDesign(ddf, weights="w", psu="nope")
    bad = DATA.copy()
    bad.loc[300, "welfare"] = np.nan
    with pytest.raises(ValueError, match="welfare column 'welfare' has a missing or infinite value at row 300"):
        ik.targeting(_split(bad, 3), **kw)
    with pytest.raises(ValueError, match="missing or infinite"):
        ik.SurveyDesign(_split(bad, 3), weights="w").mean("welfare")
    neg = DATA.assign(w=DATA["w"].where(DATA.index != 200, -1.0))
    with pytest.raises(ValueError, match="negative weight"):
        ik.targeting(_split(neg, 3), weights="w", **kw)
    with pytest.raises(ValueError, match="different dask DataFrame"):
        ik.targeting(ddf, design=ik.SurveyDesign(_split(DATA.iloc[:200], 2), **DESIGN), **kw)
    with pytest.raises(TypeError, match="design must be ik.SurveyDesign"):
        ik.targeting(ddf, design=ik.SurveyDesign(DATA, **DESIGN), **kw)
    two = _split(TWO_STAGE, 3)
    with pytest.raises(ValueError, match="fpc has 2 stages but psu has 1"):
        ik.SurveyDesign(two, weights="w", psu="psu", fpc=["fpc", "fpc2"])
    with pytest.raises(ValueError, match="an fpc is not constant within a sampling unit"):
        ik.SurveyDesign(_split(TWO_STAGE.assign(fpc2=np.arange(len(TWO_STAGE)) + 5.0), 3), weights="w", strata="stratum",
                        psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True)
    with pytest.raises(ValueError, match="weights= or design=, not both"):
        ik.targeting(two, design=ik.SurveyDesign(two, weights="w", replicate_weights=REPW, replicate_type="JK1"), weights="w", **kw)
    with pytest.raises(ValueError, match="replicate_type='JKn' needs rscales"):
        ik.SurveyDesign(two, weights="w", replicate_weights=REPW, replicate_type="JKn")
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        ik.SurveyDesign(two, weights="w", replicate_weights=REPW + ["nope"], replicate_type="JK1")
    negrep = TWO_STAGE.assign(rw3=TWO_STAGE["rw3"].where(TWO_STAGE.index != 250, -1.0))
    with pytest.raises(ValueError, match="replicate_weights must be non-negative"):
        ik.SurveyDesign(_split(negrep, 3), weights="w", replicate_weights=REPW, replicate_type="JK1").mean("welfare")
    with pytest.raises(ValueError, match="household= is used with unit='households'"):
        ik.targeting(ddf, household="psu", **kw)
    flat = DATA.assign(psu=DATA["psu"] % 3)  # PSU labels repeat across strata without nest
    with pytest.raises(ValueError, match="more than one stratum"):
        ik.SurveyDesign(_split(flat, 3), weights="w", strata="stratum", psu="psu").mean("welfare")
    with pytest.raises(ValueError, match="no rows"):
        ik.SurveyDesign(_split(DATA.iloc[:0], 1), weights="w", psu="psu").mean("welfare")


def test_accumulators_pickle_and_merge_in_any_order():
    """The accumulators travel between processes as plain arrays; merge order does not matter."""
    import pickle

    from impactkit import _core

    acc = [_core.variance.DesignAccumulator(1, 2, True, True) for _ in range(3)]
    for k, part in enumerate(np.array_split(np.arange(len(DATA)), 3)):
        p = DATA.iloc[part]
        acc[k].update_columns(strata=p["stratum"].to_numpy(np.int64), psu=p["psu"].to_numpy(np.int64), fpc=p["fpc"].to_numpy(float),
                              columns=[p["welfare"].to_numpy(float)], weights=p["w"].to_numpy(float), domain=None, with_weights=True)
    a = pickle.loads(pickle.dumps(acc[0]))
    a.merge(acc[2])
    a.merge(acc[1])
    b = pickle.loads(pickle.dumps(acc[2]))
    b.merge(acc[1])
    b.merge(acc[0])
    np.testing.assert_allclose(a.totals(), b.totals(), rtol=1e-14)
    assert a.rows == b.rows == len(DATA)
    mem = ik.SurveyDesign(DATA, **DESIGN)
    assert a.n_psu == mem.n_psu


def test_dask_is_not_imported_by_in_memory_calls():
    code = ("import sys, pandas as pd, impactkit as ik\n"
            "df = pd.DataFrame({'y': [1.0, 2, 3, 4], 'b': [0, 1, 0, 1], 'w': [1.0, 2, 1, 1]})\n"
            "ik.targeting(df, welfare='y', beneficiary='b', target=ik.poverty_line(2.5), weights='w')\n"
            "ik.fgt(df, 'y', line=2.5, weights='w')\n"
            "assert 'dask' not in sys.modules, 'dask imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("how", [16])
def test_gini_exact_with_ties_across_partitions(client, how):
    """Welfare rounded to whole units: long tie runs that straddle partitions after the global sort."""
    frame = DATA.assign(welfare=DATA["welfare"].round(0))
    want = ik.gini(frame, "welfare", design=ik.SurveyDesign(frame, **DESIGN), by="sex")
    ddf = _split(frame, how)
    _same_result(ik.gini(ddf, "welfare", design=ik.SurveyDesign(ddf, **DESIGN), by="sex"), want)
    if how == 16:
        _same_result(ik.gini(ddf, "welfare", weights="w"), ik.gini(frame, "welfare", weights="w"))


@pytest.mark.parametrize("how", ["ragged"])
def test_concentration_and_kakwani(client, how):
    """Concentration indices (all four kinds) and the Kakwani index: the Gini path's global sort by the ranking
    variable, with the value's tie-run sums carried across partitions (ranks tied over whole units)."""
    frame = TWO_STAGE.assign(welfare=TWO_STAGE["welfare"].round(0), tax=(TWO_STAGE["welfare"] * 0.1 + TWO_STAGE["benefit"]).round(1))
    ddf = _split(frame, how)
    lazy, mem = ik.SurveyDesign(ddf, **DESIGN), ik.SurveyDesign(frame, **DESIGN)
    for var, kind, kw in (("benefit", "standard", {}), ("benefit", "generalized", {}), ("beneficiary", "erreygers", {}),
                          ("beneficiary", "wagstaff", {}), ("benefit", "wagstaff", dict(bounds=(0.0, 500.0)))):
        _same_result(ik.concentration_index(ddf, var, rank_by="welfare", kind=kind, design=lazy, by="sex", **kw),
                     ik.concentration_index(frame, var, rank_by="welfare", kind=kind, design=mem, by="sex", **kw))
    _same_result(ik.kakwani(ddf, "tax", income="welfare", design=lazy, by="sex"), ik.kakwani(frame, "tax", income="welfare", design=mem, by="sex"))
    multi = dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True)
    _same_result(ik.kakwani(ddf, "tax", income="welfare", design=ik.SurveyDesign(ddf, **multi)),
                 ik.kakwani(frame, "tax", income="welfare", design=ik.SurveyDesign(frame, **multi)))
    if how == "ragged":
        _same_result(ik.concentration_index(ddf, "benefit", rank_by="welfare", weights="w"),
                     ik.concentration_index(frame, "benefit", rank_by="welfare", weights="w"))
        with pytest.raises(ValueError, match="lies outside its bounds"):
            ik.concentration_index(ddf, "benefit", rank_by="welfare", kind="erreygers", bounds=(0.0, 1.0), weights="w")
        with pytest.raises(ValueError, match="needs bounds"):
            ik.concentration_index(ddf, "benefit", rank_by="welfare", kind="wagstaff", weights="w")
        neg = frame.assign(welfare=frame["welfare"].where(frame.index != 100, -1.0))
        with pytest.raises(ValueError, match="needs income ≥ 0"):
            ik.kakwani(_split(neg, how), "tax", income="welfare", weights="w")


def test_arpr_arpt_and_unsupported_indices(client):
    ddf = _split(DATA, 3)
    _same_result(ik.arpr(ddf, "welfare", design=ik.SurveyDesign(ddf, **DESIGN), by="sex"),
                 ik.arpr(DATA, "welfare", design=ik.SurveyDesign(DATA, **DESIGN), by="sex"))
    _same_result(ik.arpt(ddf, "welfare", design=ik.SurveyDesign(ddf, **DESIGN)), ik.arpt(DATA, "welfare", design=ik.SurveyDesign(DATA, **DESIGN)))
    with pytest.raises(TypeError, match="design must be ik.SurveyDesign built from the same dask DataFrame"):
        ik.theil(ddf, "welfare", design=ik.SurveyDesign(DATA, **DESIGN))


@pytest.mark.parametrize("how", ["ragged"])
def test_sen(client, how):
    """Sen with a fixed or estimated line: the Gini of the poor from the concentration index of y·1{poor} on the
    global sort, the line's estimation by ∂S/∂z·IF(z) (as in memory)."""
    frame = TWO_STAGE.assign(welfare=TWO_STAGE["welfare"].round(0))
    ddf = _split(frame, how)
    lazy, mem = ik.SurveyDesign(ddf, **DESIGN), ik.SurveyDesign(frame, **DESIGN)
    for line in (20.0, ik.poverty_line(20.0, strict=False), ik.relative_line(0.6), ik.bottom(0.3)):
        got = ik.sen(ddf, "welfare", line=line, design=lazy, by="sex")
        want = ik.sen(frame, "welfare", line=line, design=mem, by="sex")
        _same_result(got, want)
        assert got.line == want.line
        if not isinstance(line, (float, ik.poverty_line)):
            assert got.bandwidth == pytest.approx(want.bandwidth, rel=1e-13)
            np.testing.assert_allclose(got.line_variance, want.line_variance, rtol=RTOL)
    if how == "ragged":
        _same_result(ik.sen(ddf, "welfare", line=5.0, weights="w"), ik.sen(frame, "welfare", line=5.0, weights="w"))
        neg = frame.assign(welfare=frame["welfare"].where(frame.index != 9, -2.0))
        with pytest.raises(ValueError, match="needs welfare ≥ 0 below the line"):
            ik.sen(_split(neg, how), "welfare", line=20.0, weights="w")
        with pytest.raises(ValueError, match="must be positive"):
            ik.sen(ddf, "welfare", line=0.0, weights="w")


def test_sen_estimated_line_on_dask_equals_r(client):
    """The Dask Sen with estimated lines against the plain-R linearisation (make_rank_indices_reference.R)."""
    import json

    ref = json.loads((Path(__file__).resolve().parents[1] / "reference" / "r" / "inequality" / "rank_indices_reference.json").read_text())
    E = ik.datasets.load("eusilc")
    ed = dd.from_pandas(E, npartitions=4, sort=False)
    d = ik.SurveyDesign(ed, weights="rb050", strata="db040", psu="db030")
    for case, line in (("sen_relative", ik.relative_line(0.6)), ("sen_bottom", ik.bottom(0.2))):
        s = ik.sen(ed, "eqIncome", line=line, design=d)
        assert s.coef.iloc[0] == pytest.approx(ref[case]["estimate"], rel=1e-12)
        assert s.se.iloc[0] == pytest.approx(ref[case]["se"], rel=1e-9)


@pytest.mark.parametrize("how", ["ragged"])
def test_lorenz_quantile_shares_qsr(client, how):
    """Lorenz (and generalised) ordinates, quantile-group shares and the QSR: exact quantiles per group across
    partitions, then one pass of PSU totals (tie runs at the quantile split as in memory)."""
    frame = TWO_STAGE.assign(welfare=TWO_STAGE["welfare"].round(0))
    ddf = _split(frame, how)
    lazy, mem = ik.SurveyDesign(ddf, **DESIGN), ik.SurveyDesign(frame, **DESIGN)
    _same_result(ik.lorenz(ddf, "welfare", design=lazy, by="sex"), ik.lorenz(frame, "welfare", design=mem, by="sex"))
    kw = dict(generalized=True, points=[0.1, 0.5, 1.0])
    _same_result(ik.lorenz(ddf, "welfare", design=lazy, **kw), ik.lorenz(frame, "welfare", design=mem, **kw))
    _same_result(ik.quantile_shares(ddf, "welfare", design=lazy, by="age_band"), ik.quantile_shares(frame, "welfare", design=mem, by="age_band"))
    _same_result(ik.qsr(ddf, "welfare", design=lazy, by="sex"), ik.qsr(frame, "welfare", design=mem, by="sex"))
    multi = dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True)
    _same_result(ik.qsr(ddf, "welfare", lower=0.1, upper=0.9, design=ik.SurveyDesign(ddf, **multi)),
                 ik.qsr(frame, "welfare", lower=0.1, upper=0.9, design=ik.SurveyDesign(frame, **multi)))
    if how == "ragged":
        _same_result(ik.quantile_shares(ddf, "welfare", weights="w", cuts=[0.1, 0.9]),
                     ik.quantile_shares(frame, "welfare", weights="w", cuts=[0.1, 0.9]))
        bad = frame.assign(welfare=frame["welfare"].where(frame.index != 7, np.inf))
        with pytest.raises(ValueError, match="missing or infinite value at row 7"):
            ik.lorenz(_split(bad, how), "welfare", weights="w")


@pytest.mark.parametrize("how", ["ragged"])
def test_generalized_entropy_indices(client, how):
    """Theil, MLD and Atkinson: one pass of PSU totals of w, w·y, w·g(y) (welfare scaled by its global maximum)."""
    ddf = _split(TWO_STAGE, how)
    for spec in (DESIGN, dict(weights="w", strata="stratum", psu=["psu", "ssu"], fpc=["fpc", "fpc2"], nest=True)):
        mem, lazy = ik.SurveyDesign(TWO_STAGE, **spec), ik.SurveyDesign(ddf, **spec)
        for f, kw in ((ik.theil, {}), (ik.mld, {}), (ik.atkinson, dict(epsilon=0.5)), (ik.atkinson, dict(epsilon=1.0)),
                      (ik.atkinson, dict(epsilon=2.0))):
            _same_result(f(ddf, "welfare", design=lazy, by="sex", **kw), f(TWO_STAGE, "welfare", design=mem, by="sex", **kw))
    _same_result(ik.theil(ddf, "welfare", weights="w"), ik.theil(TWO_STAGE, "welfare", weights="w"))
    if how == "ragged":
        zero = TWO_STAGE.assign(welfare=TWO_STAGE["welfare"].where(TWO_STAGE.index != 200, 0.0))
        with pytest.raises(ValueError, match="needs welfare > 0; welfare is 0.0 at row 200"):
            ik.mld(_split(zero, how), "welfare", weights="w")
        _same_result(ik.theil(_split(zero, how), "welfare", weights="w"), ik.theil(zero, "welfare", weights="w"))


def test_accumulator_bindings_refuse_bad_input():
    """The bound accumulators (used per partition) name the problem: lengths, NaN, merges of unlike accumulators."""
    from impactkit import _core

    V = _core.variance
    psu = np.arange(4, dtype=np.int64)
    a = V.DesignAccumulator(1, 2, False, False)
    with pytest.raises(ValueError, match="1-d with one value per row"):
        a.update_columns(strata=None, psu=psu, fpc=None, columns=[np.ones(3)], weights=None, domain=None, with_weights=True)
    with pytest.raises(ValueError, match="expected 2 variables"):
        a.update_columns(strata=None, psu=psu, fpc=None, columns=[np.ones(4), np.ones(4)], weights=None, domain=None, with_weights=True)
    with pytest.raises(ValueError, match="y has a missing or infinite value at chunk row 2"):
        a.update_columns(strata=None, psu=psu, fpc=None, columns=[np.array([1.0, 2.0, np.nan, 4.0])], weights=None, domain=None,
                         with_weights=True, names=["y"])
    with pytest.raises(ValueError, match="strata must be 1-d with 4 values"):
        a.update_columns(strata=psu[:2], psu=psu, fpc=None, columns=[np.ones(4)], weights=None, domain=None, with_weights=True)
    with pytest.raises(ValueError, match="without an FPC but the chunk has one"):
        a.update_columns(strata=None, psu=psu, fpc=np.full(4, 10.0), columns=[np.ones(4)], weights=None, domain=None, with_weights=True)
    with pytest.raises(ValueError, match="weights must be finite and non-negative"):
        a.update_columns(strata=None, psu=psu, fpc=None, columns=[np.ones(4)], weights=np.array([1.0, -1, 1, 1]), domain=None,
                         with_weights=True)
    with pytest.raises(ValueError, match="cannot merge"):
        a.merge(V.DesignAccumulator(2, 2, False, False))
    with pytest.raises(ValueError, match="no rows were streamed"):
        a.design("fail")
    b = V.DesignAccumulator(1, 1, False, True)
    with pytest.raises(ValueError, match="fpc is not constant within PSU 0"):
        b.update_columns(strata=None, psu=np.zeros(2, dtype=np.int64), fpc=np.array([10.0, 11.0]), columns=[np.ones(2)], weights=None,
                         domain=None, with_weights=False)
    T = _core.targeting.TargetingAccumulator
    t = T(rule="fixed_line", line_value=1.0, line_quantile=0.5, line_share=1.0, strict=True, line_q=np.nan, line_h=np.nan, amounts=False,
          welfare=True, n_domains=1, n_welfare_groups=0, welfare_cuts=[], nest=False, fpc=False)
    with pytest.raises(ValueError, match="differ from the accumulator's setup"):
        t.update(target=None, beneficiary=np.ones(4), benefit=np.ones(4), welfare=np.ones(4), weights=None, domain=None, strata=None,
                 psu=psu, fpc=None)
    with pytest.raises(ValueError, match="beneficiary indicator must be 0 or 1"):
        t.update(target=None, beneficiary=np.array([0.0, 2, 1, 1]), benefit=None, welfare=np.ones(4), weights=None, domain=None,
                 strata=None, psu=psu, fpc=None)
    with pytest.raises(ValueError, match="needs its quantile Q_p and a positive bandwidth"):
        T(rule="quantile_line", line_value=np.nan, line_quantile=0.5, line_share=0.6, strict=True, line_q=np.nan, line_h=np.nan,
          amounts=False, welfare=True, n_domains=1, n_welfare_groups=0, welfare_cuts=[], nest=False, fpc=False)
    with pytest.raises(ValueError, match="K − 1 cuts"):
        T(rule="fixed_line", line_value=1.0, line_quantile=0.5, line_share=1.0, strict=True, line_q=np.nan, line_h=np.nan, amounts=False,
          welfare=True, n_domains=1, n_welfare_groups=5, welfare_cuts=[1.0], nest=False, fpc=False)
