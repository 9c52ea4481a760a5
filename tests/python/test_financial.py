"""ik.financial_indicators and ik.vulnerability.

- Indicators on a two-organisation panel against values computed by hand (Tuckman & Chang 1991 definitions;
  Herfindahl, entropy, volatility as SD of growth); 1e-12.
- Quintile flags against numpy quantiles (linear rule) of the reference panel, per sector too.
- The refitted logit equals statsmodels Logit (coefficients 1e-6, cluster-robust SEs by organisation with
  statsmodels' default small-sample correction 1e-5); AUC / Brier / log-loss equal scikit-learn's
  roc_auc_score, brier_score_loss, log_loss (1e-12); supplied coefficients are used as given.
"""
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.errors import ImpactkitWarning, InvalidInputError


def small_panel():
    return pd.DataFrame({
        "org": ["a", "a", "a", "a", "b", "b"], "year": [2018, 2019, 2020, 2021, 2019, 2020],
        "grants": [60.0, 50, 80, 40, 10, 0], "fees": [30.0, 40, 10, 40, 10, 20], "gifts": [10.0, 10, 10, 20, 0, 0],
        "expenses": [90.0, 110, 100, 120, 25, 20], "admin": [9.0, 11, 20, 12, 5, 2], "net_assets": [50.0, 40, 45, 30, -5, 0],
        "top_donor": [40.0, 30, 50, 20, 10, 20], "reserves": [30.0, 20, 25, 10, 0, 1], "cash": [15.0, 10, 12, 6, 1, 2]})


def test_indicators_by_hand():
    df = small_panel()
    before = df.copy()
    out = ik.financial_indicators(df, org="org", year="year", revenue_sources=["grants", "fees", "gifts"], expenses="expenses",
                                  net_assets="net_assets", admin_expenses="admin", grants="grants", largest_donor="top_donor",
                                  reserves="reserves", cash="cash", volatility_window=3)
    pd.testing.assert_frame_equal(df, before)
    r0 = out.iloc[0]  # a, 2018: revenue 100, shares .6 .3 .1
    assert r0["total_revenue"] == 100
    assert r0["revenue_hhi"] == pytest.approx(0.36 + 0.09 + 0.01, rel=1e-12)
    assert r0["revenue_hhi_normalised"] == pytest.approx((0.46 - 1 / 3) / (2 / 3), rel=1e-12)
    assert r0["revenue_entropy"] == pytest.approx(-(0.6 * np.log(0.6) + 0.3 * np.log(0.3) + 0.1 * np.log(0.1)), rel=1e-12)
    assert r0["equity_ratio"] == pytest.approx(0.5)
    assert r0["admin_cost_ratio"] == pytest.approx(0.1)
    assert r0["operating_margin"] == pytest.approx(0.1)
    assert r0["grant_dependence"] == pytest.approx(0.6)
    assert r0["largest_donor_share"] == pytest.approx(0.4)
    assert r0["reserve_months"] == pytest.approx(30 / 90 * 12)
    assert r0["cash_months"] == pytest.approx(15 / 90 * 12)
    # volatility: growth of a's revenue 100 -> 100 -> 100 -> 100: 0; b: one growth rate only -> NaN
    rev_a = np.array([100.0, 100, 100, 100])
    assert np.isnan(out["revenue_volatility"].iloc[0]) and np.isnan(out["revenue_volatility"].iloc[1])
    assert out["revenue_volatility"].iloc[2] == pytest.approx(np.std(rev_a[1:3] / rev_a[:2] - 1, ddof=1), abs=1e-15)
    assert np.isnan(out["revenue_volatility"].iloc[5])
    b0 = out.iloc[4]  # b 2019: revenue 20, two sources of 10 and none from gifts
    assert b0["revenue_hhi"] == pytest.approx(0.5) and b0["revenue_entropy"] == pytest.approx(np.log(2))


def test_volatility_window_and_gaps():
    rev = [100.0, 110, 99, 120, 150]
    df = pd.DataFrame({"org": "x", "year": [2010, 2011, 2012, 2013, 2015], "s": rev, "x": 50.0})
    out = ik.financial_indicators(df.iloc[::-1], org="org", year="year", revenue_sources="s", expenses="x", volatility_window=4)
    v = out.loc[3, "revenue_volatility"]  # 2013: growth 2011, 2012, 2013
    g = np.array(rev[1:4]) / np.array(rev[:3]) - 1
    assert v == pytest.approx(np.std(g, ddof=1), rel=1e-12)
    # 2015 follows a gap: its own growth is undefined; the window still holds 2012-2013
    assert out.loc[4, "revenue_volatility"] == pytest.approx(np.std(g[1:], ddof=1), rel=1e-12)


def synthetic_panel(seed=1, n_org=150, years=6):
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(n_org):
        size = np.exp(rng.normal(13, 1))
        sector = ["health", "education", "welfare"][o % 3]
        for t in range(years):
            shares = rng.dirichlet([1.0, 1.0, 1.0, 0.5])
            rev = size * np.exp(rng.normal(0, 0.15))
            exp_ = rev * (1 + rng.normal(0, 0.08))
            rows.append({"org": o, "year": 2015 + t, "sector": sector, "s1": rev * shares[0], "s2": rev * shares[1],
                         "s3": rev * shares[2], "s4": rev * shares[3], "expenses": exp_,
                         "admin": exp_ * rng.uniform(0.03, 0.25), "net_assets": rev * rng.normal(0.3, 0.3)})
    df = pd.DataFrame(rows)
    ind = ik.financial_indicators(df, org="org", year="year", revenue_sources=["s1", "s2", "s3", "s4"], expenses="expenses",
                                  net_assets="net_assets", admin_expenses="admin")
    ind["sector"] = df["sector"]
    lin = -1.0 - 2.0 * ind["equity_ratio"] + 1.5 * ind["revenue_hhi"] - 4 * ind["operating_margin"] - 0.2 * (np.log(ind["total_revenue"]) - 13)
    ind["distress"] = (rng.uniform(size=len(ind)) < 1 / (1 + np.exp(-lin))).astype(float)
    ind["test"] = ind["org"] % 4 == 0
    return ind


def test_flags_against_numpy_quantiles():
    ind = synthetic_panel()
    res = ik.vulnerability(ind, org="org")
    for name, tail in (("equity_ratio", "low"), ("admin_cost_ratio", "low"), ("operating_margin", "low"), ("revenue_hhi", "high")):
        cut = np.quantile(ind[name], 0.2 if tail == "low" else 0.8)
        want = ind[name] <= cut if tail == "low" else ind[name] >= cut
        np.testing.assert_array_equal(res.flags[f"{name}_flag"].to_numpy(), want.to_numpy().astype(float))
    assert res.flags["count"].max() <= 4
    by = ik.vulnerability(ind, org="org", sector="sector", reference=ind[ind["year"] < 2018])
    part = ind[(ind["sector"] == "health")]
    cut = np.quantile(ind.loc[(ind["sector"] == "health") & (ind["year"] < 2018), "equity_ratio"], 0.2)
    np.testing.assert_array_equal(by.flags.loc[part.index, "equity_ratio_flag"], (part["equity_ratio"] <= cut).astype(float))


def test_logit_model_equals_statsmodels_and_metrics_equal_sklearn():
    sm = pytest.importorskip("statsmodels.api")
    metrics = pytest.importorskip("sklearn.metrics")
    ind = synthetic_panel()
    res = ik.vulnerability(ind, org="org", outcome="distress", test="test")
    train = ind[~ind["test"]]
    X = sm.add_constant(pd.DataFrame({"equity_ratio": train["equity_ratio"], "revenue_hhi": train["revenue_hhi"],
                                      "admin_cost_ratio": train["admin_cost_ratio"], "operating_margin": train["operating_margin"],
                                      "log_size": np.log(train["total_revenue"])}))
    fit = sm.Logit(train["distress"], X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": train["org"]}, tol=1e-12)
    np.testing.assert_allclose(res.model.params.to_numpy(), fit.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(res.model.se.to_numpy(), fit.bse.to_numpy(), rtol=1e-5)
    test = ind[ind["test"]]
    y = test["distress"].to_numpy()
    p = res.predictions["p_model"].to_numpy()
    m = res.metrics().set_index("model")
    row = m.loc["indicators + log size (refitted)"]
    assert row["auc"] == pytest.approx(metrics.roc_auc_score(y, p), rel=1e-12)
    assert row["brier"] == pytest.approx(metrics.brier_score_loss(y, p), rel=1e-12)
    assert row["log_loss"] == pytest.approx(metrics.log_loss(y, p), rel=1e-12)
    base = m.loc["log size only (baseline)"]
    assert base["auc"] == pytest.approx(metrics.roc_auc_score(y, res.predictions["p_baseline"]), rel=1e-12)
    assert row["auc"] > base["auc"]  # the indicators carry the signal the data were made with
    assert (m["sample"] == "test").all() and row["n"] == len(test)

    coefs = {"Intercept": -1.0, "equity_ratio": -2.0, "revenue_hhi": 1.5, "operating_margin": -4.0}
    sup = ik.vulnerability(ind, org="org", outcome="distress", coefficients=coefs)
    assert sup.model is None
    eta = -1 - 2 * ind["equity_ratio"] + 1.5 * ind["revenue_hhi"] - 4 * ind["operating_margin"]
    np.testing.assert_allclose(sup.predictions["p_model"], 1 / (1 + np.exp(-eta)), rtol=1e-12)


def test_bad_input_grid():
    df = small_panel()
    kw = dict(org="org", year="year", revenue_sources=["grants", "fees"], expenses="expenses")
    with pytest.raises(InvalidInputError, match="more than one row for year"):
        ik.financial_indicators(pd.concat([df, df.iloc[:1]]), **kw)
    with pytest.raises(InvalidInputError, match="unknown column"):
        ik.financial_indicators(df, **{**kw, "expenses": "spend"})
    with pytest.raises(InvalidInputError, match="negative"):
        ik.financial_indicators(df.assign(fees=-1.0), **kw)
    with pytest.raises(InvalidInputError, match="infinite"):
        ik.financial_indicators(df.assign(expenses=np.inf), **kw)
    with pytest.raises(InvalidInputError, match="no rows"):
        ik.financial_indicators(df.iloc[:0], **kw)
    with pytest.raises(InvalidInputError, match="missing value"):
        ik.financial_indicators(df.assign(year=np.nan), **kw)
    with pytest.raises(TypeError):
        ik.financial_indicators(df.assign(fees="x"), **kw)
    with pytest.warns(ImpactkitWarning, match="zero denominators"):
        out = ik.financial_indicators(df.assign(grants=0.0, fees=0.0), **kw)
    assert out["operating_margin"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ik.financial_indicators(df.assign(fees=[np.nan] + [1.0] * 5), **kw)
    assert np.isnan(out["revenue_hhi"].iloc[0]) and not np.isnan(out["revenue_hhi"].iloc[1])
    ind = ik.financial_indicators(df, **kw, net_assets="net_assets", admin_expenses="admin")
    with pytest.raises(InvalidInputError, match="at least 5"):
        ik.vulnerability(ind.iloc[:4], org="org")
    panel = synthetic_panel(n_org=30, years=3)
    with pytest.raises(InvalidInputError, match="not in the reference"):
        ik.vulnerability(panel, org="org", sector="sector", reference=panel[panel["sector"] != "health"])
    with pytest.raises(InvalidInputError, match="coefficients"):
        ik.vulnerability(panel, org="org", outcome="distress", coefficients={"equity_ratio": 1.0})
    with pytest.raises(InvalidInputError, match="test"):
        ik.vulnerability(panel, org="org", outcome="distress", test=[True, False])


def test_test_series_aligned_by_label():
    panel = synthetic_panel(n_org=40, years=4)
    t = panel["test"]
    a = ik.vulnerability(panel, org="org", outcome="distress", test=t.iloc[::-1])
    b = ik.vulnerability(panel, org="org", outcome="distress", test="test")
    pd.testing.assert_frame_equal(a.metrics(), b.metrics())
    with pytest.raises(InvalidInputError, match="lacks the data's row label"):
        ik.vulnerability(panel, org="org", outcome="distress", test=t.iloc[1:])
