"""dampack vignette "Basic Cost Effectiveness Analysis": the ICER table of 11 C. difficile strategies.

``ik.cea`` on the shipped mean costs and QALYs (``dampack_cdiff_strategies``) re-computes the frontier that
dampack's ``calculate_icers`` printed: six strategies on the frontier with their ICERs, one extendedly and
four strongly dominated.
"""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register

_SOURCE = "vignette 'Basic Cost Effectiveness Analysis', ICER table (cdiff_icers.csv)"
# ICER (US$ per QALY) of each frontier strategy against the previous one, as printed by calculate_icers
_PUBLISHED_ICERS = {"s27": 2769.85, "s33": 4065.03, "s31": 5056.22, "s43": 8504.22, "s44": 38362.65}


def compute(data) -> List[Figure]:
    t = ik.cea(data, cost="cost", effect="qaly", strategy="strategy").table().set_index("strategy")
    figures = [Figure(f"ICER of {s} (US$ per QALY)", t.loc[s, "icer"], pub, 2,
                      "ik.cea frontier: strongly (D) and extendedly (ED) dominated strategies removed; ICER against the "
                      "previous frontier strategy", source=f"{_SOURCE}, row {s}")
               for s, pub in _PUBLISHED_ICERS.items()]
    for status, pub, words in (("ND", 6, "on the frontier"), ("ED", 1, "extendedly dominated"), ("D", 4, "strongly dominated")):
        figures.append(Figure(f"strategies {words}", int((t["status"] == status).sum()), pub, 0,
                              f"ik.cea status {status}", source=f"{_SOURCE}, Status column"))
    return figures


STUDY = register(Study(
    key="dampack_cdiff_icers",
    title="dampack (R) vignette: ICER table of C. difficile strategies",
    citation=("Alarid-Escudero, F., Enns, E., Knowlton, G. and the DARTH team. dampack: Decision-Analytic Modeling "
              "Package, vignette 'Basic Cost Effectiveness Analysis' (data: Rajasingham et al. 2020, Clin Infect Dis 70(5))."),
    dataset="dampack_cdiff_strategies",
    compute=compute,
    description="Cost-effectiveness frontier of 11 strategies: strong and extended dominance and the ICERs along the "
                "frontier, as printed by dampack's calculate_icers.",
), replace=True)
