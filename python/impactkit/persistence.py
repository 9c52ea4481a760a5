"""Persistence of treatment effects across follow-up rounds (``ik.effect_persistence``).

Model (one regression, shared OLS and variance module):
  y_it = α_t + Σ_s δ_s · D_i · 1{t = s} + x_itᵀγ + ε_it,
round intercepts α_t, per-round treatment effects δ_s (treatment × round interactions), optional
controls; the variance is that of ``ik.ols`` (CR1 by ``cluster`` — the unit, so that a unit's rounds are
dependent — HC1 without it, or a survey ``design``).

Decay, from the estimated effects δ̂ = (δ̂_1..δ̂_T) at rounds t_1 < … < t_T:
- "exponential": δ_t = δ_0 · exp(−λ (t − t_1)) fitted to δ̂ by least squares (Gauss–Newton); the
  half-life is ln 2 / λ. Delta method: the fitted θ = (δ_0, λ) solves Jᵀ r = 0 (J = ∂f/∂θ, r = δ̂ − f(θ)),
  so by the implicit-function theorem dθ/dδ̂ = H⁻¹ Jᵀ with H = JᵀJ − Σ_t r_t ∇²f_t, and
  V(θ̂) = (H⁻¹Jᵀ) V(δ̂) (H⁻¹Jᵀ)ᵀ; V(half-life) = (ln 2/λ²)² V(λ̂).
- "ratio": the share of the first effect left in each later round, ρ_t = δ_t/δ_1, with gradient
  (−δ_t/δ_1², 1/δ_1), and the implied constant decay rate −ln(ρ_T)/(t_T − t_1).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from .errors import InvalidInputError
from .results import EstimateResult
from .survey import _column
from .targeting import _indicator

__all__ = ["effect_persistence", "EffectPersistenceResult"]


def _exponential_fit(t: np.ndarray, d: np.ndarray):
    """(δ_0, λ) minimising Σ (d_t − δ_0 e^{−λ(t − t_1)})², and dθ/dd (2 × T)."""
    s = t - t[0]
    pos = d > 0
    if pos.sum() >= 2 and np.all(np.sign(d) == np.sign(d[0])):
        lam, logd0 = -np.polyfit(s, np.log(np.abs(d)), 1)
        theta = np.array([np.sign(d[0]) * np.exp(logd0), lam])
    else:
        theta = np.array([d[0], 0.0])
    def jac_hess(th):
        e = np.exp(-th[1] * s)
        r = d - th[0] * e
        J = np.column_stack([e, -th[0] * s * e])
        # second derivatives of f_t = δ_0 e^{−λ s}: ∂²/∂δ_0∂λ = −s e, ∂²/∂λ² = δ_0 s² e
        c = np.sum(r * -s * e)
        return r, J, J.T @ J - np.array([[0.0, c], [c, np.sum(r * th[0] * s ** 2 * e)]])

    for _ in range(200):
        r, J, H = jac_hess(theta)
        sse = np.sum(r ** 2)
        try:  # Newton on the sum of squares where H is positive definite, else Gauss–Newton
            np.linalg.cholesky(H)
            step = np.linalg.solve(H, J.T @ r)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(J, r, rcond=None)[0]
        k = 1.0
        while k > 1e-10:
            new = theta + k * step
            if np.sum((d - new[0] * np.exp(-new[1] * s)) ** 2) <= sse * (1 + 1e-15):
                break
            k /= 2
        theta = theta + k * step
        if np.all(np.abs(k * step) <= 1e-13 * (1 + np.abs(theta))):
            break
    r, J, H = jac_hess(theta)
    return theta, np.linalg.solve(H, J.T)


class EffectPersistenceResult:
    """Per-round treatment effects and their decay: ``effects`` (an EstimateResult of δ_t),
    ``decay`` (an EstimateResult of the decay parameters with delta-method SEs), ``ratios()``,
    ``summary()``, ``plot()``."""

    def __init__(self, effects, decay, ratios, model, method, rounds, fit):
        self.effects = effects
        self.decay = decay
        self._ratios = ratios
        self.model = model
        self.method = method
        self.rounds = rounds
        self.fit = fit

    def ratios(self) -> pd.DataFrame:
        return self._ratios.copy()

    def summary(self) -> str:
        lines = [f"Persistence of treatment effects ({self.method} decay)", f"Model: {self.model}",
                 f"Variance: {self.effects.vcov_convention}", "Per-round effects:"]
        for r in self.effects.tidy().itertuples():
            lines.append(f"  {r.term:<14} {r.estimate:10.4g}  (SE {r.std_error:.4g})")
        lines.append("Decay (delta-method SEs):")
        for r in self.decay.tidy().itertuples():
            lines.append(f"  {r.term:<14} {r.estimate:10.4g}  (SE {r.std_error:.4g})  [{r.conf_low:.4g}, {r.conf_high:.4g}]")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<EffectPersistenceResult: {len(self.rounds)} rounds, {self.method} decay>"

    def plot(self, ax=None, level: float = 0.95):
        """Per-round effects with intervals and, for exponential decay, the fitted curve."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ci = self.effects.conf_int(level)
        t = np.asarray(self.rounds, dtype=float)
        est = self.effects.coef.to_numpy()
        ax.errorbar(t, est, yerr=[est - ci["conf_low"].to_numpy(), ci["conf_high"].to_numpy() - est], fmt="o", capsize=3)
        if self.method == "exponential":
            g = np.linspace(t[0], t[-1], 100)
            d0, lam = self.decay.coef.iloc[0], self.decay.coef.iloc[1]
            ax.plot(g, d0 * np.exp(-lam * (g - t[0])))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("round")
        ax.set_ylabel("treatment effect")
        return ax


def effect_persistence(data: pd.DataFrame, *, outcome: str, treatment: str, round: str, controls: str = "",
                       cluster=None, weights=None, design=None, vcov: Optional[str] = None,
                       method: str = "exponential") -> EffectPersistenceResult:
    """Per-round treatment effects from one regression and how fast they decay.

    Parameters
    ----------
    outcome : outcome column. treatment : 0/1 treatment column (fixed per unit). round : follow-up round
        column (numeric; each distinct value is a round). controls : extra right-hand-side terms, e.g.
        ``"age + C(region)"``. cluster, weights, design, vcov : as :func:`ik.ols` (cluster by the unit id so
        that a unit's rounds are dependent; CR1 then, HC1 without).
    method : "exponential" (δ_t = δ_0 e^{−λ(t − t_1)}: effect_0, decay_rate λ, half_life ln2/λ) or "ratio"
        (δ_t/δ_1 per later round, and the implied rate −ln(δ_T/δ_1)/(t_T − t_1)). The ratios are in
        ``ratios()`` either way.

    Examples
    --------
    >>> p = ik.effect_persistence(panel, outcome="income", treatment="grant", round="year", cluster="household")
    >>> p.decay.tidy(); p.plot()
    """
    from .regression import ols

    who = "effect_persistence"
    if method not in ("exponential", "ratio"):
        raise InvalidInputError(f"{who}: method must be 'exponential' or 'ratio', got {method!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    if not isinstance(controls, str):
        raise TypeError(f"{who}: controls must be a string of terms such as 'age + C(region)', got {type(controls).__name__}")
    _column(data, outcome, "outcome")
    D = _indicator(data, treatment, "treatment")
    rc = _column(data, round, "round")
    if not pd.api.types.is_numeric_dtype(rc) or pd.api.types.is_bool_dtype(rc):
        raise TypeError(f"{who}: round column {round!r} must be numeric (dtype {rc.dtype})")
    rv = rc.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(rv).all():
        raise InvalidInputError(f"{who}: round column {round!r} has a missing or infinite value")
    rounds = np.unique(rv)
    if len(rounds) < 2:
        raise InvalidInputError(f"{who}: needs at least two rounds, {round!r} has {len(rounds)}")
    names = [f"effect[{r:g}]" for r in rounds]
    cols = {f"_effect_{k}": D * (rv == r) for k, r in enumerate(rounds)}
    for k, r in enumerate(rounds):
        if not (cols[f"_effect_{k}"].any() and ((rv == r) & (D == 0)).any()):
            raise InvalidInputError(f"{who}: round {r:g} needs treated and untreated rows to estimate its effect")
    work = data.assign(**cols)
    rhs = [f"C({round})"] + list(cols) + ([controls.strip()] if controls.strip() else [])
    fml = f"{outcome} ~ " + " + ".join(rhs)
    fit = ols(fml, work, cluster=cluster, weights=weights, design=design, vcov=vcov)
    b, V = fit.coef, fit.vcov
    keys = list(cols)
    missing = [k for k in keys if k not in b.index]
    if missing:
        raise InvalidInputError(f"{who}: the per-round effects are not identified (collinear with the controls)")
    delta = b[keys].to_numpy()
    Vd = V.loc[keys, keys].to_numpy()
    df_eff = fit.df_inference[keys].to_numpy()
    effects = EstimateResult(pd.Series(delta, index=names), pd.DataFrame(Vd, index=names, columns=names),
                             pd.Series(df_eff, index=names, name="df"), nobs=fit.nobs, vcov_type=fit.vcov_type,
                             vcov_convention=fit.vcov_convention)
    # ratios to the first round
    d1 = delta[0]
    if d1 == 0:
        raise InvalidInputError(f"{who}: the first round's effect is exactly 0; decay is not defined")
    G = np.zeros((len(rounds) - 1, len(rounds)))
    G[:, 0] = -delta[1:] / d1 ** 2
    G[np.arange(len(rounds) - 1), np.arange(1, len(rounds))] = 1 / d1
    rho = delta[1:] / d1
    Vr = G @ Vd @ G.T
    ratios = pd.DataFrame({"round": rounds[1:], "ratio": rho, "std_error": np.sqrt(np.diag(Vr))})
    df_min = float(np.min(df_eff))
    if method == "exponential":
        theta, A = _exponential_fit(rounds, delta)
        Vt = A @ Vd @ A.T
        hl = np.log(2) / theta[1] if theta[1] != 0 else np.inf
        g_hl = -np.log(2) / theta[1] ** 2 if theta[1] != 0 else np.nan
        est = np.r_[theta, hl]
        J = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, g_hl]])
        Vall = J @ Vt @ J.T
        terms = ["effect_0", "decay_rate", "half_life"]
        model_decay = f"effect_t = effect_0 * exp(-decay_rate * (t - {rounds[0]:g})), least squares on the per-round effects"
    else:
        if rho[-1] <= 0:
            raise InvalidInputError(f"{who}: the last effect has the opposite sign of (or is 0 against) the first; the implied "
                                    "decay rate ln(ratio) is not defined. Use ratios().")
        span = rounds[-1] - rounds[0]
        rate = -np.log(rho[-1]) / span
        g = np.zeros(len(rounds))
        g[0], g[-1] = 1 / (d1 * span), -1 / (delta[-1] * span)
        est = np.r_[rho[-1], rate]
        J = np.vstack([G[-1], g])
        Vall = J @ Vd @ J.T
        terms = ["ratio_last_first", "decay_rate"]
        model_decay = f"ratio of the round-{rounds[-1]:g} to the round-{rounds[0]:g} effect, rate -ln(ratio)/{span:g}"
    decay = EstimateResult(pd.Series(est, index=terms), pd.DataFrame(Vall, index=terms, columns=terms),
                           pd.Series(np.full(len(terms), df_min), index=terms, name="df"), nobs=fit.nobs,
                           vcov_type=fit.vcov_type, vcov_convention=f"delta method on the per-round effects' {fit.vcov_type} variance")
    model = (f"OLS {outcome} ~ round intercepts + {treatment} x round interactions" + (f" + {controls.strip()}" if controls.strip() else "")
             + f"; decay: {model_decay}")
    return EffectPersistenceResult(effects, decay, ratios, model, method, rounds, fit)
