"""Synthetic data for a sustainability and value-for-money report: what happens to services after the donor
leaves, how long a programme's effect lasts, how financially fragile the implementing organisations are,
and what each strategy costs per unit of outcome.

Every generator is deterministic for a given seed (numpy ``default_rng``) and documents the true values it
was built from, so an estimate can be compared with the truth (``tests/python/test_sustainability_data.py``
does). All numbers are invented; they are chosen to look like an NGO portfolio in a low-income country.

``simulate_service_sites``
    One row per service site (clinic, school feeding, water point, youth centre) handed over when donor
    funding ended between 2018 and 2023; followed to the end of 2024 (12–84 months). Two competing fates:
    the site closes (``status`` 1) or the government takes it over (``status`` 2); 0 is still run by the
    community at the data cut. Latent cause-specific times are Weibull with shape 0.9 and proportional
    hazards: closure log-hazard ratio −0.7 for a community management committee, −1.5 per unit of
    co-funding share and +0.4 for youth centres; takeover log-hazard ratio +0.3 for a committee and +1.2 per
    unit of co-funding share (``SERVICE_TRUTH``).
``simulate_persistence_panel``
    Households in villages randomised to a programme, surveyed in rounds 1–5 after it ended. The effect on
    the consumption index is 0.30 SD in round 1 and decays exponentially at rate 0.35 per round (half-life
    ln 2 / 0.35 ≈ 1.98 rounds; ``PERSISTENCE_TRUTH``); village and household effects make errors clustered.
``simulate_organisation_finances``
    Organisation-year panel (2014–2024) of implementing NGOs in three sectors, with revenue by source
    (foreign grants, government grants, fees, donations), expenses, administrative expenses, net assets,
    reserves, cash and the largest donor's revenue. Concentrated revenue is more volatile and a largest donor
    may leave (probability rising with its share); expenses follow revenue with a lag. ``distress`` is 1 when
    programme expenses fall by 20% or more within the next three years (Greenlee & Trussel 2000's outcome),
    NaN for the last three years, so it is an observed future, not a drawn label.
``simulate_programme_draws``
    Probabilistic sensitivity draws (one row per draw and strategy) for four mutually exclusive strategies
    per 1,000 households: status quo, cash transfer, coaching, and cash plus coaching (a graduation
    programme). Costs are present values over three years at 3% (``impactkit.costing.present_value``) of
    gamma-distributed ingredient costs; effects are households lifted above the extreme-poverty line,
    normal with correlation to costs within a draw.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_service_sites", "simulate_persistence_panel", "simulate_organisation_finances",
           "simulate_programme_draws", "SERVICE_TRUTH", "PERSISTENCE_TRUTH"]

# True log-hazard ratios of the cause-specific hazards in simulate_service_sites.
SERVICE_TRUTH = {
    "closure": {"committee": -0.7, "cofunding": -1.5, "youth_centre": 0.4},
    "takeover": {"committee": 0.3, "cofunding": 1.2},
    "weibull_shape": 0.9,
}
# Effect in round t: effect_1 · exp(−decay · (t − 1)).
PERSISTENCE_TRUTH = {"effect_1": 0.30, "decay": 0.35, "half_life": float(np.log(2.0) / 0.35)}

_SITE_TYPES = ("clinic", "school_feeding", "water_point", "youth_centre")


def _weibull_times(rng, n, shape, scale_months, log_hr):
    """Weibull times with survival S(t) = exp(−(t/scale)^shape · e^{log_hr}) by inversion."""
    u = rng.random(n)
    return scale_months * (-np.log(u) * np.exp(-log_hr)) ** (1.0 / shape)


def simulate_service_sites(seed: int = 2026, n_sites: int = 600) -> pd.DataFrame:
    """Service sites after donor exit with competing fates (see the module docstring).

    Columns: site, district (1–12), site_type, committee (0/1), cofunding (share of running costs met
    locally at exit, 0–0.6), budget (annual, thousand USD), exit_year, months (follow-up from exit),
    status (0 running at the data cut, 1 closed, 2 taken over by government), closed (1 if status is 1).
    """
    if n_sites < 1:
        raise ValueError(f"simulate_service_sites: n_sites must be ≥ 1, got {n_sites}")
    rng = np.random.default_rng(seed)
    district = rng.integers(1, 13, n_sites)
    site_type = rng.choice(len(_SITE_TYPES), n_sites, p=[0.3, 0.25, 0.3, 0.15])
    committee = (rng.random(n_sites) < 0.55).astype(int)
    cofunding = np.round(np.clip(rng.beta(1.5, 4.0, n_sites) * 0.8, 0.0, 0.6), 3)
    budget = np.round(np.exp(rng.normal(3.2 + 0.3 * (site_type == 0), 0.5)), 1)
    district_frailty = rng.normal(0.0, 0.15, 13)[district]
    truth_c, truth_t = SERVICE_TRUTH["closure"], SERVICE_TRUTH["takeover"]
    shape = SERVICE_TRUTH["weibull_shape"]
    lhr_close = (truth_c["committee"] * committee + truth_c["cofunding"] * cofunding
                 + truth_c["youth_centre"] * (site_type == 3) + district_frailty)
    lhr_take = truth_t["committee"] * committee + truth_t["cofunding"] * cofunding
    t_close = _weibull_times(rng, n_sites, shape, 40.0, lhr_close)
    t_take = _weibull_times(rng, n_sites, shape, 110.0, lhr_take)
    exit_year = rng.integers(2018, 2024, n_sites)
    exit_month = rng.integers(1, 13, n_sites)
    follow_up = (2024 - exit_year) * 12 + (12 - exit_month) + 12  # months from exit to December 2024
    first = np.minimum(t_close, t_take)
    months = np.ceil(np.minimum(first, follow_up)).astype(int)
    status = np.where(first > follow_up, 0, np.where(t_close <= t_take, 1, 2))
    return pd.DataFrame({
        "site": np.arange(1, n_sites + 1), "district": district,
        "site_type": pd.Categorical(np.asarray(_SITE_TYPES)[site_type], categories=list(_SITE_TYPES)),
        "committee": committee, "cofunding": cofunding, "budget": budget, "exit_year": exit_year,
        "months": months, "status": status, "closed": (status == 1).astype(int),
    })


def simulate_persistence_panel(seed: int = 2026, n_villages: int = 150, households_per_village: int = 20,
                               rounds: int = 5) -> pd.DataFrame:
    """Household panel after a village-randomised programme ended (see the module docstring).

    Columns: household, village, treated (0/1, by village), round (1…rounds), baseline_index (the
    consumption index before the programme), consumption (the index in that round, SD units)."""
    if n_villages < 2 or households_per_village < 1 or rounds < 2:
        raise ValueError("simulate_persistence_panel: need ≥ 2 villages, ≥ 1 household per village and ≥ 2 rounds")
    rng = np.random.default_rng(seed)
    treated_village = rng.permutation(np.arange(n_villages) < n_villages // 2).astype(int)
    village_effect = rng.normal(0.0, 0.15, n_villages)
    n_hh = n_villages * households_per_village
    village = np.repeat(np.arange(1, n_villages + 1), households_per_village)
    baseline = village_effect[village - 1] + rng.normal(0.0, 0.8, n_hh)
    hh_effect = rng.normal(0.0, 0.4, n_hh)
    r = np.arange(1, rounds + 1)
    effect = PERSISTENCE_TRUTH["effect_1"] * np.exp(-PERSISTENCE_TRUTH["decay"] * (r - 1))
    shocks = rng.normal(0.0, 0.1, (n_villages, rounds))  # village-round shocks
    treated = treated_village[village - 1]
    y = (0.5 * baseline[:, None] + village_effect[village - 1, None] + hh_effect[:, None]
         + shocks[village - 1] + treated[:, None] * effect[None, :] + rng.normal(0.0, 0.6, (n_hh, rounds)))
    return pd.DataFrame({
        "household": np.repeat(np.arange(1, n_hh + 1), rounds), "village": np.repeat(village, rounds),
        "treated": np.repeat(treated, rounds), "round": np.tile(r, n_hh),
        "baseline_index": np.round(np.repeat(baseline, rounds), 4), "consumption": np.round(y.ravel(), 4),
    })


def simulate_organisation_finances(seed: int = 2026, n_orgs: int = 200, first_year: int = 2014,
                                   last_year: int = 2024) -> pd.DataFrame:
    """Organisation-year finances of implementing NGOs (thousand USD; see the module docstring).

    Columns: org, sector, year, foreign_grants, government_grants, fees, donations, total_revenue, expenses,
    programme_expenses, admin_expenses, net_assets, reserves, cash, largest_donor, distress."""
    if n_orgs < 2 or last_year - first_year < 4:
        raise ValueError("simulate_organisation_finances: need ≥ 2 organisations and ≥ 5 years")
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, last_year + 1)
    T = len(years)
    sectors = np.array(["health", "education", "livelihoods"])
    rows = []
    for org in range(1, n_orgs + 1):
        sector = sectors[rng.integers(0, 3)]
        mix = rng.dirichlet([2.5, 1.0, 0.6, 0.8] if rng.random() < 0.5 else [0.6, 0.8, 1.2, 1.5])
        scale = np.exp(rng.normal(6.0, 0.9))
        hhi = float(np.sum(mix ** 2))
        admin_share = float(np.clip(rng.normal(0.14, 0.05), 0.03, 0.35))
        equity = float(rng.normal(0.25, 0.2))
        revenue, expenses = np.empty(T), np.empty(T)
        sources = np.empty((T, 4))
        donor_share = float(np.clip(mix.max() * rng.uniform(0.5, 0.9), 0.05, 0.95))
        for t in range(T):
            if t > 0:
                growth = rng.normal(0.03, 0.05 + 0.25 * hhi)
                if rng.random() < 0.12 * donor_share:  # the largest donor leaves
                    growth -= donor_share * rng.uniform(0.5, 1.0)
                    donor_share = float(np.clip(donor_share * rng.uniform(0.2, 0.6), 0.05, 0.95))
                mix = np.clip(mix + rng.normal(0.0, 0.03, 4), 0.001, None)
                mix /= mix.sum()
                scale *= max(1.0 + growth, 0.2)
            sources[t] = scale * mix
            revenue[t] = sources[t].sum()
            lagged = revenue[t - 1] if t > 0 else revenue[t]
            expenses[t] = (0.6 * revenue[t] + 0.4 * lagged) * rng.normal(0.98, 0.03)
        admin = expenses * np.clip(admin_share + rng.normal(0.0, 0.01, T), 0.02, 0.4)
        programme = expenses - admin
        net_assets = np.cumsum(revenue - expenses) + equity * revenue[0]
        reserves = np.maximum(net_assets * rng.uniform(0.3, 0.7), 0.0)
        cash = reserves * rng.uniform(0.3, 0.8) + 0.05 * revenue
        future_min = np.array([programme[t + 1:t + 4].min() if t + 3 < T else np.nan for t in range(T)])
        distress = np.where(np.isnan(future_min), np.nan, (future_min <= 0.8 * programme).astype(float))
        for t in range(T):
            rows.append((org, sector, years[t], *sources[t], revenue[t], expenses[t], programme[t], admin[t],
                         net_assets[t], reserves[t], cash[t], donor_share * revenue[t], distress[t]))
    cols = ["org", "sector", "year", "foreign_grants", "government_grants", "fees", "donations", "total_revenue",
            "expenses", "programme_expenses", "admin_expenses", "net_assets", "reserves", "cash", "largest_donor",
            "distress"]
    df = pd.DataFrame(rows, columns=cols)
    money = cols[3:15]
    df[money] = df[money].round(2)
    return df


def simulate_programme_draws(seed: int = 2026, n_draws: int = 1000, rate: float = 0.03) -> pd.DataFrame:
    """Probabilistic draws of cost (present value, thousand USD per 1,000 households) and effect (households
    per 1,000 lifted above the extreme-poverty line) for four strategies (see the module docstring).

    Columns: draw, strategy, cost, effect."""
    from ..costing import present_value

    if n_draws < 2:
        raise ValueError(f"simulate_programme_draws: n_draws must be ≥ 2, got {n_draws}")
    rng = np.random.default_rng(seed)
    # mean annual cost (thousand USD per 1,000 households) for years 0, 1, 2 and mean effect
    strategies = {
        "status quo": ((0.0, 0.0, 0.0), 0.0),
        "cash transfer": ((180.0, 180.0, 0.0), 60.0),
        "coaching": ((140.0, 40.0, 0.0), 52.0),
        "cash + coaching": ((300.0, 200.0, 20.0), 130.0),
    }
    pv = np.array([present_value(np.array(c), rate) for c, _ in strategies.values()])
    common = rng.normal(0.0, 1.0, n_draws)  # a draw-level shock shared by every strategy (delivery conditions)
    rows = []
    for j, (name, (_, effect)) in enumerate(strategies.items()):
        if pv[j] == 0.0:
            cost = np.zeros(n_draws)
        else:
            cost = rng.gamma(25.0, pv[j] / 25.0, n_draws) * np.exp(0.05 * common)
        eff = effect * (1.0 + 0.15 * common) + rng.normal(0.0, 0.12 * effect + 1e-12, n_draws) if effect else np.zeros(n_draws)
        rows.append(pd.DataFrame({"draw": np.arange(1, n_draws + 1), "strategy": name, "cost": np.round(cost, 3),
                                  "effect": np.round(eff, 3)}))
    return pd.concat(rows, ignore_index=True)
