"""A synthetic monitoring dataset — households followed over rounds of a social programme — and a
results framework for it.

``simulate_monitoring_panel(seed=2026)`` makes the shipped ``monitoring_panel.csv`` (``load("monitoring_panel")``
reads the file; the tests check that the generator still reproduces it). ``monitoring_framework()``
returns its indicator table for :class:`ik.ResultsFramework`.

The design (all numbers invented, chosen to look like a rural/peri-urban programme):

- Sampling: 6 districts (strata) × 10 villages (PSUs) × ``households_per_village`` households drawn
  with equal probability within a village; the weight is (village households in the frame) / (drawn).
- Households: sex of the head (42% female), age band of the head (18–34, 35–59, 60+), any member with
  a disability (17%), rural (65%, by village), number of school-age children (0–4).
- Rounds 0 (baseline, 2022) to 3 (2025). Services from round 1: cash transfer (most households),
  vocational training, clinic outreach (more in rural villages).
- Outcomes: ``school_attendance`` (share of school-age children attending; NaN without children),
  ``any_child_in_school`` (0/1), ``clinic_visits`` (visits in the last year, Poisson), ``income``
  (monthly, log-normal), ``food_insecure`` (0/1, FIES-style). The programme raises attendance and
  income and lowers food insecurity, less for households with a disabled member and for older heads;
  village effects make outcomes clustered.
- Attrition: a household leaves for good between rounds with probability ≈ 4–12%, higher for urban,
  younger heads and lower baseline income (so the balanced panel is selective on observables).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_monitoring_panel", "monitoring_framework"]


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def simulate_monitoring_panel(seed: int = 2026, households_per_village: int = 16) -> pd.DataFrame:
    """The synthetic household panel described in the module docstring (one row per household and
    round observed). Deterministic for a given seed (numpy ``default_rng``); values rounded to 4 decimals."""
    rng = np.random.default_rng(seed)
    rows = []
    hh_id = 0
    for district in range(1, 7):
        for v in range(10):
            village = district * 100 + v
            rural = rng.random() < 0.65
            frame_size = int(rng.integers(80, 400))
            weight = frame_size / households_per_village
            v_effect = rng.normal(0.0, 0.35)
            outreach = rural and rng.random() < 0.7
            for _ in range(households_per_village):
                hh_id += 1
                female = rng.random() < 0.42
                age_band = rng.choice(["18-34", "35-59", "60+"], p=[0.35, 0.45, 0.20])
                disability = rng.random() < 0.17
                children = int(rng.choice(5, p=[0.2, 0.25, 0.3, 0.15, 0.1]))
                base_inc = np.exp(4.6 + 0.25 * (not rural) + 0.05 * district + v_effect - 0.25 * disability + rng.normal(0, 0.45))
                u_att, u_food = rng.normal(0, 0.5), rng.normal(0, 0.6)
                cash = rng.random() < 0.8
                training = rng.random() < (0.35 if age_band != "60+" else 0.1)
                for r in range(4):
                    if r > 0:
                        leave = _expit(-3.2 + 0.7 * (not rural) + 0.4 * (age_band == "18-34") - 0.3 * (np.log(base_inc) - 4.8))
                        if rng.random() < leave:
                            break
                    on = r > 0
                    gain = (0.45 if on else 0.0) * r / 3 * (1 - 0.5 * disability) * (1 - 0.4 * (age_band == "60+"))
                    p_att = _expit(0.4 + 0.3 * (not rural) + v_effect - 0.5 * disability + u_att + 2.0 * gain * cash)
                    attending = rng.binomial(children, p_att) if children else 0
                    income = base_inc * np.exp(0.05 * r + 0.25 * gain * (1 + training) + rng.normal(0, 0.25))
                    p_food = _expit(0.2 - 0.5 * (np.log(income) - 4.8) + 0.5 * disability + u_food - 0.8 * gain * cash)
                    rate = np.exp(0.3 + 0.35 * (outreach and on) + 0.4 * disability + 0.2 * (age_band == "60+"))
                    rows.append((hh_id, r, 2022 + r, district, village, round(weight, 4), "F" if female else "M", age_band,
                                 int(disability), "rural" if rural else "urban", children,
                                 round(attending / children, 4) if children else np.nan, int(attending > 0) if children else np.nan,
                                 int(rng.poisson(rate)), round(float(income), 2), int(rng.random() < p_food),
                                 int(cash and on), int(training and on), int(outreach and on)))
    cols = ["household", "round", "year", "district", "village", "weight", "head_sex", "head_age_band", "disability", "area",
            "children", "school_attendance", "any_child_in_school", "clinic_visits", "income", "food_insecure",
            "cash_transfer", "training", "clinic_outreach"]
    return pd.DataFrame(rows, columns=cols)


def monitoring_framework() -> pd.DataFrame:
    """The results framework of the synthetic programme (baselines: the round-0 sample means rounded as a
    programme would report them; targets for round 3)."""
    return pd.DataFrame([
        dict(id="O1.1", name="School attendance of school-age children", unit="share", direction="increase",
             baseline=0.62, target=0.75, baseline_period=0, target_period=3, column="school_attendance"),
        dict(id="O1.2", name="Households with a child in school", unit="share", direction="increase",
             baseline=0.79, target=0.9, baseline_period=0, target_period=3, column="any_child_in_school"),
        dict(id="O2.1", name="Clinic visits per household per year", unit="visits", direction="increase",
             baseline=1.5, target=2.2, baseline_period=0, target_period=3, column="clinic_visits"),
        dict(id="O3.1", name="Monthly household income", unit="USD", direction="increase",
             baseline=150.0, target=200.0, baseline_period=0, target_period=3, column="income"),
        dict(id="O3.2", name="Food-insecure households", unit="share", direction="decrease",
             baseline=0.57, target=0.4, baseline_period=0, target_period=3, column="food_insecure"),
    ])
