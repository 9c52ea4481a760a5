"""LaLonde (1986) / Dehejia & Wahba (1999): the NSW experimental benchmark."""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register


def compute(data) -> List[Figure]:
    # Regression of 1978 earnings on the treatment dummy: the coefficient is the difference in means
    # and the classical (iid) standard error is that of the pooled-variance two-sample t-test.
    fit = ik.ols("re78 ~ treat", data, vcov="iid")
    n1 = int(data["treat"].sum())
    n0 = int(len(data) - n1)
    sample = f"all {fit.nobs} men of the NSW Dehejia–Wahba subsample ({n1} treated, {n0} controls)"
    return [
        Figure("Impact on 1978 earnings (US$): difference in means",
               fit.coef["treat"], 1794, 0,
               f"coefficient on treat in ik.ols('re78 ~ treat', vcov='iid'), {sample}; equals mean(re78 | treat=1) "
               "minus mean(re78 | treat=0)"),
        Figure("Impact on 1978 earnings: standard error",
               fit.se["treat"], 633, 0,
               "classical OLS standard error (vcov='iid', sigma² = RSS/(n−2)), identical to the pooled-variance "
               f"two-sample t-test; {sample}"),
    ]


STUDY = register(Study(
    key="lalonde",
    title="LaLonde (1986) / Dehejia & Wahba (1999): NSW experiment",
    citation=("LaLonde, R. J. (1986). Evaluating the Econometric Evaluations of Training Programs with "
              "Experimental Data. American Economic Review 76(4), 604–620; Dehejia, R. H. and Wahba, S. (1999). "
              "Causal Effects in Nonexperimental Studies: Reevaluating the Evaluation of Training Programs. "
              "JASA 94(448), 1053–1062 (experimental estimate of the NSW subsample)."),
    dataset="lalonde",
    compute=compute,
    description="The experimental benchmark: randomised treatment, so the difference in mean 1978 earnings "
                "between treated and control men estimates the average effect of NSW training.",
), replace=True)
