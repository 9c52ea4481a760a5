"""Haughton & Khandker (2009), Handbook on Poverty and Inequality: the worked examples of the poverty
indices (four incomes, line 125) and of the Gini coefficient (ten incomes), computed with ``ik.fgt``,
``ik.watts`` and ``ik.gini`` on the shipped ``haughton_khandker_examples`` data (every person weight 1)."""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register


def compute(data) -> List[Figure]:
    pov = data[data["example"] == "poverty"].reset_index(drop=True)
    gin = data[data["example"] == "gini"].reset_index(drop=True)
    where = "incomes 100, 110, 150, 160, poverty line 125 (y < z)"
    figs = [
        Figure("Headcount index", ik.fgt(pov, "income", line=125, alpha=0).coef.iloc[0], 0.5, 1,
               f"ik.fgt(alpha=0): share with income below the line; {where}", source="ch. 4, poverty measures example"),
        Figure("Poverty gap index", ik.fgt(pov, "income", line=125, alpha=1).coef.iloc[0], 0.08, 2,
               f"ik.fgt(alpha=1): mean of (z − y)/z over the poor, zero for others; {where}", source="ch. 4, poverty measures example"),
        Figure("Squared poverty gap (FGT2)", ik.fgt(pov, "income", line=125, alpha=2).coef.iloc[0], 0.0136, 4,
               f"ik.fgt(alpha=2); {where}", source="ch. 4, poverty measures example"),
        Figure("Watts index", ik.watts(pov, "income", line=125).coef.iloc[0], 0.08774, 5,
               f"ik.watts: mean of log(z / y) over the poor, zero for others; {where}", source="ch. 4, poverty measures example"),
        Figure("Gini coefficient", ik.gini(gin, "income").coef.iloc[0], 0.32727, 5,
               "ik.gini (Eurostat / laeken formula, equal weights) of incomes 10, 15, 20, 25, 40, 20, 30, 35, 45, 90",
               source="ch. 6, Gini coefficient example"),
    ]
    return figs


STUDY = register(Study(
    key="haughton_khandker",
    title="Haughton & Khandker (2009), Handbook on Poverty and Inequality: worked examples",
    citation="Haughton, J. and Khandker, S. R. (2009). Handbook on Poverty and Inequality. World Bank.",
    dataset="haughton_khandker_examples",
    compute=compute,
    description="The handbook's small worked examples of the FGT family, the Watts index and the Gini coefficient.",
), replace=True)
