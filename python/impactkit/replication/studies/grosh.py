"""Grosh et al. (2022), Revisiting Targeting, ch. 7: the ten-person example of targeting errors.

Ten people with incomes 6 … 100, a poverty line of 20 (four poor people) and a budget of 30 spent in
four ways. Every figure is computed by ``ik.targeting`` on the shipped ``grosh_targeting_example``
data: the exclusion error (share of the target group not reached), the inclusion error as Grosh et al.
define it (share of beneficiaries outside the target group: ``inclusion_error_beneficiaries``), and the
money-metric poverty gap closed per unit of budget; ``ik.gini`` gives the fall of the Gini coefficient.
"""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register

_SOURCE = "ch. 7, ten-person example"


def _fit(data, scenario: str, target):
    frame = data.assign(benefit=data[f"benefit_{scenario}"], beneficiary=(data[f"benefit_{scenario}"] > 0).astype(int))
    return ik.targeting(frame, welfare="income", beneficiary="beneficiary", target=target, benefit="benefit", incidence=None)


def compute(data) -> List[Figure]:
    figures: List[Figure] = []
    line = ik.poverty_line(20)
    for s, who in (("s1", "persons 1-2"), ("s2", "persons 2-3"), ("s3", "persons 3-4")):
        r = _fit(data, s, line)
        figures.append(Figure(f"{s.upper()} (15 each to {who}), poverty line 20: exclusion error (%)",
                              100 * r.coef["exclusion_error"], 50, 0,
                              "ik.targeting exclusion_error: share of people with income < 20 receiving nothing",
                              source=f"{_SOURCE}, scenario {s.upper()} against the poverty line"))
        figures.append(Figure(f"{s.upper()} (15 each to {who}), poverty line 20: inclusion error (%)",
                              100 * r.coef["inclusion_error_beneficiaries"], 0, 0,
                              "ik.targeting inclusion_error_beneficiaries: share of beneficiaries with income ≥ 20",
                              source=f"{_SOURCE}, scenario {s.upper()} against the poverty line"))
    for s, who, pub in (("s2", "persons 2-3", 50), ("s3", "persons 3-4", 100)):
        r = _fit(data, s, "poorest20")
        for metric, label in (("exclusion_error", "exclusion error"), ("inclusion_error_beneficiaries", "inclusion error")):
            figures.append(Figure(f"{s.upper()} (15 each to {who}), poorest 20%: {label} (%)", 100 * r.coef[metric], pub, 0,
                                  f"ik.targeting {metric} with the target group the two poorest persons (column poorest20)",
                                  source=f"{_SOURCE}, scenario {s.upper()} against the poorest 20%"))
    for s, who, pub in (("s2", "15 each to persons 2-3", 0.70), ("s4", "3 to everyone", 0.40)):
        r = _fit(data, s, line)
        figures.append(Figure(f"{s.upper()} ({who}): poverty-gap reduction per unit of budget",
                              r.coef["poverty_gap_reduction_per_budget"], pub, 2,
                              "ik.targeting poverty_gap_reduction_per_budget: [Σ(20 − y)₊ − Σ(20 − y − b)₊] / Σ b",
                              source=f"{_SOURCE}, scenario {s.upper()}"))
    before = ik.gini(data, "income").coef.iloc[0]
    for s, who, pub in (("s2", "15 each to persons 2-3", 18), ("s4", "3 to everyone", 9)):
        after = ik.gini(data.assign(income_after=data["income"] + data[f"benefit_{s}"]), "income_after").coef.iloc[0]
        figures.append(Figure(f"{s.upper()} ({who}): fall of the Gini coefficient (%)", 100 * (1 - after / before), pub, 0,
                              f"ik.gini of income + benefit against ik.gini of income ({before:.4f}): 100·(1 − after/before); "
                              "the source says 'about' this figure",
                              source=f"{_SOURCE}, scenario {s.upper()}"))
    return figures


STUDY = register(Study(
    key="grosh_targeting",
    title="Grosh et al. (2022), Revisiting Targeting, ch. 7: ten-person targeting example",
    citation=("Grosh, M., Leite, P., Wai-Poi, M. and Tesliuc, E. (eds.) (2022). Revisiting Targeting in Social "
              "Assistance: A New Look at Old Dilemmas. World Bank, chapter 7."),
    dataset="grosh_targeting_example",
    compute=compute,
    description="Exclusion and inclusion errors of four ways to spend a budget of 30 on ten people, against a "
                "poverty line of 20 and against the poorest 20%, and the poverty gap each closes per unit of budget.",
), replace=True)
