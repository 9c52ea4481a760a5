"""Freireich et al. (1963), 6-MP in acute leukaemia: the textbook survival analysis of the remission
data (Kleinbaum & Klein 2012, chapters 2–3; Venables & Ripley 2002, §13.3), recomputed with
``ik.kaplan_meier``, ``ik.logrank`` and ``ik.coxph`` on the shipped ``freireich_leukemia`` data.
Services and programmes "relapse" (close, stop) too: this is the worked example the sustainability
tools are checked against."""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register

_KK2 = "Kleinbaum & Klein (2012), ch. 2, KM estimates for the remission data"


def compute(data) -> List[Figure]:
    km = ik.kaplan_meier(data, time="weeks", event="relapse", by="group")
    at = km.survival_at([6, 7, 10, 13, 16, 22, 23])
    mp = at[at["group"] == "6-MP"].reset_index(drop=True)
    figs = [Figure(f"6-MP group: S({t:g} weeks)", s, pub, 4,
                   "ik.kaplan_meier: product-limit estimate, ties counted as events before censorings at the same time",
                   source=_KK2 + ", group 1 (6-MP)")
            for t, s, pub in zip(mp["time"], mp["survival"], [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482])]
    med = km.median().set_index("group")["estimate"]
    figs += [
        Figure("Median remission, 6-MP (weeks)", med["6-MP"], 23, 0, "ik.kaplan_meier(...).median(): first time with S ≤ 0.5",
               source=_KK2),
        Figure("Median remission, placebo (weeks)", med["placebo"], 8, 0, "ik.kaplan_meier(...).median(): first time with S ≤ 0.5",
               source=_KK2),
        Figure("Log-rank chi-square, 6-MP vs placebo", ik.logrank(data, time="weeks", event="relapse", group="group").statistic,
               16.793, 3, "ik.logrank (rho = 0): (O − E)²/V on 1 df", source="Kleinbaum & Klein (2012), ch. 2, log-rank test for the remission data"),
    ]
    d = data.assign(placebo=(data["group"] == "placebo").astype(float))
    breslow = ik.coxph("placebo", d, time="weeks", event="relapse", ties="breslow")
    efron = ik.coxph("placebo", d, time="weeks", event="relapse", ties="efron")
    kk3 = "Kleinbaum & Klein (2012), ch. 3, Cox model with Rx only (Stata output, Breslow ties)"
    vr = "Venables & Ripley (2002), MASS 4th ed., §13.3, coxph(Surv(time, cens) ~ treat, data = gehan)"
    figs += [
        Figure("Cox (Breslow ties): coefficient of placebo", breslow.coef["placebo"], 1.509, 3,
               "ik.coxph(ties='breslow'), model-based variance", source=kk3),
        Figure("Cox (Breslow ties): standard error", breslow.se["placebo"], 0.410, 3, "ik.coxph(ties='breslow'), inverse information",
               source=kk3),
        Figure("Cox (Breslow ties): hazard ratio", breslow.hazard_ratios()["hazard_ratio"].iloc[0], 4.523, 3, "exp(coefficient)", source=kk3),
        Figure("Cox (Efron ties): coefficient of placebo", efron.coef["placebo"], 1.57, 2, "ik.coxph(ties='efron'), R's default",
               source=vr),
        Figure("Cox (Efron ties): hazard ratio", efron.hazard_ratios()["hazard_ratio"].iloc[0], 4.82, 2, "exp(coefficient)", source=vr),
        Figure("Cox (Efron ties): standard error", efron.se["placebo"], 0.412, 3, "ik.coxph(ties='efron'), inverse information",
               source=vr),
    ]
    return figs


STUDY = register(Study(
    key="freireich",
    title="Freireich et al. (1963), 6-MP and remission in acute leukaemia: survival analysis",
    citation="Freireich, E. J. et al. (1963). The effect of 6-mercaptopurine on the duration of steroid-induced remissions "
             "in acute leukemia. Blood 21, 699–716. Figures from Kleinbaum, D. G. and Klein, M. (2012). Survival Analysis: "
             "A Self-Learning Text, 3rd ed., Springer; and Venables, W. N. and Ripley, B. D. (2002). Modern Applied "
             "Statistics with S, 4th ed., Springer.",
    dataset="freireich_leukemia",
    compute=compute,
    description="Kaplan–Meier curve and medians, the log-rank test and the Cox model of the 6-MP remission data.",
), replace=True)
