"""Edge-case grid for ik.SurveyDesign (DESIGN.md §6).

Every invalid input must give a ValueError (TypeError for a wrong type) whose message names the
offending argument or column; every valid corner case must give the right number. Expected numbers
are computed here from the formulas in tests/reference/r/survey/README.md (R survey's conventions),
on tiny hand-made data, or by invariance; R itself is in test_survey_reference.py.

Decisions stated by these tests:
- lonely PSU (one PSU in a stratum): "fail" raises naming the stratum; "remove" and "certainty" drop
  its contribution (identical, as in R survey 4.1.1); "average" scales the other strata's sum by
  H/H_ok; "adjust" adds f_h * t_h^2 (PSU total of the linearised variable, not centred). A stratum
  whose fpc equals its PSU count (a certainty stratum) is never lonely.
- a domain with no positive weight (all its rows weigh 0): mean / ratio / proportion / quantile by that
  domain raise ValueError naming the domain level (no silent NaN).
- zero weights are allowed: those rows contribute nothing, their PSU still counts; negative weights raise.
- NaN / inf in weights, strata, psu, fpc or in the analysed variable raise, naming the column.
- the caller's DataFrame is never modified.
Tolerances: hand formulas rel 1e-12; invariances rel 1e-12 (exact up to summation order).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "survey"
RTOL = 1e-12


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name)


def _raises(exc, *names):
    """pytest.raises that also checks the message names every string in `names`."""
    class _Ctx:
        def __enter__(self):
            self._cm = pytest.raises(exc)
            self.info = self._cm.__enter__()
            return self.info

        def __exit__(self, *a):
            out = self._cm.__exit__(*a)
            msg = str(self.info.value)
            for n in names:
                assert n in msg, f"message does not name {n!r}: {msg}"
            return out
    return _Ctx()


# ------------------------------------------------------------------------------------------------
# Tiny stratified cluster data: strata "north" (3 PSUs) and "Zeta" (one PSU: lonely)
# ------------------------------------------------------------------------------------------------
def lonely_data() -> pd.DataFrame:
    return pd.DataFrame({
        "stratum": ["north"] * 7 + ["Zeta"] * 3,
        "psu": [1, 1, 2, 2, 2, 3, 3, 9, 9, 9],
        "w": [2.0, 3.0, 1.5, 2.5, 4.0, 3.0, 1.0, 5.0, 2.0, 6.0],
        "income": [3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 7.3, 2.9, 5.5],
        "fpc": [10.0] * 7 + [4.0] * 3,
    })


def _psu_totals(z: np.ndarray, df: pd.DataFrame):
    return pd.Series(z).groupby([df["stratum"].to_numpy(), df["psu"].to_numpy()]).sum()


def _hand_variance(df: pd.DataFrame, z: np.ndarray, rule: str, fpc: bool = False) -> float:
    t = _psu_totals(z, df)
    tn = t.loc["north"].to_numpy()
    n = len(tn)
    f_n = (10 - n) / 10 if fpc else 1.0
    v_north = f_n * n / (n - 1) * np.sum((tn - tn.mean()) ** 2)
    t_z = t.loc["Zeta"].to_numpy()[0]
    f_z = (4 - 1) / 4 if fpc else 1.0
    return {"remove": v_north, "certainty": v_north, "average": v_north * 2 / 1,
            "adjust": v_north + f_z * t_z ** 2}[rule]


@pytest.mark.parametrize("fpc", [False, True], ids=["no_fpc", "fpc"])
@pytest.mark.parametrize("rule", ["remove", "certainty", "average", "adjust"])
def test_lonely_psu_rules_mean_and_total(rule, fpc):
    df = lonely_data()
    kw = dict(weights="w", strata="stratum", psu="psu", lonely_psu=rule)
    if fpc:
        kw["fpc"] = "fpc"
    d = ik.SurveyDesign(df, **kw)
    w, y = df["w"].to_numpy(), df["income"].to_numpy()
    ybar = np.sum(w * y) / np.sum(w)
    m = d.mean("income")
    np.testing.assert_allclose(m.coef.iloc[0], ybar, rtol=RTOL)
    np.testing.assert_allclose(m.se.iloc[0], np.sqrt(_hand_variance(df, w * (y - ybar) / w.sum(), rule, fpc)), rtol=RTOL)
    t = d.total("income")
    np.testing.assert_allclose(t.coef.iloc[0], np.sum(w * y), rtol=RTOL)
    np.testing.assert_allclose(t.se.iloc[0], np.sqrt(_hand_variance(df, w * y, rule, fpc)), rtol=RTOL)
    assert float(m.df_inference.iloc[0]) == 4 - 2        # 4 PSUs - 2 strata, whatever the rule


@pytest.mark.parametrize("fpc", [False, True], ids=["no_fpc", "fpc"])
def test_lonely_psu_fail_names_stratum(fpc):
    kw = dict(weights="w", strata="stratum", psu="psu", lonely_psu="fail")
    if fpc:
        kw["fpc"] = "fpc"
    with _raises(ValueError, "Zeta"):
        ik.SurveyDesign(lonely_data(), **kw).mean("income")


def test_certainty_stratum_is_not_lonely():
    """fpc = 1 PSU of 1 (a certainty stratum) contributes 0 and does not trigger lonely_psu='fail'."""
    df = lonely_data()
    df["fpc_cert"] = np.where(df["stratum"] == "Zeta", 1.0, 10.0)
    kw = dict(weights="w", strata="stratum", psu="psu", fpc="fpc_cert")
    fail = ik.SurveyDesign(df, lonely_psu="fail", **kw).mean("income")
    cert = ik.SurveyDesign(df, lonely_psu="certainty", **kw).mean("income")
    avg = ik.SurveyDesign(df, lonely_psu="average", **kw).mean("income")
    np.testing.assert_allclose(fail.se.to_numpy(), cert.se.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(fail.se.to_numpy(), avg.se.to_numpy(), rtol=RTOL)   # H_ok counts it


def test_lonely_psu_invalid_rule():
    with _raises(ValueError, "lonely_psu"):
        ik.SurveyDesign(lonely_data(), weights="w", strata="stratum", psu="psu", lonely_psu="drop")


# ------------------------------------------------------------------------------------------------
# Domains and weights
# ------------------------------------------------------------------------------------------------
def pairs() -> pd.DataFrame:
    return _read("synth_pairs.csv")


def test_domain_without_positive_weight_raises_naming_domain():
    df = pairs()
    df["region"] = np.where(df["stratum"].isin(["P05", "P06"]), "ghost_town", "elsewhere")
    df.loc[df["region"] == "ghost_town", "w"] = 0.0
    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    for call in (lambda: d.mean("y", by="region"), lambda: d.ratio("y", "x2", by="region"),
                 lambda: d.proportion("grp", by="region"), lambda: d.quantile("y", [0.5], by="region")):
        with _raises(ValueError, "ghost_town"):
            call()


def test_zero_weight_rows_contribute_nothing():
    """Changing y on zero-weight rows changes nothing (their PSU still counts; R equality for this
    design, including df 11, is case synth_pairs_zero_weights in test_survey_reference.py)."""
    df = pairs()
    d = ik.SurveyDesign(df, weights="w_zero", strata="stratum", psu="psu")
    df2 = df.copy()
    df2.loc[df2["w_zero"] == 0, "y"] = 1e6
    d2 = ik.SurveyDesign(df2, weights="w_zero", strata="stratum", psu="psu")
    for a, b in [(d.mean("y"), d2.mean("y")), (d.total("y", by="grp"), d2.total("y", by="grp")),
                 (d.ratio("y", "x2"), d2.ratio("y", "x2")),
                 (ik.ols("y ~ x1 + x2", df, design=d), ik.ols("y ~ x1 + x2", df2, design=d2))]:
        np.testing.assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=RTOL)
        np.testing.assert_allclose(a.se.to_numpy(), b.se.to_numpy(), rtol=RTOL)
    assert float(d.mean("y").df_inference.iloc[0]) == 11    # PSU 302 has only zero weights


def test_negative_weight_raises():
    df = pairs()
    df.loc[3, "w"] = -1.0
    with _raises(ValueError, "weights"):
        ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu").mean("y")


@pytest.mark.parametrize("argument,column,bad", [
    ("weights", "wt_col", np.nan), ("weights", "wt_col", np.inf),
    ("strata", "stratum_col", None), ("psu", "psu_col", None), ("fpc", "fpc_col", np.nan),
])
def test_missing_design_values_raise_naming_column(argument, column, bad):
    df = lonely_data().rename(columns={"w": "wt_col", "stratum": "stratum_col", "psu": "psu_col", "fpc": "fpc_col"})
    df[column] = df[column].astype(object if bad is None else df[column].dtype)
    df.loc[2, column] = bad
    with _raises(ValueError, column):
        ik.SurveyDesign(df, weights="wt_col", strata="stratum_col", psu="psu_col", fpc="fpc_col",
                        lonely_psu="certainty").mean("income")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_missing_analysis_variable_raises_naming_it(bad):
    df = lonely_data()
    df["hh_size"] = np.arange(1.0, len(df) + 1)
    df["region"] = ["a", "b"] * 5
    df.loc[4, "income"] = bad
    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu="certainty")
    for call in (lambda: d.mean("income"), lambda: d.total("income"), lambda: d.quantile("income", [0.5]),
                 lambda: d.mean("income", by="region"), lambda: d.ratio("income", "hh_size"),
                 lambda: d.ratio("hh_size", "income")):
        with _raises(ValueError, "income"):
            call()
    df2 = lonely_data()
    df2["region"] = pd.Series(["a", "b", None, "a", "b", "a", "b", "a", "b", "a"], dtype=object)
    d2 = ik.SurveyDesign(df2, weights="w", strata="stratum", psu="psu", lonely_psu="certainty")
    with _raises(ValueError, "region"):
        d2.proportion("region")
    with _raises(ValueError, "region"):
        d2.mean("income", by="region")


def test_apiclus2_enroll_has_missing_values():
    """Real data: apiclus2.enroll has 6 NA; the estimate refuses rather than silently dropping."""
    df = _read("apiclus2.csv")
    d = ik.SurveyDesign(df, weights="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    with _raises(ValueError, "enroll"):
        d.mean("enroll")


# ------------------------------------------------------------------------------------------------
# Strata / PSU structure, fpc, columns, types
# ------------------------------------------------------------------------------------------------
def test_psu_labels_shared_across_strata_need_nest():
    df = pairs()
    with _raises(ValueError, "nest=True"):
        ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu_in_stratum").mean("y")
    nested = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu_in_stratum", nest=True).mean("y")
    unique = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu").mean("y")
    np.testing.assert_allclose(nested.se.to_numpy(), unique.se.to_numpy(), rtol=RTOL)


def test_unknown_column_lists_available_columns():
    df = lonely_data()
    for kw in (dict(weights="nope"), dict(weights="w", strata="nope"), dict(weights="w", psu="nope"),
               dict(weights="w", psu="psu", fpc="nope")):
        with _raises(ValueError, "nope", *df.columns):
            ik.SurveyDesign(df, **kw).mean("income")
    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu="certainty")
    with _raises(ValueError, "nope", "income"):
        d.mean("nope")
    with _raises(ValueError, "nope", "income"):
        d.mean("income", by="nope")


def test_fpc_smaller_than_sampled_psus():
    df = lonely_data()
    df["fpc_small"] = np.where(df["stratum"] == "north", 2.0, 4.0)   # north has 3 sampled PSUs
    with _raises(ValueError, "fpc"):
        ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu", fpc="fpc_small",
                        lonely_psu="certainty").mean("income")


def test_fpc_mixing_fractions_and_sizes():
    df = lonely_data()
    df["fpc_mixed"] = np.where(df["stratum"] == "north", 0.3, 4.0)   # R: "Must have all fpc>=1 or all fpc<=1"
    with _raises(ValueError, "fpc"):
        ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu", fpc="fpc_mixed",
                        lonely_psu="certainty").mean("income")


def test_fpc_as_fraction_equals_population_size():
    df = lonely_data()
    n_psu = df.groupby("stratum")["psu"].transform("nunique")
    df["frac"] = n_psu / df["fpc"]
    kw = dict(weights="w", strata="stratum", psu="psu", lonely_psu="adjust")
    a = ik.SurveyDesign(df, fpc="fpc", **kw).mean("income")
    b = ik.SurveyDesign(df, fpc="frac", **kw).mean("income")
    np.testing.assert_allclose(a.se.to_numpy(), b.se.to_numpy(), rtol=RTOL)


def test_single_psu_design_raises():
    df = lonely_data()
    df["one"] = 1
    with pytest.raises(ValueError) as err:
        ik.SurveyDesign(df, weights="w", psu="one").mean("income")
    assert "psu" in str(err.value).lower()


def test_wrong_types():
    df = lonely_data()
    with pytest.raises(TypeError):
        ik.SurveyDesign(df.to_dict("list"), weights="w")
    with _raises(TypeError, "weights"):
        ik.SurveyDesign(df, weights=3)
    with _raises(TypeError, "psu"):
        ik.SurveyDesign(df, weights="w", psu=[1.5, 2.5])


def test_empty_data_raises():
    with pytest.raises(ValueError):
        ik.SurveyDesign(lonely_data().iloc[:0], weights="w").mean("income")


def test_quantile_probability_out_of_range():
    d = ik.SurveyDesign(lonely_data(), weights="w", strata="stratum", psu="psu", lonely_psu="certainty")
    for q in (0.0, 1.5, -0.2):
        with _raises(ValueError, "q"):
            d.quantile("income", [q])


def test_constant_outcome_has_zero_se():
    df = lonely_data()
    df["const"] = 7.25
    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu", lonely_psu="adjust")
    m = d.mean("const")
    assert m.coef.iloc[0] == pytest.approx(7.25, rel=RTOL)
    assert abs(m.se.iloc[0]) <= 1e-12 * 7.25


def test_row_order_and_index_do_not_matter():
    df = _read("apistrat.csv")
    perm = df.sample(frac=1.0, random_state=3)
    perm.index = [f"row{i}" for i in range(len(perm))]
    kw = dict(weights="pw", strata="stype", fpc="fpc")
    a, b = ik.SurveyDesign(df, **kw), ik.SurveyDesign(perm, **kw)
    for x, y in [(a.mean("api00"), b.mean("api00")), (a.total("enroll", by="stype"), b.total("enroll", by="stype")),
                 (a.ratio("api00", "api99"), b.ratio("api00", "api99"))]:
        np.testing.assert_allclose(x.coef.to_numpy(), y.coef.to_numpy(), rtol=RTOL)
        np.testing.assert_allclose(x.se.to_numpy(), y.se.to_numpy(), rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# Replicate-weight arguments
# ------------------------------------------------------------------------------------------------
def _jk1_kwargs():
    ref = json.loads((REF_DIR / "survey_reference.json").read_text())
    return dict(ref["designs"]["apiclus1_jk1"]["python"])


def test_replicate_arguments_validated():
    df = _read("apiclus1.csv")
    kw = _jk1_kwargs()
    with _raises(ValueError, "replicate_type"):
        ik.SurveyDesign(df, **{**kw, "replicate_type": "XYZ"}).mean("api00")
    with _raises(ValueError, "replicate_type"):
        ik.SurveyDesign(df, **{k: v for k, v in kw.items() if k not in ("replicate_type", "scale")}).mean("api00")
    with _raises(ValueError, "fay_rho"):
        ik.SurveyDesign(df, **{**kw, "replicate_type": "Fay", "scale": None}).mean("api00")
    with _raises(ValueError, "rscales"):
        ik.SurveyDesign(df, **{**kw, "replicate_type": "JKn", "scale": 1.0}).mean("api00")
    bad = df.copy()
    bad.loc[5, "jk1_3"] = np.nan
    with _raises(ValueError, "jk1_3"):
        ik.SurveyDesign(bad, **kw).mean("api00")
    with _raises(ValueError, "jk1_99", "jk1_1"):
        ik.SurveyDesign(df, **{**kw, "replicate_weights": kw["replicate_weights"] + ["jk1_99"]}).mean("api00")


# ------------------------------------------------------------------------------------------------
# The caller's data are never modified
# ------------------------------------------------------------------------------------------------
def test_callers_dataframe_unchanged():
    ref = json.loads((REF_DIR / "survey_reference.json").read_text())
    for name in ("apistrat_fpc", "apiclus2_fpc", "synth_pairs_twostage_fpc", "synth_lonely_adjust",
                 "apiclus1_jk1", "synth_pairs_fay"):
        spec = ref["designs"][name]
        df = _read(spec["data"])
        df.index = [f"r{i}" for i in range(len(df))]          # a non-default index must survive too
        before = copy.deepcopy(df)
        d = ik.SurveyDesign(df, **spec["python"])
        y, x, by, cat = (("api00", "api99", "stype", "sch_wide") if spec["data"].startswith("api")
                         else ("y", "x2", "grp", "grp"))
        d.mean(y)
        d.mean(y, by=by)
        d.total(y, by=by)
        d.ratio(y, x)
        d.proportion(cat)
        if "replicate_weights" not in spec["python"]:
            d.quantile(y, [0.25, 0.5])
        f = "api00 ~ ell + meals" if spec["data"].startswith("api") else "y ~ x1 + x2"
        ik.ols(f, df, design=d)
        pd.testing.assert_frame_equal(df, before, check_exact=True)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "int64", "uint64"])
@pytest.mark.parametrize("complete", [True, False])
def test_integer_labels_factorize_like_pandas(dtype, complete):
    """The lookup-table factorisation of integer design labels equals pd.factorize(sort=True) for every
    integer width, including int8 / int16 labels whose range exceeds the type (value − min must not wrap)."""
    from impactkit.survey import _factorize_sorted

    info = np.iinfo(dtype)
    lo, hi = max(int(info.min), -100), min(int(info.max), 100 if info.min < 0 else 200)
    labels = np.arange(lo, hi + 1)
    if not complete:
        labels = labels[::3]
    v = pd.Series(np.random.default_rng(1).choice(labels, 400).astype(dtype))
    codes, levels = _factorize_sorted(v)
    ref_codes, ref_levels = pd.factorize(v, sort=True)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(levels, np.asarray(ref_levels))


def test_shuffled_and_reindexed_frame_is_refused_not_misaligned():
    """Rows are matched to a design by index label; a frame shuffled and then re-indexed 0..n−1 has the same
    labels but other rows. Every estimator taking design= refuses it (naming the design column that
    differs) instead of pairing rows with the wrong weights, strata and PSUs; a copy or a subset is accepted."""
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "w": rng.uniform(1, 3, n),
                       "s": rng.integers(0, 4, n), "p": np.arange(n) // 10, "t": rng.integers(0, 2, n),
                       "inc": rng.lognormal(size=n), "b": rng.integers(0, 2, n), "per": np.tile([0, 1], n // 2)})
    d = ik.SurveyDesign(df, weights="w", strata="s", psu="p", nest=True)
    shuffled = df.sample(frac=1, random_state=1).reset_index(drop=True)
    calls = {
        "ols": lambda f: ik.ols("y ~ x", f, design=d).coef,
        "logit": lambda f: ik.logit("t ~ x", f, design=d).coef,
        "gini": lambda f: ik.gini(f, variable="inc", design=d).coef,
        "targeting": lambda f: ik.targeting(f, welfare="inc", beneficiary="b", target=ik.poverty_line(1.0), design=d).table()["estimate"],
        "change": lambda f: ik.change(f, outcome="y", period="per", baseline=0, endline=1, design=d).coef,
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match="design column 'w' differs"):
            call(shuffled)
        pd.testing.assert_series_equal(call(df.copy()), call(df), check_names=False)
    ik.ols("y ~ x", df.iloc[::3], design=d)  # a subset keeps its labels: fine
