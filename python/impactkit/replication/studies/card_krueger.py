"""Card & Krueger (1994), Table 3: FTE employment per store before and after New Jersey's minimum wage rise.

Conventions found (see the ``convention`` of each figure and docs in the report):

* Rows 1–2 (cell means): mean of ``fte`` over the stores with ``fte`` observed in that state and wave;
  standard error s/√n (``ik.ols("fte ~ 1", cell, vcov="iid")``). All four reproduce.
* Row 4 (balanced panel, stores with ``fte`` in both waves): C&K report, per state, the mean of the
  within-store change and its s/√n, and for NJ − PA the square root of the sum of the two squared
  standard errors (unpooled variances). That is exactly the HC2 standard error of the coefficient on
  ``nj`` in a regression of the change on ``nj`` (HC2 with one binary regressor = the Welch/Neyman
  variance), and equally the CR2-by-store standard error of ``nj:d`` in the store-wave regression on the
  balanced stores. 2.75 (1.34) reproduces.
* Row 3 (all stores, column NJ − PA): does not reproduce at the printed precision from these data; the
  reasons are written into the figures' ``known_deviation`` (computed live, not typed in).
"""
from __future__ import annotations

from typing import List

import impactkit as ik

from .._catalogue import Figure, Study, register

# Published Table 3 values (Card & Krueger 1994, p. 780), rows 1, 2 and column (iii) of rows 3 and 4.
_CELLS = [  # state, nj, wave label, d, published mean, published SE
    ("PA", 0, "before", 0, 23.33, 1.35),
    ("PA", 0, "after", 1, 21.17, 0.94),
    ("NJ", 1, "before", 0, 20.44, 0.51),
    ("NJ", 1, "after", 1, 21.03, 0.52),
]
_DID_ALL = (2.76, 1.36)
_ROW3_STATES = {"PA": (-2.16, 1.25), "NJ": (0.59, 0.54)}  # row 3, columns (i)-(ii): change in means (SE)
_DID_BALANCED = (2.75, 1.34)
# Where each figure is printed, as far as the project's data README (shared/data/README.md) records it:
# Table 3, FTE employment, by state and wave. (Page and row/column numbers are not in the provenance files.)
_TABLE = "Table 3 (FTE employment)"


def _wide(data):
    """One row per store: FTE before and after, state, change (pandas reshaping only)."""
    w = data.pivot(index="id", columns="d", values="fte").rename(columns={0: "fte_before", 1: "fte_after"})
    w["nj"] = data.groupby("id")["nj"].first()
    w["dfte"] = w["fte_after"] - w["fte_before"]
    return w.reset_index()


def compute(data) -> List[Figure]:
    figures: List[Figure] = []

    # Rows 1-2: the four cell means with s/sqrt(n).
    for state, nj, wave, d, pub_mean, pub_se in _CELLS:
        cell = data[(data["nj"] == nj) & (data["d"] == d)]
        fit = ik.ols("fte ~ 1", cell, vcov="iid")
        where = (f"{state} stores with fte observed in wave {d} ({wave}; n = {fit.nobs} of {len(cell)}, "
                 f"{fit.nobs_missing} missing)")
        figures.append(Figure(f"{state} FTE {wave}: mean", fit.coef["Intercept"], pub_mean, 2,
                              f"mean of fte over {where}; ik.ols('fte ~ 1')",
                              source=f"{_TABLE}: {state}, {wave}"))
        figures.append(Figure(f"{state} FTE {wave}: standard error", fit.se["Intercept"], pub_se, 2,
                              f"s/√n (sample SD with n−1, vcov='iid' on 'fte ~ 1') over {where}",
                              source=f"{_TABLE}: {state}, {wave} (standard error)"))

    # Row 3, column (iii): difference-in-differences on all stores (every store-wave with fte observed).
    all_cr2 = ik.ols("fte ~ nj * d", data, vcov="CR2", cluster="id")
    all_indep = ik.ols("fte ~ nj * d", data, vcov="HC2")  # saturated: HC2 = independent cells, s²/n each
    pa_all = ik.ols("fte ~ d", data[data["nj"] == 0], vcov="CR2", cluster="id")
    nj_all = ik.ols("fte ~ d", data[data["nj"] == 1], vcov="CR2", cluster="id")
    pa_ind = ik.ols("fte ~ d", data[data["nj"] == 0], vcov="HC2")
    nj_ind = ik.ols("fte ~ d", data[data["nj"] == 1], vcov="HC2")
    did_all, se_all = all_cr2.coef["nj:d"], all_cr2.se["nj:d"]
    pa_ch, nj_ch = pa_all.coef["d"], nj_all.coef["d"]
    g = all_cr2.n_clusters.get("id") if isinstance(all_cr2.n_clusters, dict) else None
    sample_all = (f"all {all_cr2.nobs} store-waves with fte observed" + (f" ({g} stores)" if g else ""))
    cr_se = [ik.ols("fte ~ nj * d", data, vcov=k, cluster="id").se["nj:d"] for k in ("CR0", "CR1", "CR2", "CR3")]
    (pa_pub, pa_pub_se), (nj_pub, nj_pub_se) = _ROW3_STATES["PA"], _ROW3_STATES["NJ"]
    dev_est = (
        f"The four cell means reproduce (rows 1-2), and their difference-in-differences is {did_all:.4f} "
        f"(PA change {pa_ch:.4f}, NJ change {nj_ch:.4f}), which rounds to {did_all:.2f}, not {_DID_ALL[0]:.2f}. "
        f"The paper's own row 3 is not consistent with {_DID_ALL[0]:.2f} either: its PA change {pa_pub:.2f} and NJ "
        f"change {nj_pub:.2f} give {nj_pub - pa_pub:.2f}, and none of the store samples we tried on these data "
        "(all stores; balanced panel; temporarily closed stores as zero; either wave restricted to the balanced "
        f"stores) gives {_DID_ALL[0]:.2f}. It is what the separately rounded changes {nj_ch:.2f} and {pa_ch:.2f} "
        f"give ({round(nj_ch, 2) - round(pa_ch, 2):.2f}); we report the "
        "unrounded value.")
    dev_se = (
        f"The published {_DID_ALL[1]:.2f} equals sqrt({pa_pub_se:.2f}² + {nj_pub_se:.2f}²) = "
        f"{(pa_pub_se ** 2 + nj_pub_se ** 2) ** 0.5:.4f}, from the paper's row-3 state SEs. These data give PA "
        f"{pa_all.se['d']:.4f} when the correlation of a store's two waves is allowed for (clustered by store) and "
        f"{pa_ind.se['d']:.4f} for independent waves, and NJ {nj_all.se['d']:.4f} and {nj_ind.se['d']:.4f}: "
        f"neither convention gives NJ {nj_pub_se:.2f}. For the difference-in-differences, clustering by store "
        f"gives {min(cr_se):.4f}-{max(cr_se):.4f} (CR0-CR3) and independent waves give "
        f"{all_indep.se['nj:d']:.4f}; none rounds to {_DID_ALL[1]:.2f}.")
    figures.append(Figure(
        "Difference-in-differences, all stores (NJ - PA change)", did_all, _DID_ALL[0], 2,
        f"coefficient on nj:d in ik.ols('fte ~ nj * d') over {sample_all} = (NJ after - NJ before) - "
        "(PA after - PA before) of the four cell means",
        known_deviation=dev_est, source=f"{_TABLE}: difference-in-differences, all stores"))
    figures.append(Figure(
        "Difference-in-differences, all stores: standard error", se_all, _DID_ALL[1], 2,
        f"cluster-robust by store (CR2, Bell-McCaffrey) SE of nj:d in ik.ols('fte ~ nj * d', cluster='id') over "
        f"{sample_all}, allowing for the correlation of a store's two waves; on the balanced panel this is "
        "exactly C&K's row-4 convention",
        known_deviation=dev_se, source=f"{_TABLE}: difference-in-differences, all stores (standard error)"))

    # Row 4, column (iii): balanced panel of stores with fte observed in both waves.
    wide = _wide(data)
    bal = wide.dropna(subset=["dfte"])
    fit = ik.ols("dfte ~ nj", bal, vcov="HC2")
    n_nj = int((bal["nj"] == 1).sum())
    n_pa = int((bal["nj"] == 0).sum())
    sample_bal = f"balanced panel: {fit.nobs} stores with fte observed in both waves ({n_nj} NJ, {n_pa} PA)"
    figures.append(Figure(
        "Difference-in-differences, balanced panel", fit.coef["nj"], _DID_BALANCED[0], 2,
        f"coefficient on nj in ik.ols('dfte ~ nj') with dfte = fte after - fte before; {sample_bal}; "
        "= mean change NJ - mean change PA",
        source=f"{_TABLE}: difference-in-differences, balanced panel of stores observed in both waves"))
    figures.append(Figure(
        "Difference-in-differences, balanced panel: standard error", fit.se["nj"], _DID_BALANCED[1], 2,
        f"HC2 SE of nj in ik.ols('dfte ~ nj', vcov='HC2') = sqrt(s²_NJ/n_NJ + s²_PA/n_PA) of the changes "
        f"(unpooled, as C&K's row 4: SE of each state's mean change is s/√n, combined in quadrature); {sample_bal}",
        source=f"{_TABLE}: difference-in-differences, balanced panel (standard error)"))
    return figures


STUDY = register(Study(
    key="card_krueger",
    title="Card & Krueger (1994), Table 3: FTE employment, NJ vs PA",
    citation=("Card, D. and Krueger, A. B. (1994). Minimum Wages and Employment: A Case Study of the Fast-Food "
              "Industry in New Jersey and Pennsylvania. American Economic Review 84(4), 772–793, Table 3."),
    dataset="card_krueger",
    compute=compute,
    description=("FTE = full-time + 0.5 × part-time + managers (column fte); d is the survey wave (0 = Feb/Mar "
                 "1992, before; 1 = Nov/Dec 1992, after) and nj the state. As in the paper, FTE at the six "
                 "permanently closed stores is 0 in wave 2 and the four temporarily closed stores are missing in "
                 "wave 2. The balanced panel is the stores with fte observed in both waves."),
), replace=True)
