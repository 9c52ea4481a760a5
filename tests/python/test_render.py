"""Summary, etable and coefplot: content checks on a fake result and, where ik.ols exists, a real fit.

Number formatting is checked exactly (strings); star thresholds are * p<0.1, ** p<0.05,
*** p<0.01 with strict inequalities.
"""
from __future__ import annotations

import re
import subprocess
import sys
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from impactkit._render import (STAR_NOTE, Summary, format_number, format_pvalue, latex_escape, markdown_escape,
                               stars)
from impactkit.etable import ETable, etable


# --------------------------------------------------------------------------------------------------
# a duck-typed result
# --------------------------------------------------------------------------------------------------
class FakeResult:
    def __init__(self, terms, est, se, p, *, title="FAKE", depvar="y_var", vcov_type="HC1", nobs=100, r2=0.5,
                 adj_r2=0.45, normal=False, n_clusters=None, fixed_effects=None):
        self.title = title
        self.depvar = depvar
        self.vcov_type = vcov_type
        self.nobs = nobs
        self.r2 = r2
        self.adj_r2 = adj_r2
        self.n_clusters = n_clusters or {}
        self.fixed_effects = fixed_effects or []
        self.r2_within = 0.25
        idx = pd.Index(terms)
        self.coef = pd.Series(est, index=idx, dtype=float)
        self.se = pd.Series(se, index=idx, dtype=float)
        self.pvalues = pd.Series(p, index=idx, dtype=float)
        self.df_inference = pd.Series(np.inf if normal else 50.0, index=idx)

    def conf_int(self, level=0.95):
        q = NormalDist().inv_cdf(1 - (1 - level) / 2)
        return pd.DataFrame({"conf_low": self.coef - q * self.se, "conf_high": self.coef + q * self.se})

    def tidy(self, level=0.95):
        ci = self.conf_int(level)
        return pd.DataFrame({"term": list(self.coef.index), "estimate": self.coef.to_numpy(),
                             "std_error": self.se.to_numpy(), "statistic": (self.coef / self.se).to_numpy(),
                             "p_value": self.pvalues.to_numpy(), "conf_low": ci["conf_low"].to_numpy(),
                             "conf_high": ci["conf_high"].to_numpy()})

    def fit_stats(self):
        return [("Observations", f"{self.nobs}"), ("R²", f"{self.r2:.4f}")]

    def notes(self):
        return ["Standard errors: fake_vcov with 100% & #made {up} $ factor."]


class TidyOnlyNoLevel(FakeResult):
    """tidy() without a level argument (Summary must still work, at 95%)."""

    def tidy(self):  # noqa: D102
        return super().tidy(0.95)


def model_a():
    return FakeResult(["Intercept", "treat", "x_1"], [1.23456, 1676.343216, -0.000012346],
                      [0.5, 676.733833, 0.0000021], [0.0099, 0.013624, 0.5])


def model_b():
    return FakeResult(["Intercept", "treat", "z&w", "x_1"], [2.0, 1500.0, 3.0, 0.5],
                      [1.0, 700.0, 1.0, 0.25], [0.05, 0.0999, 0.1, 0.00001], depvar="y_other", vcov_type="CR1",
                      nobs=1234, r2=0.123456, n_clusters={"village": 40})


# --------------------------------------------------------------------------------------------------
# formatting helpers
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, digits, expected", [
    (1676.343216, 4, "1676"),
    (0.082141, 4, "0.08214"),
    (-2159.522307, 4, "-2160"),
    (123456.7, 4, "123457"),      # digits left of the point are never dropped
    (1234567.0, 4, "1.235e+06"),  # >= 1e6: scientific
    (999999.7, 4, "1.000e+06"),   # rounding carries to 1e6: scientific as well
    (4.2e-7, 4, "4.200e-07"),     # < 1e-4: scientific
    (-0.000012345, 3, "-1.23e-05"),
    (0.0001, 4, "0.0001000"),
    (0.1, 4, "0.1000"),
    (9.99996, 4, "10.00"),        # carry into a new leading digit keeps 4 significant digits
    (-0.5, 3, "-0.500"),
    (3.14159265, 6, "3.14159"),
    (0.0, 4, "0"),
    (-0.0, 4, "0"),
    (float("nan"), 4, "NaN"),
    (float("inf"), 4, "Inf"),
    (float("-inf"), 4, "-Inf"),
    (445, 4, "445"),
    (np.int64(123456789), 4, "123456789"),
    (np.float32(2.5), 2, "2.5"),
    (None, 4, ""),
])
def test_format_number(x, digits, expected):
    assert format_number(x, digits) == expected


def test_format_number_default_digits_and_bad_digits():
    assert format_number(2.0 / 3.0) == "0.6667"
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="digits"):
            format_number(1.0, bad)


@pytest.mark.parametrize("p, expected", [(0.00001, "<0.0001"), (0.013624, "0.0136"), (0.5, "0.5000"),
                                         (1.0, "1.0000"), (float("nan"), "NaN")])
def test_format_pvalue(p, expected):
    assert format_pvalue(p) == expected


@pytest.mark.parametrize("p, expected", [
    (0.0, "***"), (0.0099, "***"), (0.01, "**"), (0.0499, "**"), (0.05, "*"), (0.0999, "*"), (0.1, ""),
    (0.5, ""), (float("nan"), ""), (None, ""),
])
def test_star_thresholds(p, expected):
    assert stars(p) == expected
    assert STAR_NOTE == "Significance: * p<0.1, ** p<0.05, *** p<0.01"


def test_latex_escape_specials():
    assert latex_escape("a_b % c & d # e $ f { g } h") == r"a\_b \% c \& d \# e \$ f \{ g \} h"
    assert latex_escape("x~y^z\\w") == r"x\textasciitilde{}y\textasciicircum{}z\textbackslash{}w"
    assert latex_escape("R²") == r"R$^2$"


def test_markdown_escape():
    assert markdown_escape("1.2***") == r"1.2\*\*\*"
    assert markdown_escape("a_b|c") == r"a\_b\|c"
    assert markdown_escape("<b>") == "&lt;b>"
    assert markdown_escape("p<0.1") == "p<0.1"


# --------------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------------
def _row(text, term):
    lines = [ln for ln in text.splitlines() if ln.startswith(term + " ")]
    assert len(lines) == 1, f"no unique row for {term!r} in\n{text}"
    return lines[0][len(term):].split()


def test_summary_text_values():
    s = Summary(model_a())
    text = s.as_text()
    assert text.splitlines()[0] == "FAKE estimates — dependent variable: y_var"
    assert str(s) == text and repr(s) == text
    q = NormalDist().inv_cdf(0.975)
    # Intercept: 1.23456 / 0.5, p = 0.0099 -> ***
    assert _row(text, "Intercept") == ["1.235", "0.5000", "2.469", "0.0099", "***",
                                       format_number(1.23456 - q * 0.5), format_number(1.23456 + q * 0.5)]
    treat = _row(text, "treat")
    assert treat[:5] == ["1676", "676.7", "2.477", "0.0136", "**"]
    x1 = _row(text, "x_1")
    assert x1[:4] == ["-1.235e-05", "2.100e-06", "-5.879", "0.5000"]  # no star at p = 0.5
    assert len(x1) == 6
    assert "t value" in text and "Pr(>|t|)" in text and "[2.5%" in text and "97.5%]" in text
    assert "Observations" in text and "R²" in text and "0.5000" in text
    assert "fake_vcov with 100% & #made {up} $ factor." in text
    assert "* p<0.1, ** p<0.05, *** p<0.01" in text
    # consistent width: rules are as wide as the widest line
    rules = [ln for ln in text.splitlines() if set(ln) == {"="}]
    assert rules and all(len(r) >= max(len(ln) for ln in text.splitlines() if "Significance" not in ln
                                       and "Standard errors" not in ln) for r in rules)


def test_summary_options_level_digits_stars_and_z():
    m = FakeResult(["a", "b"], [1.0, 2.0], [0.5, 0.5], [0.001, 0.2], normal=True)
    s = Summary(m, level=0.9, digits=3, stars=False)
    text = s.as_text()
    assert "z value" in text and "Pr(>|z|)" in text
    assert "[5%" in text and "95%]" in text
    assert "***" not in text and "Significance" not in text
    q = NormalDist().inv_cdf(0.95)
    assert _row(text, "a") == ["1.00", "0.500", "2.00", "0.0010", format_number(1 - q * 0.5, 3),
                               format_number(1 + q * 0.5, 3)]
    # a tidy() without a level argument falls back to its own (95%) intervals
    t2 = Summary(TidyOnlyNoLevel(["a"], [1.0], [0.5], [0.3])).as_text()
    assert "[2.5%" in t2
    with pytest.raises(ValueError, match="level"):
        Summary(m, level=1.5)


def test_summary_html_escapes_and_structure():
    m = FakeResult(["<script>alert(1)</script>", "a&b"], [1.0, 2.0], [0.5, 0.5], [0.001, 0.2], depvar="y<1>")
    html = Summary(m).as_html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a&amp;b" in html and "y&lt;1&gt;" in html
    assert html.count("<table") == 1 and html.count("</table>") == 1
    assert html.count("<tr>") == html.count("</tr>")
    assert "Pr(&gt;|t|)" in html
    assert "***" in html and "100% &amp; #made {up} $ factor" in html
    # theme-neutral: rules drawn in currentColor, no hard-coded colours
    assert "currentColor" in html
    assert not re.search(r"#[0-9a-fA-F]{3,6}\b|background:\s*(white|black|#)", html)
    assert Summary(m)._repr_html_() == html


def _unescaped_amp(line):
    """Cell separators in a LaTeX row, counting a \\multicolumn{k} cell as k cells."""
    spans = sum(int(k) - 1 for k in re.findall(r"\\multicolumn\{(\d+)\}", line))
    return len(re.findall(r"(?<!\\)&", line)) + spans


def test_summary_latex_escapes_and_booktabs():
    m = FakeResult(["x_1", "C(g)[T.a&b]", "pct%"], [1.0, -2.0, 3.0], [0.5, 0.5, 0.5], [0.001, 0.03, 0.2],
                   depvar="log_wage")
    tex = Summary(m).as_latex()
    lines = tex.splitlines()
    assert lines[0] == r"\begin{tabular}{lrrrrlrr}" and lines[-1] == r"\end{tabular}"
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in lines
    assert r"log\_wage" in tex
    assert r"x\_1 & 1.000 & 0.5000 & 2.000 & 0.0010 & $^{***}$" in tex
    assert r"C(g)[T.a\&b] & $-$2.000 & 0.5000 & $-$4.000 & 0.0300 & $^{**}$" in tex
    assert r"pct\% & 3.000" in tex
    assert r"R$^2$ & 0.5000" in tex
    assert r"fake\_vcov with 100\% \& \#made \{up\} \$ factor." in tex
    assert "95\\% CI" in tex
    # every body row has exactly 8 cells (7 unescaped ampersands)
    for ln in lines:
        if ln.endswith(r"\\") and not ln.startswith(r"\multicolumn"):
            assert _unescaped_amp(ln) == 7, ln


def test_summary_requires_tidy_columns():
    class Bad(FakeResult):
        def tidy(self, level=0.95):
            return super().tidy(level).drop(columns=["conf_low"])

    with pytest.raises(ValueError, match="conf_low"):
        Summary(Bad(["a"], [1.0], [1.0], [0.5]))


# --------------------------------------------------------------------------------------------------
# etable
# --------------------------------------------------------------------------------------------------
def test_etable_dataframe_content():
    tab = etable([model_a(), model_b()])
    assert isinstance(tab, ETable)
    df = tab.to_dataframe()
    assert list(df.columns) == ["(1)", "(2)"]
    # union of terms in first-appearance order
    terms = [t for t, v in df.index if v == "estimate"]
    assert terms == ["Intercept", "treat", "x_1", "z&w"]
    assert df.loc[("Dependent variable", ""), "(1)"] == "y_var"
    assert df.loc[("Dependent variable", ""), "(2)"] == "y_other"
    assert df.loc[("Intercept", "estimate"), "(1)"] == "1.23***"    # p = 0.0099
    assert df.loc[("Intercept", "estimate"), "(2)"] == "2.00*"      # p = 0.05 exactly: not **
    assert df.loc[("Intercept", "std_error"), "(1)"] == "(0.500)"
    assert df.loc[("treat", "estimate"), "(1)"] == "1676**"
    assert df.loc[("treat", "std_error"), "(1)"] == "(677)"
    assert df.loc[("treat", "estimate"), "(2)"] == "1500*"          # p = 0.0999
    assert df.loc[("z&w", "estimate"), "(2)"] == "3.00"            # p = 0.1 exactly: no star
    assert df.loc[("z&w", "estimate"), "(1)"] == ""                 # not in model 1
    assert df.loc[("z&w", "std_error"), "(1)"] == ""
    assert df.loc[("x_1", "estimate"), "(1)"] == "-1.23e-05"
    assert df.loc[("x_1", "estimate"), "(2)"] == "0.500***"
    assert df.loc[("Observations", ""), "(1)"] == "100"
    assert df.loc[("Observations", ""), "(2)"] == "1,234"
    assert df.loc[("R²", ""), "(2)"] == "0.1235"
    assert df.loc[("S.E. type", ""), "(1)"] == "HC1"
    assert df.loc[("S.E. type", ""), "(2)"] == "CR1 (village)"
    # order of row blocks: depvar, coefficients, stats, vcov type last
    labels = [r for r, _ in df.index]
    assert labels[0] == "Dependent variable" and labels[-1] == "S.E. type"
    assert labels.index("Observations") > labels.index("z&w")


def test_etable_options():
    a, b = model_a(), model_b()
    df = etable({"Short": a, "Long": b}, se="brackets", stars=False, digits=2, stats=("nobs", "adj_r2", "n_clusters"),
                keep=["treat", r"^x"], drop="x_1").to_dataframe()
    assert list(df.columns) == ["Short", "Long"]
    assert [t for t, v in df.index if v == "estimate"] == ["treat"]
    assert df.loc[("treat", "estimate"), "Short"] == "1676"
    assert df.loc[("treat", "std_error"), "Short"] == "[677]"
    assert df.loc[("Adj. R²", ""), "Long"] == "0.4500"  # R² keeps at least 4 significant digits
    assert df.loc[("Clusters", ""), "Long"] == "40" and df.loc[("Clusters", ""), "Short"] == ""
    assert "R²" not in [r for r, _ in df.index]
    # exact names containing regex metacharacters match literally
    df2 = etable(b, keep=["z&w", "C(g)[T.1]"]).to_dataframe()
    assert [t for t, v in df2.index if v == "estimate"] == ["z&w"]
    assert etable([a], labels=["only"]).labels == ["only"]


def test_etable_errors():
    with pytest.raises(ValueError) as err:
        etable([model_a()], stats=("nobs", "aic"))
    msg = str(err.value)
    assert "aic" in msg and "nobs" in msg and "adj_r2" in msg and "r2" in msg
    with pytest.raises(ValueError, match="se must be one of"):
        etable([model_a()], se="none")
    with pytest.raises(ValueError, match="label"):
        etable([model_a(), model_b()], labels=["one"])
    with pytest.raises(ValueError, match="no results"):
        etable([])
    with pytest.raises(TypeError, match="coef"):
        etable([object()])


def test_etable_markdown_structure_and_escaping():
    md = etable([model_a(), model_b()], labels=["A_1", "B|2"]).to_markdown()
    lines = md.splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + 1 + 2 * 4 + 2 + 1  # header, separator, depvar, 4 terms x 2, 2 stats, vcov
    # every table line has the same number of unescaped pipes (3 columns -> 4 pipes)
    assert all(len(re.findall(r"(?<!\\)\|", ln)) == 4 for ln in table)
    assert re.fullmatch(r"\|:-+\|:-+:\|:-+:\|", table[1])
    assert "A\\_1" in table[0] and "B\\|2" in table[0]
    assert re.search(r"\| Intercept +\| 1\.23\\\*\\\*\\\* +\| 2\.00\\\* +\|", md)
    assert re.search(r"\| +\| \(0\.500\) +\| \(1\.00\) +\|", md)
    assert "x\\_1" in md and "***" not in md
    assert lines[-1] == "Standard errors in parentheses. Significance: \\* p<0.1, \\*\\* p<0.05, \\*\\*\\* p<0.01."


def test_etable_latex():
    tex = etable([model_a(), model_b()], labels=["Model_1", "50%"]).to_latex()
    lines = tex.splitlines()
    assert lines[0] == r"\begin{tabular}{lcc}" and lines[-1] == r"\end{tabular}"
    assert r" & Model\_1 & 50\% \\" in lines
    assert r"Intercept & 1.23$^{***}$ & 2.00$^{*}$ \\" in lines
    assert r"x\_1 & $-$1.23e-05 & 0.500$^{***}$ \\" in lines
    assert r"z\&w &  & 3.00 \\" in lines
    assert r" & (0.500) & (1.00) \\" in lines
    assert r"R$^2$ & 0.5000 & 0.1235 \\" in lines
    assert tex.count(r"\midrule") == 3 and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"p$<$0.1" in tex
    for ln in lines:
        if ln.endswith(r"\\") and not ln.startswith(r"\multicolumn"):
            assert _unescaped_amp(ln) == 2, ln
    wrapped = etable([model_a()]).to_latex(caption="Effects on y_1", label="tab:main")
    assert wrapped.startswith("\\begin{table}") and r"\caption{Effects on y\_1}" in wrapped
    assert r"\label{tab:main}" in wrapped and wrapped.rstrip().endswith(r"\end{table}")


def test_etable_html_and_text():
    m = FakeResult(["<i>x</i>", "b"], [1.0, 2.0], [0.5, 0.5], [0.001, 0.2])
    tab = etable([m, model_b()], labels=["<one>", "two"])
    html = tab.to_html()
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "&lt;one&gt;" in html
    assert "1.00<sup>***</sup>" in html and "z&amp;w" in html
    assert html.count("<tr>") == html.count("</tr>")
    assert tab._repr_html_() == html
    text = str(tab)
    assert "(1)" not in text and "<one>" in text and "two" in text
    assert re.search(r"^treat +1676\*\* +1500\*", str(etable([model_a(), model_b()])), re.M)
    assert text.splitlines()[-1].startswith("Standard errors in parentheses.")
    assert repr(tab) == text


def test_etable_fixed_effect_rows():
    a = model_a()
    b = model_b()
    b.fixed_effects = ["district"]
    df = etable([a, b], stats=("nobs", "r2_within")).to_dataframe()
    assert df.loc[("FE: district", ""), "(1)"] == "No"
    assert df.loc[("FE: district", ""), "(2)"] == "Yes"
    assert df.loc[("Within R²", ""), "(1)"] == ""  # no fixed effects: not applicable
    assert df.loc[("Within R²", ""), "(2)"] == "0.2500"


# --------------------------------------------------------------------------------------------------
# coefplot
# --------------------------------------------------------------------------------------------------
@pytest.fixture()
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg", force=True)
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _errorbars(ax):
    from matplotlib.container import ErrorbarContainer

    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_coefplot_single(plt):
    from impactkit.plotting import coefplot

    m = model_b()
    ax = coefplot(m, level=0.9)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["treat", "z&w", "x_1"]  # intercept dropped
    (eb,) = _errorbars(ax)
    xs = eb.lines[0].get_xdata()
    np.testing.assert_allclose(xs, m.coef[["treat", "z&w", "x_1"]].to_numpy())
    seg = eb.lines[2][0].get_segments()
    ci = m.conf_int(0.9).loc[["treat", "z&w", "x_1"]]
    np.testing.assert_allclose([s[0][0] for s in seg], ci["conf_low"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose([s[1][0] for s in seg], ci["conf_high"].to_numpy(), rtol=1e-12)
    # zero reference line
    assert any(np.allclose(ln.get_xdata(), 0.0) for ln in ax.get_lines() if ln is not eb.lines[0])
    assert "90%" in ax.get_xlabel()
    assert ax.get_legend() is None


def test_coefplot_multiple_dodged_and_terms(plt):
    from impactkit.plotting import coefplot

    fig, ax0 = plt.subplots()
    ax = coefplot([model_a(), model_b()], ax=ax0, drop_intercept=False)
    assert ax is ax0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept", "treat", "x_1", "z&w"]
    ebs = _errorbars(ax)
    assert len(ebs) == 2
    ya = ebs[0].lines[0].get_ydata()
    yb = ebs[1].lines[0].get_ydata()
    assert np.all(ya < np.arange(3) + 1e-12) and np.all(ya > np.arange(3) - 0.5)  # dodged up
    assert yb[0] > 0 and yb[0] < 0.5                                           # dodged down
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["(1)", "(2)"]

    ax2 = coefplot({"first": model_a(), "second": model_b()}, terms=["x_1", "treat"])
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["x_1", "treat"]
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["first", "second"]


def test_coefplot_errors(plt):
    from impactkit.plotting import coefplot

    with pytest.raises(ValueError, match="nope"):
        coefplot(model_a(), terms=["nope"])
    only_const = FakeResult(["Intercept"], [1.0], [1.0], [0.5])
    with pytest.raises(ValueError, match="no terms"):
        coefplot(only_const)
    with pytest.raises(ValueError, match="level"):
        coefplot(model_a(), level=95)
    with pytest.raises(ValueError, match="label"):
        coefplot([model_a(), model_b()], labels=["x"])


def test_matplotlib_is_imported_lazily():
    code = ("import sys, impactkit._render, impactkit.etable, impactkit.plotting; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --------------------------------------------------------------------------------------------------
# with the real estimator
# --------------------------------------------------------------------------------------------------
def _real_data():
    rng = np.random.default_rng(20240501)
    n = 300
    df = pd.DataFrame({"treat": rng.integers(0, 2, n), "x_1": rng.normal(size=n), "g": rng.integers(0, 12, n)})
    df["y"] = 1.0 + 0.8 * df["treat"] + 0.3 * df["x_1"] + rng.normal(size=n)
    return df


@pytest.fixture()
def ik():
    ik = pytest.importorskip("impactkit")
    if not hasattr(ik, "ols"):
        pytest.skip("impactkit.ols is not available")
    return ik


def test_real_fit_summary(ik):
    fit = ik.ols("y ~ treat + x_1", data=_real_data())
    s = fit.summary()
    assert isinstance(s, Summary)
    text = str(s)
    assert text.startswith("OLS estimates — dependent variable: y")
    tidy = fit.tidy()
    for r in tidy.itertuples(index=False):
        row = _row(text, r.term)
        assert row[:4] == [format_number(r.estimate), format_number(r.std_error), format_number(r.statistic),
                           format_pvalue(r.p_value)]
        assert (stars(r.p_value) in row) if stars(r.p_value) else len(row) == 6
        assert row[-2:] == [format_number(r.conf_low), format_number(r.conf_high)]
    for label, value in fit.fit_stats():
        assert label in text and value in text
    for note in fit.notes():
        assert note.split()[0] in text
    assert r"x\_1" in s.as_latex()
    assert "x_1" in fit._repr_html_()


def test_real_etable_and_plot(ik, plt):
    df = _real_data()
    f1 = ik.ols("y ~ treat", data=df)
    f2 = ik.ols("y ~ treat + x_1", data=df, cluster="g")
    tab = ik.etable([f1, f2], stats=("nobs", "r2", "adj_r2", "n_clusters"))
    out = tab.to_dataframe()
    for j, f in enumerate([f1, f2]):
        col = out.columns[j]
        b, se, p = f.coef["treat"], f.se["treat"], f.pvalues["treat"]
        assert out.loc[("treat", "estimate"), col] == format_number(b, 3) + stars(p)
        assert out.loc[("treat", "std_error"), col] == f"({format_number(se, 3)})"
        assert out.loc[("Observations", ""), col] == "300"
        assert out.loc[("R²", ""), col] == format_number(f.r2, 4)
    assert out.loc[("S.E. type", ""), "(1)"] == "HC1"
    assert out.loc[("S.E. type", ""), "(2)"] == "CR1 (g)"
    assert out.loc[("Clusters", ""), "(2)"] == "12"
    assert out.loc[("x_1", "estimate"), "(1)"] == ""
    assert r"x\_1" in tab.to_latex() and "x\\_1" in tab.to_markdown()
    ax = f2.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["treat", "x_1"]
    ax = ik.coefplot([f1, f2])
    assert len(_errorbars(ax)) == 2


def test_ik_namespace_functions_stay_callable(ik):
    """``ik.etable``/``ik.coefplot`` must remain the functions after the submodules are imported
    (importing ``impactkit.etable`` binds the *module* to the package attribute ``etable``)."""
    import impactkit.etable  # noqa: F401
    import impactkit.plotting  # noqa: F401

    for _ in range(2):
        assert callable(ik.etable), "ik.etable resolves to the module impactkit.etable, not the function"
        assert callable(ik.coefplot)
    fit = ik.ols("y ~ treat", data=_real_data())
    assert isinstance(ik.etable([fit]), ETable)
