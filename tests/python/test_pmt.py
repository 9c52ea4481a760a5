"""ik.pmt: proxy means tests (issue 14 §3).

References and conventions (tolerances in each assertion):
- the models are ik.ols / ik.quantreg / ik.logit on the same formula, weights and design (identical numbers);
- out-of-sample scores equal a manual refit without the fold (1e-10);
- targeting errors at a cutoff equal ik.targeting on the same selection (exclusion error, leakage rate,
  false-positive rate; 1e-12), FGT after transfer equals ik.fgt (1e-12);
- weighted ROC and AUC equal scikit-learn roc_curve / roc_auc_score with sample_weight (1e-12);
- the random-allocation scenario equals the average over every lottery of the same number of slots
  (exact enumeration, 1e-12).
"""
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

FORMULA = "np.log(cons) ~ rooms + hhsize + C(roof)"


def make(n=1500, seed=1, villages=40):
    rng = np.random.default_rng(seed)
    village = rng.integers(0, villages, n)
    rooms = rng.integers(1, 6, n).astype(float)
    hhsize = rng.integers(1, 10, n).astype(float)
    roof = rng.choice(["thatch", "iron", "tile"], n, p=[0.4, 0.4, 0.2])
    lc = (7 + 0.25 * rooms - 0.12 * hhsize + np.where(roof == "iron", 0.2, 0) + np.where(roof == "tile", 0.5, 0)
          + rng.normal(0, 0.3, villages)[village] + rng.normal(0, 0.5, n))
    return pd.DataFrame({"cons": np.exp(lc), "rooms": rooms, "hhsize": hhsize, "roof": roof, "village": village,
                         "stratum": village % 4, "w": rng.uniform(50, 150, n)})


@pytest.fixture(scope="module")
def df():
    return make()


@pytest.fixture(scope="module")
def line(df):
    return float(np.quantile(df.cons, 0.3))


def test_models_are_the_shared_estimators(df, line):
    before = df.copy()
    p = ik.pmt(FORMULA, df, weights="w")
    o = ik.ols(FORMULA, df, weights="w", weight_type="probability")
    pd.testing.assert_series_equal(p.model.coef, o.coef)
    pd.testing.assert_series_equal(p.model.se, o.se)
    q = ik.pmt(FORMULA, df, method="quantile", quantile=0.3, weights="w")
    r = ik.quantreg(FORMULA, df, quantile=0.3, weights="w")
    np.testing.assert_array_equal(q.model.coef.to_numpy(), r.coef.to_numpy())
    lg = ik.pmt(FORMULA, df, method="logit", target=ik.poverty_line(line), weights="w")
    ref = ik.logit("poor ~ rooms + hhsize + C(roof)", df.assign(poor=(df.cons < line).astype(float)), weights="w")
    np.testing.assert_allclose(lg.model.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(lg.model.se.to_numpy(), ref.se.to_numpy(), rtol=1e-12)
    pd.testing.assert_frame_equal(df, before)
    assert list(p.table().columns)[:3] == ["term", "estimate", "std_error"]
    assert "PMT ols" in repr(p) and "<" in p._repr_html_()


def test_design_based_model(df):
    des = ik.SurveyDesign(df, weights="w", strata="stratum", psu="village")
    p = ik.pmt(FORMULA, df, design=des)
    o = ik.ols(FORMULA, df, design=des)
    np.testing.assert_allclose(p.model.se.to_numpy(), o.se.to_numpy(), rtol=1e-12)
    q = ik.pmt(FORMULA, df, method="quantile", quantile=0.3, design=des)
    assert q.model.conventions["kind"] == "survey"
    c = p.cutoff(coverage=0.25)  # weighted by the design's weights
    sel = (p.score(df) < c.threshold).to_numpy()
    assert c.coverage == pytest.approx(float(df.w[sel].sum() / df.w.sum()), abs=1e-12)


def test_score_and_cutoffs(df, line):
    p = ik.pmt(FORMULA, df, weights="w")
    reg = df.sample(50, random_state=2)
    s = p.score(reg)
    assert s.index.equals(reg.index)
    np.testing.assert_allclose(s.to_numpy(), p.model.predict(reg).to_numpy(), rtol=1e-13)
    c = p.cutoff(line=line)
    assert c.threshold == pytest.approx(np.log(line), rel=1e-14)
    np.testing.assert_array_equal(c.eligible(reg).to_numpy(), (s < np.log(line)).to_numpy())
    for cov in (0.1, 0.3, 0.6):
        c = p.cutoff(coverage=cov)
        sel = (p.score(df) < c.threshold).to_numpy()
        share = float(df.w[sel].sum() / df.w.sum())
        assert share == pytest.approx(c.coverage, abs=1e-12)
        assert cov - 0.01 < share <= cov + 1e-12
    lg = ik.pmt(FORMULA, df, method="logit", target=ik.poverty_line(line))
    c = lg.cutoff(probability=0.5)
    assert not c.below and c.threshold == 0.5
    assert ((lg.score(reg) > 0) & (lg.score(reg) < 1)).all()


def test_out_of_sample_scores_are_refits_without_the_fold(df, line):
    p = ik.pmt(FORMULA, df, weights="w")
    ev = p.evaluate(df, line=line, folds=4, seed=7)
    assert sorted(ev.fold.unique()) == [1, 2, 3, 4]
    for f in (1, 3):
        train = df[ev.fold != f]
        ref = ik.ols(FORMULA, train, weights="w", weight_type="probability").predict(df[ev.fold == f])
        np.testing.assert_allclose(ev.scores[ev.fold == f].to_numpy(), ref.to_numpy(), rtol=1e-10)
    g = p.evaluate(df, line=line, folds=5, groups="village", seed=7)
    assert (g.fold.groupby(df.village).nunique() == 1).all()  # whole villages per fold
    again = p.evaluate(df, line=line, folds=5, groups="village", seed=7)
    pd.testing.assert_series_equal(g.scores, again.scores)
    other = p.evaluate(df, line=line, folds=5, groups="village", seed=8)
    assert not g.fold.equals(other.fold)


def test_evaluate_same_for_any_thread_count(df, line):
    p = ik.pmt(FORMULA, df, method="quantile", quantile=0.3, weights="w")
    n0 = ik.get_num_threads()
    try:
        ik.set_num_threads(1)
        a = p.evaluate(df, line=line, seed=3)
        ik.set_num_threads(2)
        b = p.evaluate(df, line=line, seed=3)
    finally:
        ik.set_num_threads(n0)
    pd.testing.assert_series_equal(a.scores, b.scores, check_exact=True)
    pd.testing.assert_frame_equal(a.errors, b.errors, check_exact=True)


@pytest.mark.parametrize("method", ["ols", "quantile", "logit"])
def test_roc_and_auc_equal_scikit_learn(df, line, method):
    metrics = pytest.importorskip("sklearn.metrics")
    kw = {"quantile": 0.3} if method == "quantile" else {"target": ik.poverty_line(line)} if method == "logit" else {}
    p = ik.pmt(FORMULA, df, method=method, weights="w", **kw)
    ev = p.evaluate(df, line=line, folds=5, seed=1)
    poor = (df.cons < line).to_numpy()
    need = ev.scores.to_numpy() if method == "logit" else -ev.scores.to_numpy()
    auc = metrics.roc_auc_score(poor, need, sample_weight=df.w.to_numpy())
    assert ev.auc == pytest.approx(auc, abs=1e-12)
    fpr, tpr, _ = metrics.roc_curve(poor, need, sample_weight=df.w.to_numpy(), drop_intermediate=False)
    np.testing.assert_allclose(ev.roc["fpr"].to_numpy(), fpr, atol=1e-12)
    np.testing.assert_allclose(ev.roc["tpr"].to_numpy(), tpr, atol=1e-12)
    assert 0.6 < ev.auc < 0.95


def test_errors_equal_ik_targeting(df, line):
    p = ik.pmt(FORMULA, df, method="quantile", quantile=0.3, weights="w")
    ev = p.evaluate(df, line=line, seed=2, coverage=[0.2, 0.35])
    for cov in (0.2, 0.35):
        row = ev.errors[(ev.errors.rule == "coverage") & (ev.errors.target_coverage == cov)].iloc[0]
        t = ev.targeting(cov).table().set_index("metric")["estimate"]
        for m in ("exclusion_error", "inclusion_error_beneficiaries", "inclusion_error_nontarget"):
            assert row[m] == pytest.approx(t[m], abs=1e-12)
        assert row["coverage"] == pytest.approx(t["programme_coverage"], abs=1e-12)
        assert row["coverage"] <= cov + 1e-12
    line_row = ev.errors[ev.errors.rule == "line"].iloc[0]
    sel = (ev.scores < np.log(line)).to_numpy()
    frame = pd.DataFrame({"y": df.cons, "B": sel, "w": df.w})
    t = ik.targeting(frame, welfare="y", beneficiary="B", target=ik.poverty_line(line), weights="w").table().set_index("metric")
    assert line_row["exclusion_error"] == pytest.approx(t.loc["exclusion_error", "estimate"], abs=1e-12)
    tab = ev.table()
    assert set(tab.metric) == {"exclusion_error", "inclusion_error_beneficiaries", "inclusion_error_nontarget", "auc"}


def test_budget_neutral_comparison_definitions(df, line):
    p = ik.pmt(FORMULA, df, weights="w")
    ev = p.evaluate(df, line=line, seed=4, coverage=[0.3], transfer=200.0)
    b = ev.budget.set_index("scenario")
    N = df.w.sum()
    assert b.loc["universal", "budget"] == pytest.approx(200.0 * 0.3 * N)
    for alpha, col in ((0, "fgt0"), (1, "fgt1")):
        uni = ik.fgt(df.assign(post=df.cons + 0.3 * 200.0), "post", line=line, alpha=alpha, weights="w").coef.iloc[0]
        assert b.loc["universal", col] == pytest.approx(uni, abs=1e-12)
        base = ik.fgt(df, "cons", line=line, alpha=alpha, weights="w").coef.iloc[0]
        assert b.loc["none", col] == pytest.approx(base, abs=1e-12)
    need = -ev.scores.to_numpy()
    from impactkit.pmt import _select_top

    sel = _select_top(need, df.w.to_numpy(), 0.3)
    post = df.cons + 200.0 * sel
    pm = ik.fgt(df.assign(post=post), "post", line=line, alpha=1, weights="w").coef.iloc[0]
    assert b.loc["pmt", "fgt1"] == pytest.approx(pm, abs=1e-12)
    poor = (df.cons < line).to_numpy()
    assert b.loc["pmt", "budget_share_to_poor"] == pytest.approx((df.w * sel * poor).sum() / (df.w * sel).sum(), abs=1e-12)
    # targeting on the model beats the untargeted allocations of the same budget on these data
    assert b.loc["pmt", "fgt1"] < b.loc["random", "fgt1"] and b.loc["pmt", "fgt1"] < b.loc["universal", "fgt1"]
    assert b.loc["perfect", "budget_share_to_poor"] == pytest.approx(1.0)


def test_random_allocation_is_the_exact_lottery_average():
    from impactkit.pmt import _budget_table, _fgt

    y = np.array([10.0, 40.0, 55.0, 70.0, 90.0, 120.0, 150.0, 300.0])
    w = np.ones(8)
    z, T = 100.0, 30.0
    poor = (y < z).astype(float)
    tab = _budget_table(y, poor, -y, w, z, T, [0.25]).set_index("scenario")
    f0 = f1 = 0.0
    subsets = list(itertools.combinations(range(8), 2))
    for s in subsets:
        post = y.copy()
        post[list(s)] += T
        f0 += _fgt(post, z, w, 0) / len(subsets)
        f1 += _fgt(post, z, w, 1) / len(subsets)
    assert tab.loc["random", "fgt0"] == pytest.approx(f0, abs=1e-12)
    assert tab.loc["random", "fgt1"] == pytest.approx(f1, abs=1e-12)
    # perfect targeting and a PMT that ranks perfectly coincide; universal gives everyone c*T
    assert tab.loc["pmt", "fgt1"] == pytest.approx(tab.loc["perfect", "fgt1"])
    assert tab.loc["universal", "fgt1"] == pytest.approx(_fgt(y + 0.25 * T, z, w, 1))
    assert tab.loc["pmt", "fgt0"] == pytest.approx(_fgt(y + T * (y <= 40), z, w, 0))


def test_default_transfer_and_target_line(df, line):
    p = ik.pmt(FORMULA, df, target=ik.poverty_line(line))
    ev = p.evaluate(df, seed=0)  # the target line is the default line
    assert ev.line == line
    f0 = ik.fgt(df, "cons", line=line, alpha=0).coef.iloc[0]
    f1 = ik.fgt(df, "cons", line=line, alpha=1).coef.iloc[0]
    assert ev.transfer == pytest.approx(line * f1 / f0, rel=1e-12)


def test_results_render_and_plot(df, line):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = ik.pmt(FORMULA, df, method="quantile", quantile=0.3)
    ev = p.evaluate(df, line=line, folds=3)
    s = ev.summary()
    assert "Weighted AUC" in str(s) and "Brown, Ravallion" in str(s) and "<table" in s.as_html()
    assert "AUC" in repr(ev) and "<table" in ev._repr_html_()
    for kind in ("errors", "roc", "budget"):
        ax = ev.plot(kind)
        assert ax.get_lines()
        plt.close("all")
    assert "Quantile regression" in str(p.summary())
