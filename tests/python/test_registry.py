"""ik.registry_overlap against a brute-force count with Python sets (exact counts; no tolerance), and
its handling of unknown and duplicate keys."""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik


def _data(seed=0):
    rng = np.random.default_rng(seed)
    n = 500
    reg = pd.DataFrame({"hh": rng.permutation(np.arange(1000, 1000 + n)), "eligible": rng.random(n) < 0.4,
                        "district": rng.choice(["north", "south", "east"], n)})
    a = pd.DataFrame({"hh": rng.choice(reg.hh, 120, replace=False)})
    b = pd.DataFrame({"hh": np.concatenate([rng.choice(reg.hh, 90, replace=False), [5, 6]])})  # 2 unknown keys
    return reg, {"NGO A": a, "NGO B": b}


def test_counts_equal_set_arithmetic():
    reg, rosters = _data()
    with pytest.warns(ik.ImpactkitWarning, match="not in the registry"):
        r = ik.registry_overlap(reg, rosters, key="hh", eligible="eligible", by="district")
    t = r.table()
    A, B = set(rosters["NGO A"].hh), set(rosters["NGO B"].hh) & set(reg.hh)
    for district in ["east", "north", "south"]:
        part = reg[reg.district == district]
        E, I = set(part.hh[part.eligible]), set(part.hh[~part.eligible])
        for name, S in (("NGO A", A), ("NGO B", B), ("any programme", A | B)):
            row = t[(t.programme == name) & (t.district == district)].iloc[0]
            assert row.eligible == len(E)
            assert row.eligible_served == len(E & S) and row.eligible_unserved == len(E - S)
            assert row.ineligible_served == len(I & S)
            assert row.served_by_several == len(S & A & B & (E | I))
            assert row.coverage == pytest.approx(len(E & S) / len(E), abs=0)
            assert row.leakage == pytest.approx(len(I & S) / len(S & (E | I)), abs=0)
    assert list(r.unknown_keys["NGO B"]) == [5, 6]
    assert "NGO A" not in r.unknown_keys
    assert "not in the registry" in r.summary()


def test_duplicates_and_bad_input():
    reg, rosters = _data(1)
    rosters = {"A": pd.concat([rosters["NGO A"], rosters["NGO A"].head(3)])}
    r = ik.registry_overlap(reg, rosters, key="hh", eligible="eligible")
    assert len(r.duplicate_keys["A"]) == 3
    assert r.table().iloc[0].served == 120
    with pytest.raises(ik.InvalidInputError, match="more than once"):
        ik.registry_overlap(pd.concat([reg, reg.head(1)]), rosters, key="hh", eligible="eligible")
    with pytest.raises(ik.InvalidInputError, match="unknown column"):
        ik.registry_overlap(reg, rosters, key="id", eligible="eligible")
    with pytest.raises(ik.InvalidInputError, match="boolean or 0/1"):
        ik.registry_overlap(reg.assign(eligible=2), rosters, key="hh", eligible="eligible")
    with pytest.raises(TypeError, match="mapping"):
        ik.registry_overlap(reg, [], key="hh", eligible="eligible")
    before = reg.copy()
    ik.registry_overlap(reg, {"A": list(reg.hh[:10])}, key="hh", eligible="eligible")
    pd.testing.assert_frame_equal(reg, before)
