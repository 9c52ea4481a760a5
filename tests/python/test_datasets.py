"""Shipped datasets: names, shapes, parsing, fresh copies, provenance, errors.

Reference values: row counts from shared/data/README.md (the table of files); SHA-256 checksums in
python/impactkit/datasets/data/PROVENANCE.md were computed from the shared source files when they
were copied. Every numeric assertion states its tolerance; counts are exact.
"""
import hashlib
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import impactkit.datasets as ikd

EXPECTED = {  # name: (rows, a few columns that must be present)
    "lalonde": (445, ["treat", "re78", "re75", "age", "educ"]),
    "card_krueger": (820, ["id", "nj", "d", "fte", "ft", "pt", "mgrs", "status"]),
    "thornton_hiv": (4820, ["villnum", "got", "any", "tinc", "distvct"]),
    "mpdta": (2500, ["year", "countyreal", "lemp", "lpop", "first.treat", "treat"]),
    "lee2008_senate": (1390, ["vote", "margin", "state", "year"]),
    "california_prop99": (1209, ["State", "Year", "PacksPerCapita", "treated"]),
    "cattaneo2": (4642, ["bweight", "mbsmoke", "mmarried", "mage", "medu", "fbaby", "prenatal1"]),
    "uruguay_panes": (1948, ["Income_Centered", "Support", "Participation"]),
    "eusilc": (14827, ["db030", "db040", "rb050", "db090", "eqIncome", "hy070n"]),
    "grosh_targeting_example": (10, ["person", "income", "benefit_s1", "benefit_s4", "poorest20"]),
    "haughton_khandker_examples": (14, ["example", "income"]),
    "freireich_leukemia": (42, ["pair", "weeks", "relapse", "group"]),
    "monitoring_panel": (3470, ["household", "round", "weight", "village", "district", "income", "food_insecure"]),
    "dampack_cdiff_strategies": (11, ["strategy", "cost", "qaly"]),
}


def test_list_datasets_is_exactly_the_shipped_set():
    assert ikd.list_datasets() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_shape_and_columns(name):
    rows, cols = EXPECTED[name]
    df = ikd.load(name)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == rows  # exact, README table
    missing = [c for c in cols if c not in df.columns]
    assert not missing, f"{name}: columns {missing} not found in {list(df.columns)}"


def test_prop99_is_semicolon_separated():
    df = ikd.load("california_prop99")
    assert list(df.columns) == ["State", "Year", "PacksPerCapita", "treated"]
    assert df["State"].nunique() == 39 and df["Year"].nunique() == 31
    assert np.issubdtype(df["PacksPerCapita"].dtype, np.floating)
    # California is the only treated state, from 1989 on
    treated = df[df["treated"] == 1]
    assert set(treated["State"]) == {"California"} and treated["Year"].min() == 1989


def test_missing_values_are_nan():
    ck = ikd.load("card_krueger")
    # wave 1: 2 PA + 10 NJ stores without fte; wave 2: 2 PA + 12 NJ (incl. 4 temporarily closed)
    assert int(ck["fte"].isna().sum()) == 26
    # FTE = full-time + 0.5 part-time + managers wherever all parts are observed (abs tol 1e-12)
    parts = ck["ft"] + 0.5 * ck["pt"] + ck["mgrs"]
    ok = parts.notna()
    assert np.max(np.abs(ck.loc[ok, "fte"] - parts[ok])) <= 1e-12
    assert ck["fte"].notna().equals(ok)


def test_lalonde_groups():
    df = ikd.load("lalonde")
    assert df["treat"].value_counts().to_dict() == {0: 260, 1: 185}


def test_load_returns_fresh_independent_frames():
    a = ikd.load("lalonde")
    b = ikd.load("lalonde")
    assert a is not b
    a.loc[0, "re78"] = -1.0
    a["new"] = 1
    c = ikd.load("lalonde")
    assert c.loc[0, "re78"] == b.loc[0, "re78"] != -1.0
    assert "new" not in c.columns


@pytest.mark.parametrize("bad", ["nope", "LaLonde", "lalonde.csv", "", None, 3])
def test_unknown_name_raises_value_error_listing_valid_names(bad):
    with pytest.raises(ValueError) as exc:
        ikd.load(bad)
    msg = str(exc.value)
    for name in EXPECTED:
        assert name in msg
    with pytest.raises(ValueError):
        ikd.describe(bad)


def _provenance() -> str:
    return resources.files("impactkit.datasets").joinpath("data", "PROVENANCE.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_describe_gives_the_provenance_section(name):
    text = ikd.describe(name)
    rows, _ = EXPECTED[name]
    assert text.startswith(name)
    assert "Source:" in text and "Rows:" in text
    assert f"{rows:,}" in text
    assert ikd._REGISTRY[name].file in text
    # the section is this dataset's only: no other section header leaks in
    assert "\n## " not in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_files_match_provenance_checksums(name):
    text = ikd.describe(name)
    m = re.search(r"SHA-256: `([0-9a-f]{64})`", text)
    assert m, f"no checksum for {name} in PROVENANCE.md"
    data = resources.files("impactkit.datasets").joinpath("data", ikd._REGISTRY[name].file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == m.group(1)


def test_every_data_file_is_registered_and_documented():
    files = {p.name for p in resources.files("impactkit.datasets").joinpath("data").iterdir()
             if p.name.endswith(".csv")}
    assert files == {e.file for e in ikd._REGISTRY.values()}
    prov = _provenance()
    for name in EXPECTED:
        assert re.search(rf"^## {name}$", prov, flags=re.M), f"PROVENANCE.md lacks a section for {name}"


def test_path_points_to_an_existing_file():
    import os
    assert os.path.isfile(ikd.path("mpdta"))
    with pytest.raises(ValueError):
        ikd.path("nope")


def test_lazy_attribute_ik_datasets_in_a_fresh_interpreter():
    # `import impactkit as ik; ik.datasets.load(...)` is the documented entry point; run it in a new
    # interpreter so that no earlier explicit import of impactkit.datasets can mask a broken lazy import.
    code = "import impactkit as ik; df = ik.datasets.load('lalonde'); print(len(df))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "445"
