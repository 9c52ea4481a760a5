"""Thornton (2008): cash incentives to learn HIV test results in Malawi."""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register


def compute(data) -> List[Figure]:
    # People offered no incentive, with the outcome observed: share who went to learn their result.
    no_incentive = data[data["any"] == 0]
    share = ik.ols("got ~ 1", no_incentive, vcov="iid")
    # Linear probability model of learning the result on receiving any incentive.
    lpm = ik.ols("got ~ any", data, vcov="HC1")
    return [
        Figure("Learned HIV result, no-incentive group (%)",
               100.0 * share.coef["Intercept"], 34, 0,
               f"100 × mean of got among respondents with any = 0 and got observed (n = {share.nobs}; "
               f"{share.nobs_missing} with got missing dropped); ik.ols('got ~ 1')"),
        Figure("Any incentive: effect on learning (OLS of got on any)",
               lpm.coef["any"], 0.45, 2,
               f"coefficient on any in ik.ols('got ~ any'), linear probability model, no controls, "
               f"n = {lpm.nobs} respondents with got and any observed ({lpm.nobs_missing} rows dropped)"),
    ]


STUDY = register(Study(
    key="thornton",
    title="Thornton (2008): demand for learning HIV status",
    citation=("Thornton, R. L. (2008). The Demand for, and Impact of, Learning HIV Status. American Economic "
              "Review 98(5), 1829–1863."),
    dataset="thornton_hiv",
    compute=compute,
    description="Randomised cash incentives to collect HIV test results in rural Malawi: about a third of those "
                "offered nothing learned their result, and any incentive raised that share by about 45 "
                "percentage points.",
), replace=True)
