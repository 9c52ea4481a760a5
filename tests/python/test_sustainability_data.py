"""The synthetic sustainability generators (impactkit.datasets.sustainability) behind the sustainability
notebook: deterministic for a seed, internally consistent, and the estimators recover the true values the
generators were built from.

Reference: the truth stated in the generator (SERVICE_TRUTH, PERSISTENCE_TRUTH), recovered within sampling
error on larger samples than the notebook uses — tolerances are about three standard errors, so a wrong
estimator or a generator that drifts from its docstring fails.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.datasets import sustainability as sim


@pytest.mark.parametrize("make", [sim.simulate_service_sites, sim.simulate_persistence_panel,
                                  sim.simulate_organisation_finances, sim.simulate_programme_draws])
def test_generators_are_deterministic_for_a_seed(make):
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_service_sites_are_consistent():
    s = sim.simulate_service_sites(seed=1)
    assert set(s["status"].unique()) == {0, 1, 2}
    assert (s["months"] >= 0).all() and (s["closed"] == (s["status"] == 1)).all()
    assert s["cofunding"].between(0, 0.6).all()
    # follow-up ends in December 2024: censored sites have the full follow-up from their exit year
    cens = s[s["status"] == 0]
    assert (cens["months"] <= (2024 - cens["exit_year"]) * 12 + 23).all()


def test_cause_specific_cox_recovers_the_true_log_hazard_ratios():
    s = sim.simulate_service_sites(seed=11, n_sites=20000)
    s["youth_centre"] = (s["site_type"] == "youth_centre").astype(int)
    close = ik.coxph("committee + cofunding + youth_centre", s, time="months", event="closed")
    for term, true in sim.SERVICE_TRUTH["closure"].items():
        # the district frailty attenuates the closure coefficients slightly (non-collapsibility); 3 SE + 0.05
        assert abs(close.coef[term] - true) < 3 * close.se[term] + 0.05, (term, close.coef[term])
    s["taken_over"] = (s["status"] == 2).astype(int)
    take = ik.coxph("committee + cofunding", s, time="months", event="taken_over")
    for term, true in sim.SERVICE_TRUTH["takeover"].items():
        assert abs(take.coef[term] - true) < 3 * take.se[term] + 0.02, (term, take.coef[term])


def test_effect_persistence_recovers_the_true_decay():
    panel = sim.simulate_persistence_panel(seed=5, n_villages=400, households_per_village=25)
    res = ik.effect_persistence(panel, outcome="consumption", treatment="treated", round="round",
                                controls="baseline_index", cluster="village")
    truth = sim.PERSISTENCE_TRUTH
    decay = res.decay.tidy().set_index("term")
    for term, true in (("effect_0", truth["effect_1"]), ("decay_rate", truth["decay"]), ("half_life", truth["half_life"])):
        est, se = decay.loc[term, "estimate"], decay.loc[term, "std_error"]
        assert abs(est - true) < 3 * se, (term, est, se, true)
    # per-round effects: the true curve effect_1·exp(−decay·(t−1)) inside 3 SE
    eff = res.effects.tidy()
    assert len(eff) == 5
    for t, row in enumerate(eff.itertuples(), start=1):
        true = truth["effect_1"] * np.exp(-truth["decay"] * (t - 1))
        assert abs(row.estimate - true) < 3 * row.std_error, (t, row.estimate, true)


def test_organisation_finances_distress_is_an_observed_future():
    fin = sim.simulate_organisation_finances(seed=3, n_orgs=30)
    assert fin["distress"].isna().groupby(fin["year"]).all().loc[[2022, 2023, 2024]].all()
    one = fin[fin["org"] == 1].set_index("year")
    for t in range(2014, 2022):
        future = one.loc[t + 1:t + 3, "programme_expenses"].min()
        expected = float(future <= 0.8 * one.loc[t, "programme_expenses"])
        # rounding to cents can move a knife-edge case; none is within 1e-6 here
        assert one.loc[t, "distress"] == expected
    assert np.allclose(fin[["foreign_grants", "government_grants", "fees", "donations"]].sum(axis=1),
                       fin["total_revenue"], atol=0.03)


def test_programme_draws_have_every_strategy_in_every_draw():
    d = sim.simulate_programme_draws(seed=2, n_draws=50)
    assert d.groupby("draw")["strategy"].nunique().eq(4).all()
    sq = d[d["strategy"] == "status quo"]
    assert (sq["cost"] == 0).all() and (sq["effect"] == 0).all()
    means = d.groupby("strategy")[["cost", "effect"]].mean()
    assert means.loc["cash + coaching", "effect"] > means.loc["cash transfer", "effect"] > 0
