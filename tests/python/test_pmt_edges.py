"""Bad input for ik.quantreg and ik.pmt (DESIGN.md §6 grid): each case must raise a clear
InvalidInputError (a ValueError) or TypeError naming the problem, never crash or return silently wrong
numbers, and the caller's data must be unchanged."""
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

FORMULA = "np.log(cons) ~ rooms + hhsize + C(roof)"


def make(n=300, seed=3):
    rng = np.random.default_rng(seed)
    rooms = rng.integers(1, 6, n).astype(float)
    hhsize = rng.integers(1, 10, n).astype(float)
    roof = rng.choice(["thatch", "iron", "tile"], n)
    lc = 7 + 0.25 * rooms - 0.12 * hhsize + rng.normal(0, 0.5, n)
    return pd.DataFrame({"cons": np.exp(lc), "rooms": rooms, "hhsize": hhsize, "roof": roof,
                         "village": rng.integers(0, 12, n), "w": rng.uniform(1, 3, n)})


@pytest.fixture
def df():
    return make()


LINE = float(np.quantile(make().cons, 0.3))

QUANTREG_CASES = [
    ("quantile 0", dict(quantile=0.0), ValueError, "quantile must be a number in \\(0, 1\\)"),
    ("quantile 1", dict(quantile=1.0), ValueError, "quantile must be"),
    ("quantile nan", dict(quantile=float("nan")), ValueError, "quantile must be"),
    ("quantile bool", dict(quantile=True), ValueError, "quantile must be"),
    ("vcov unknown", dict(vcov="HC1"), ValueError, "vcov must be 'ker'"),
    ("weights and design", dict(weights="w", design="D"), ValueError, "either weights= or design="),
    ("negative weight", dict(weights="neg"), ValueError, "weights must be positive"),
    ("unknown column", dict(formula="np.log(cons) ~ nope"), ValueError, "unknown column 'nope'"),
    ("collinear", dict(formula="np.log(cons) ~ rooms + rooms2"), ValueError, "'rooms2' is collinear"),
    ("fixed effects", dict(formula="np.log(cons) ~ rooms | village"), ValueError, "absorbed fixed effects"),
    ("inf regressor", dict(formula="np.log(cons) ~ rooms + infcol"), ValueError, "'infcol' has 1 infinite value"),
]


@pytest.mark.parametrize("name,kw,exc,msg", QUANTREG_CASES, ids=[c[0] for c in QUANTREG_CASES])
def test_quantreg_bad_input(df, name, kw, exc, msg):
    d = df.assign(neg=np.where(np.arange(len(df)) == 5, -1.0, 1.0), rooms2=2 * df.rooms,
                  infcol=np.where(np.arange(len(df)) == 3, np.inf, 1.0) * df.rooms)
    before = d.copy()
    kw = dict(kw)
    formula = kw.pop("formula", "np.log(cons) ~ rooms + hhsize")
    if kw.get("design") == "D":
        kw["design"] = ik.SurveyDesign(d, weights="w")
    kw.setdefault("quantile", 0.3)
    with pytest.raises(exc, match=msg):
        ik.quantreg(formula, d, **kw)
    pd.testing.assert_frame_equal(d, before)


def test_quantreg_small_and_degenerate(df):
    with pytest.raises(ValueError, match="more observations than coefficients"):
        ik.quantreg("np.log(cons) ~ rooms + hhsize", df.head(3), quantile=0.5)
    with pytest.raises(TypeError):
        ik.quantreg("np.log(cons) ~ rooms", df.to_dict(), quantile=0.5)
    d = df.assign(cons=np.where(np.arange(len(df)) < 4, np.nan, df.cons))
    r = ik.quantreg("np.log(cons) ~ rooms + hhsize", d, quantile=0.5)
    assert r.nobs == len(df) - 4 and r.nobs_missing == 4
    with pytest.raises(ValueError, match="missing values"):
        ik.quantreg("np.log(cons) ~ rooms + hhsize", d, quantile=0.5, na="raise")
    # constant outcome: b = (c, 0) exactly, the kernel SE undefined -> clear error, not NaN silently
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no spread"):
            ik.quantreg("c ~ rooms", df.assign(c=5.0), quantile=0.5)
    with pytest.raises(ValueError, match="tau must be in"):
        ik._core.quantile_regression(np.ones((5, 1)), np.ones(5), np.empty(0), 1.5, 1e-12, 200, True)
    with pytest.raises(ValueError, match="weights has 3 rows"):
        ik._core.quantile_regression(np.ones((5, 1)), np.ones(5), np.ones(3), 0.5, 1e-12, 200, True)
    out = ik._core.quantile_regression(np.asfortranarray(np.column_stack([np.ones(5), np.arange(5.0)])), np.zeros(5),
                                       np.empty(0), 0.5, 1e-12, 200, True)
    assert np.all(np.asarray(out["coef"]) == 0)
    # huge and tiny scales: equivariant
    for s in (1e150, 1e-150):
        a = ik.quantreg("y ~ rooms + hhsize", df.assign(y=np.log(df.cons) * s), quantile=0.4)
        b = ik.quantreg("y ~ rooms + hhsize", df.assign(y=np.log(df.cons)), quantile=0.4)
        np.testing.assert_allclose(a.coef.to_numpy() / s, b.coef.to_numpy(), rtol=1e-9, atol=1e-12)


PMT_CASES = [
    ("no tilde", dict(formula="np.log(cons)"), ValueError, "has no '~'"),
    ("formula not str", dict(formula=3), TypeError, "formula must be a string"),
    ("method", dict(method="probit"), ValueError, "method must be one of"),
    ("quantile missing", dict(method="quantile"), ValueError, "needs quantile="),
    ("quantile for ols", dict(quantile=0.3), ValueError, "quantile= is for method='quantile'"),
    ("quantile range", dict(method="quantile", quantile=1.2), ValueError, "quantile must be in \\(0, 1\\)"),
    ("logit no target", dict(method="logit"), ValueError, "needs target="),
    ("target type", dict(method="logit", target=3.0), TypeError, "target must be"),
    ("target not 0/1", dict(method="logit", target="bad01"), ValueError, "must be 0/1"),
    ("target column unknown", dict(method="logit", target="nope"), ValueError, "target column 'nope'"),
    ("target column for ols", dict(target="poor"), ValueError, "a target column is for method='logit'"),
    ("weights and design", dict(weights="w", design="D"), ValueError, "weights= or design="),
    ("design type", dict(design="notadesign"), TypeError, "design must be an ik.SurveyDesign"),
    ("weights nan", dict(weights="wnan"), ValueError, "weights"),
    ("weights length", dict(weights=np.ones(5)), ValueError, "weights has shape"),
    ("weights misindexed", dict(weights="series_other_index"), ValueError, "indexed unlike the data"),
    ("welfare unknown", dict(welfare="nope"), ValueError, "welfare column 'nope'"),
    ("welfare ambiguous", dict(formula="I(cons / hhsize) ~ rooms"), ValueError, "give welfare="),
    ("unknown regressor", dict(formula="np.log(cons) ~ nope"), ValueError, "nope"),
    ("fixed effects", dict(formula="np.log(cons) ~ rooms | village"), ValueError, "absorbed fixed effects"),
    ("empty data", dict(data="empty"), ValueError, "has no rows"),
    ("not a frame", dict(data="dict"), TypeError, "must be a pandas DataFrame"),
    ("internal name", dict(data="internal"), ValueError, "uses internally"),
]


@pytest.mark.parametrize("name,kw,exc,msg", PMT_CASES, ids=[c[0] for c in PMT_CASES])
def test_pmt_bad_input(df, name, kw, exc, msg):
    d = df.assign(poor=(df.cons < LINE).astype(float), bad01=np.where(np.arange(len(df)) == 2, 2.0, 0.0),
                  wnan=np.where(np.arange(len(df)) == 7, np.nan, 1.0))
    before = d.copy()
    kw = dict(kw)
    formula = kw.pop("formula", FORMULA)
    data = {"empty": d.iloc[:0], "dict": d.to_dict(), "internal": d.assign(pmt_weight_=1.0)}.get(kw.pop("data", None), d)
    if isinstance(kw.get("design"), str) and kw["design"] == "D":
        kw["design"] = ik.SurveyDesign(d, weights="w")
    if isinstance(kw.get("weights"), str) and kw["weights"] == "series_other_index":
        kw["weights"] = pd.Series(np.ones(len(d)), index=np.arange(len(d)) + 10_000)
    with pytest.raises(exc, match=msg):
        ik.pmt(formula, data, **kw)
    pd.testing.assert_frame_equal(d, before)


@pytest.fixture
def fitted(df):
    return ik.pmt(FORMULA, df, weights="w")


def test_score_bad_registry(df, fitted):
    with pytest.raises(TypeError, match="registry must be a pandas DataFrame"):
        fitted.score(df.to_dict())
    with pytest.raises(ValueError, match="registry has no rows"):
        fitted.score(df.iloc[:0])
    with pytest.raises(ValueError, match=re.escape("lacks the column(s) ['roof']")):
        fitted.score(df.drop(columns="roof"))
    reg = df.head(20).copy()
    reg.loc[reg.index[3], "roof"] = "plastic"
    before = reg.copy()
    with pytest.raises(ValueError, match="'roof' has level\\(s\\) \\['plastic'\\] not seen"):
        fitted.score(reg)
    pd.testing.assert_frame_equal(reg, before)
    reg = df.head(20).assign(rooms=np.where(np.arange(20) == 4, np.nan, df.rooms.head(20)))
    with pytest.raises(ValueError, match="'rooms' has 1 missing value"):
        fitted.score(reg)
    with pytest.raises(TypeError, match="'rooms' must be numeric"):
        fitted.score(df.head(5).assign(rooms=["a"] * 5))
    # registry indexed differently from the survey: scores keep the registry's labels
    reg = df.head(10).set_index(pd.Index([f"hh{i}" for i in range(10)]))
    assert list(fitted.score(reg).index) == list(reg.index)


def test_cutoff_bad_input(fitted, df):
    with pytest.raises(ValueError, match="exactly one of"):
        fitted.cutoff()
    with pytest.raises(ValueError, match="exactly one of"):
        fitted.cutoff(line=LINE, coverage=0.2)
    for bad in (0.0, 1.0, -0.1, float("nan"), True):
        with pytest.raises(ValueError, match="coverage"):
            fitted.cutoff(coverage=bad)
    with pytest.raises(ValueError, match="line must be a finite number"):
        fitted.cutoff(line=float("inf"))
    with pytest.raises(ValueError, match="probability= is for method='logit'"):
        fitted.cutoff(probability=0.5)
    lg = ik.pmt(FORMULA, df, method="logit", target=ik.poverty_line(LINE))
    with pytest.raises(ValueError, match="give coverage= or probability="):
        lg.cutoff(line=LINE)
    # a line whose log is undefined
    with pytest.raises(ValueError, match="cannot map the line -5.0 through the outcome 'np.log\\(cons\\)': it gives nan"):
        fitted.cutoff(line=-5.0)


def test_evaluate_bad_input(fitted, df):
    before = df.copy()
    cases = [
        (dict(), ValueError, "give line="),
        (dict(line=LINE, folds=1), ValueError, "folds must be an integer of at least 2"),
        (dict(line=LINE, folds=2.5), ValueError, "folds must be"),
        (dict(line=LINE, folds=500), ValueError, "usable rows for 500 folds"),
        (dict(line=LINE, seed=-1), ValueError, "seed must be a non-negative integer"),
        (dict(line=LINE, seed=1.5), ValueError, "seed must be"),
        (dict(line=LINE, groups="nope"), ValueError, "groups column 'nope'"),
        (dict(line=LINE, groups=["village"]), TypeError, "groups must be a column name"),
        (dict(line=LINE, groups="village", folds=20), ValueError, "12 groups for 20 folds"),
        (dict(line=LINE, coverage=[0.2, 1.0]), ValueError, "coverage must be in"),
        (dict(line=LINE, coverage=[]), ValueError, "coverage is empty"),
        (dict(line=LINE, transfer=-3.0), ValueError, "transfer must be positive"),
        (dict(line=LINE, weights="nope"), ValueError, "weights column 'nope'"),
        (dict(line=float("nan")), ValueError, "line must be a finite number"),
    ]
    for kw, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fitted.evaluate(df, **kw)
    with pytest.raises(ValueError, match="has no rows"):
        fitted.evaluate(df.iloc[:0], line=LINE)
    with pytest.raises(ValueError, match="welfare column 'cons' is not in the data"):
        fitted.evaluate(df.drop(columns="cons"), line=LINE)
    pd.testing.assert_frame_equal(df, before)


def test_evaluate_unseen_level_in_a_fold_and_no_poor(df):
    d = df.copy()
    d.loc[d.village == 3, "roof"] = "rare"  # a level that lives in one village only
    p = ik.pmt(FORMULA, d)
    with pytest.raises(ValueError, match="fold \\d cannot be scored .*'rare'"):
        p.evaluate(d, line=LINE, groups="village", folds=3)
    with pytest.warns(ik.ImpactkitWarning, match="nobody is poor"):
        ev = p.evaluate(d, line=1e-9, folds=3)
    assert ev.budget is None and np.isnan(ev.auc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = p.evaluate(d, line=1e12, folds=3)  # everybody poor: no false positives
    assert np.isnan(ev.auc)
    assert (ev.errors["inclusion_error_beneficiaries"].fillna(0) == 0).all()
