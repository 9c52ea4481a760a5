"""Costing helpers: NPV / IRR against numpy_financial (live, 1e-10), discounting conventions by hand, DALYs
(Murray 1994 closed form) against numerical integration of the defining integral (scipy.integrate.quad,
1e-9), inflation / currency / QALY / ingredients by hand."""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.errors import InvalidInputError

FLOWS = [[-100, 39, 59, 55, 20], [-5000, 1200, 1400, 1600, 1800, 2000], [-1.0, 0.1, 0.1, 1.2]]


@pytest.mark.parametrize("flows", FLOWS)
def test_npv_irr_equal_numpy_financial(flows):
    npf = pytest.importorskip("numpy_financial")
    for r in (0.0, 0.03, 0.1):
        assert ik.npv(r, flows) == pytest.approx(npf.npv(r, flows), rel=1e-12, abs=1e-12)
    assert ik.irr(flows) == pytest.approx(npf.irr(flows), rel=1e-10)
    assert ik.npv(ik.irr(flows), flows) == pytest.approx(0, abs=1e-8)


def test_discounting_conventions():
    t = np.array([0, 1, 2])
    np.testing.assert_allclose(ik.discount_factors(0.05, t), [1, 1 / 1.05, 1 / 1.05 ** 2])
    np.testing.assert_allclose(ik.discount_factors(0.05, t, timing="mid-year"), 1.05 ** -(t + 0.5))
    np.testing.assert_allclose(ik.discount_factors(0.05, t, timing="continuous"), np.exp(-0.05 * t))
    assert ik.benefit_cost_ratio([0, 150, 150], [200, 0, 0], 0.05) == pytest.approx((150 / 1.05 + 150 / 1.05 ** 2) / 200)
    assert ik.qaly([0.8, 0.7], rate=0.035) == pytest.approx(0.8 + 0.7 / 1.035)
    with pytest.raises(InvalidInputError, match="timing"):
        ik.discount_factors(0.05, t, timing="weekly")
    with pytest.raises(InvalidInputError, match="sign change"):
        ik.irr([1, 2, 3])
    with pytest.raises(InvalidInputError, match="rate"):
        ik.npv(np.nan, [1, 2])
    with pytest.raises(InvalidInputError, match="missing"):
        ik.npv(0.03, [1, np.nan])


@pytest.mark.parametrize("age,L,D,r,aw", [(0, 80, 1, 0.03, True), (30, 50, 1, 0.03, True), (5, 2, 0.2, 0.03, True),
                                          (40, 30, 1, 0.03, False), (20, 10, 0.5, 0.0, False), (60, 15, 0.4, 0.0, True)])
def test_daly_closed_form_equals_integral(age, L, D, r, aw):
    quad = pytest.importorskip("scipy.integrate").quad
    C, beta = 0.1658, 0.04
    weight = (lambda x: C * x * np.exp(-beta * x)) if aw else (lambda x: 1.0)
    want = quad(lambda x: D * weight(x) * np.exp(-r * (x - age)), age, age + L, epsabs=1e-13, epsrel=1e-13)[0]
    got = ik.yld(age, L, D, rate=r, age_weighting=aw) if D != 1 else ik.yll(age, L, rate=r, age_weighting=aw)
    assert float(got) == pytest.approx(want, rel=1e-9)


def test_inflation_currency_ingredients():
    cpi = {2015: 100.0, 2020: 110.0, 2023: 132.0}
    np.testing.assert_allclose(ik.inflate([100.0, 50.0], from_year=[2015, 2020], to_year=2023, price_index=cpi), [132.0, 60.0])
    with pytest.raises(InvalidInputError, match="2019"):
        ik.inflate(100.0, from_year=2019, to_year=2023, price_index=cpi)
    np.testing.assert_allclose(ik.convert_currency([3500.0], rate=35.0), [100.0])
    with pytest.raises(InvalidInputError, match="positive"):
        ik.convert_currency([1.0], rate=0)
    df = pd.DataFrame({"item": ["staff", "staff", "fuel"], "site": ["a", "b", "a"], "q": [2.0, 3.0, 10.0], "u": [100.0, 100.0, 1.5]})
    assert ik.ingredients_cost(df, quantity="q", unit_cost="u")["cost"] == 515.0
    by = ik.ingredients_cost(df, quantity="q", unit_cost="u", by="site")
    assert by.to_dict() == {"a": 215.0, "b": 300.0}
    with pytest.raises(InvalidInputError, match="non-negative"):
        ik.ingredients_cost(df.assign(q=-1.0), quantity="q", unit_cost="u")
