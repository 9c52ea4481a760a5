"""ik.cea against dampack and base R (stored values), and hand computations.

- ICER frontiers: dampack `calculate_icers` tables (tests/reference/dampack: the HERC example of dampack's own
  tests and the C. difficile table of its "Basic CEA" vignette); statuses exact, ICERs to 1e-9 relative.
- CEAC, expected NMB, frontier strategy, EVPI and Fieller's interval on 2000 draws of dampack's `example_psa`:
  base-R values (tests/reference/r/cost_effectiveness/make_ce_reference.R); to 1e-10 relative.
- HIV screening example of dampack's vignette: frontier computed by hand (status quo → one time → 5yr → 3yr,
  annual strongly dominated by 3yr).
- Paired bootstrap: the same interval for 1 and 2 threads and a given seed; close to Fieller (5 %).
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.errors import InvalidInputError

REF = Path(__file__).resolve().parents[1] / "reference"


def _dampack_table(name):
    return pd.read_csv(REF / "dampack" / name)


@pytest.mark.parametrize("name", ["herc_icers.csv", "cdiff_icers.csv"])
def test_frontier_equals_dampack(name):
    ref = _dampack_table(name)
    shuffled = ref.sample(frac=1, random_state=3)  # the input order must not matter
    res = ik.cea(shuffled.rename(columns={"Strategy": "s"}), cost="Cost", effect="Effect", strategy="s")
    t = res.table().set_index("strategy").loc[ref["Strategy"]]
    assert list(t["status"]) == list(ref["Status"])
    for ours, theirs in (("incremental_cost", "Inc_Cost"), ("incremental_effect", "Inc_Effect"), ("icer", "ICER")):
        np.testing.assert_allclose(t[ours].to_numpy(), ref[theirs].to_numpy(), rtol=1e-9, equal_nan=True)
    assert list(res.frontier()["strategy"]) == list(ref.loc[ref["Status"] == "ND", "Strategy"])


def test_hiv_screening_vignette_by_hand():
    df = pd.DataFrame({"strategy": ["status quo", "one time", "5yr", "3yr", "annual"],
                       "cost": [26000, 27000, 28020, 28440, 29440],
                       "qaly": np.array([277.25, 277.57, 277.78, 277.83, 277.76]) / 12})
    t = ik.cea(df, cost="cost", effect="qaly", strategy="strategy").table().set_index("strategy")
    assert t.loc["annual", "status"] == "D"
    assert (t.drop("annual")["status"] == "ND").all()
    np.testing.assert_allclose(t.loc["one time", "icer"], 1000 / (0.32 / 12), rtol=1e-9)
    np.testing.assert_allclose(t.loc["5yr", "icer"], 1020 / (0.21 / 12), rtol=1e-9)
    np.testing.assert_allclose(t.loc["3yr", "icer"], 420 / (0.05 / 12), rtol=1e-9)
    np.testing.assert_allclose(t.loc["3yr", "cost_per_effect"], 28440 / (277.83 / 12), rtol=1e-12)


@pytest.fixture(scope="module")
def psa():
    draws = pd.read_csv(REF / "r" / "cost_effectiveness" / "example_psa_draws.csv")
    ref = json.loads((REF / "r" / "cost_effectiveness" / "ce_reference.json").read_text())
    return ik.cea(draws, cost="cost", effect="effect", strategy="strategy", draw="draw"), ref


def test_ceac_evpi_equal_base_r(psa):
    res, ref = psa
    assert res.strategies == ref["strategies"]
    c = res.ceac(ref["wtp"])
    P = c.pivot(index="wtp", columns="strategy", values="probability")[ref["strategies"]].to_numpy()
    np.testing.assert_allclose(P, np.array(ref["ceac"]), rtol=0, atol=1e-12)
    e = res.evpi(ref["wtp"])
    np.testing.assert_allclose(e["evpi"], ref["evpi"], rtol=1e-10)
    assert list(e["optimal"]) == ref["optimal"]
    front = c[c["on_frontier"]]
    assert list(front["strategy"]) == ref["optimal"]
    n = res.nmb(ref["wtp"])
    N = n.pivot(index="wtp", columns="strategy", values="nmb")[ref["strategies"]].to_numpy()
    np.testing.assert_allclose(N, np.array(ref["expected_nmb"]), rtol=1e-10)


def test_ceac_frontier_evpi_equal_dampack_functions(psa):
    """dampack's own ceac() and calc_evpi() run on the same draws (make_dampack_reference.R). dampack picks
    the best strategy with max.col(ties.method = "random"), which treats NMBs within a relative 1e-5 as tied
    and picks one at random; impactkit takes the exact maximum. So the proportions are exact (counts / n) at
    every WTP without near-tied draws, and differ by at most (near-tied draws) / n elsewhere; the EVPI moves
    by less than 1e-5 · max|NMB| per near tie (rtol 1e-6). The acceptability frontier must agree exactly."""
    res, _ = psa
    ref = json.loads((REF / "r" / "cost_effectiveness" / "dampack_reference.json").read_text())
    n = 2000
    c = res.ceac(ref["wtp"]).sort_values(["wtp", "strategy"], kind="stable")
    assert list(c["wtp"]) == ref["ceac_wtp"] and list(c["strategy"]) == ref["ceac_strategy"]
    allowed = np.repeat(np.array(ref["near_ties"], dtype=float) / n, len(ref["strategies"]))
    diff = np.abs(c["probability"].to_numpy() - np.array(ref["ceac_proportion"]))
    assert np.all(diff <= allowed + 1e-12), diff.max()
    assert sum(ref["near_ties"]) > 0 and np.all(diff[allowed == 0] <= 1e-12)
    assert list(c["on_frontier"]) == ref["ceac_on_frontier"]
    np.testing.assert_allclose(res.evpi(ref["wtp"])["evpi"], ref["evpi"], rtol=1e-6)


@pytest.mark.parametrize("key,strategy,level", [("fieller_chemo_vs_radio", "Chemo", 0.95),
                                                ("fieller_surgery_vs_radio", "Surgery", 0.95),
                                                ("fieller_surgery_vs_radio_90", "Surgery", 0.90)])
def test_fieller_equals_base_r(psa, key, strategy, level):
    res, ref = psa
    f = res.icer_interval(strategy, "Radio", method="fieller", level=level)
    np.testing.assert_allclose([f["icer"], f["conf_low"], f["conf_high"]],
                               [ref[key]["icer"], ref[key]["low"], ref[key]["high"]], rtol=1e-10)
    assert f["bounded"]


def test_bootstrap_seeded_thread_invariant_and_near_fieller(psa):
    res, _ = psa
    before = ik.get_num_threads()
    try:
        ik.set_num_threads(1)
        b1 = res.icer_interval("Chemo", "Radio", replicates=999, seed=7)
        ik.set_num_threads(2)
        b2 = res.icer_interval("Chemo", "Radio", replicates=999, seed=7)
    finally:
        ik.set_num_threads(before)
    assert (b1["conf_low"], b1["conf_high"]) == (b2["conf_low"], b2["conf_high"])
    b3 = res.icer_interval("Chemo", "Radio", replicates=999, seed=8)
    assert b3["conf_low"] != b1["conf_low"]
    f = res.icer_interval("Chemo", "Radio", method="fieller")
    assert b1["icer"] == pytest.approx(f["icer"], rel=1e-12)
    assert b1["conf_low"] == pytest.approx(f["conf_low"], rel=0.05)
    assert b1["conf_high"] == pytest.approx(f["conf_high"], rel=0.05)


def test_cost_per_beneficiary_and_plots(psa):
    df = pd.DataFrame({"s": ["a", "b"], "cost": [1000.0, 3000.0], "eff": [10.0, 20.0], "n": [50, 100]})
    t = ik.cea(df, cost="cost", effect="eff", strategy="s", beneficiaries="n").table()
    np.testing.assert_allclose(t["cost_per_beneficiary"], [20.0, 30.0])
    np.testing.assert_allclose(t["cost_per_effect"], [100.0, 150.0])
    np.testing.assert_allclose(t["icer"], [np.nan, 200.0], equal_nan=True)
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    res, ref = psa
    assert res.plot_plane().get_xlabel() == "incremental effect"
    assert len(res.plot_ceac(ref["wtp"]).get_lines()) == 3


def test_bad_input_grid():
    one = pd.DataFrame({"s": ["a"], "c": [1.0], "e": [2.0]})
    t = ik.cea(one, cost="c", effect="e", strategy="s").table()
    assert t["status"].tolist() == ["ND"] and np.isnan(t["icer"].iloc[0])
    equal = pd.DataFrame({"s": ["a", "b", "c"], "c": [1.0, 1.0, 2.0], "e": [2.0, 3.0, 3.0]})
    t = ik.cea(equal, cost="c", effect="e", strategy="s").table().set_index("strategy")
    assert t["status"].to_dict() == {"b": "ND", "a": "D", "c": "D"}  # equal cost: less effective dominated; equal effect: costlier
    with pytest.raises(InvalidInputError, match="missing or infinite"):
        ik.cea(one.assign(c=np.nan), cost="c", effect="e", strategy="s")
    with pytest.raises(InvalidInputError, match="unknown column"):
        ik.cea(one, cost="cost", effect="e", strategy="s")
    with pytest.raises(InvalidInputError, match="more than one row"):
        ik.cea(pd.concat([one, one]), cost="c", effect="e", strategy="s")
    with pytest.raises(InvalidInputError, match="no rows"):
        ik.cea(one.iloc[:0], cost="c", effect="e", strategy="s")
    with pytest.raises(TypeError):
        ik.cea(one.to_dict(), cost="c", effect="e", strategy="s")
    draws = pd.DataFrame({"d": [1, 1, 2], "s": ["a", "b", "a"], "c": [1.0, 2, 1], "e": [1.0, 2, 1]})
    with pytest.raises(InvalidInputError, match="lacks strategy"):
        ik.cea(draws, cost="c", effect="e", strategy="s", draw="d")
    with pytest.raises(InvalidInputError, match="more than once"):
        ik.cea(pd.concat([draws, draws]), cost="c", effect="e", strategy="s", draw="d")
    with pytest.raises(InvalidInputError, match="needs probabilistic draws"):
        ik.cea(one, cost="c", effect="e", strategy="s").ceac([1.0])
    ok = ik.cea(draws.iloc[:2].assign(d=[1, 1]).pipe(lambda f: pd.concat([f, f.assign(d=2, c=[1.5, 2.5])])),
                cost="c", effect="e", strategy="s", draw="d")
    with pytest.raises(InvalidInputError, match="wtp"):
        ok.ceac([np.nan])
    with pytest.raises(InvalidInputError, match="unknown strategy"):
        ok.icer_interval("z", "a")
    with pytest.raises(InvalidInputError, match="differ"):
        ok.icer_interval("a", "a")
    # equal effect in every draw: Fieller unbounded, bootstrap undefined, no crash
    flat = pd.DataFrame({"d": [1, 1, 2, 2, 3, 3], "s": ["a", "b"] * 3, "c": [1.0, 2, 1, 3, 1, 4], "e": [1.0] * 6})
    r = ik.cea(flat, cost="c", effect="e", strategy="s", draw="d")
    f = r.icer_interval("b", "a", method="fieller")
    assert not f["bounded"] and np.isnan(f["conf_low"])
    b = r.icer_interval("b", "a", replicates=50, seed=1)
    assert b["undefined_replicates"] == 50 and np.isnan(b["conf_low"])
    # the caller's data are not modified
    before = equal.copy()
    ik.cea(equal, cost="c", effect="e", strategy="s").table()
    pd.testing.assert_frame_equal(before, equal)
