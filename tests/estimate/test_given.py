"""Given coefficients: a model estimated once is applied without estimation, exactly."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.errors import InputError
from needsmodel.estimate.given import SMEARING_TERM, apply_units, read_coefficients

BASE = """[data]
units = "school_districts.csv"
id = "district"
{persons}
[model]
target = "{target}"
indicators = {indicators}
method = "{method}"
{extra}
[allocation]
budget = 130_000_000
current = "budget_current"
round_to = 1000
max_loss_pct = 5
max_gain_pct = 10

[output]
dir = "out"
"""
UNIT = '["parents_low_education", "parents_outside_labour_market", "single_parent"]'
PERSON = '["parents_education", "single_parent", "income_quartile"]'


def _folder(tmp_path):
    src = nm.datasets.sample_dir()
    for name in ("school_districts.csv", "pupils.csv"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def _config(folder, name, **kw):
    text = BASE.format(**{"persons": "", "extra": 'exposure = "pupils"', **kw})
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


CASES = {
    "wls": {"target": "special_ed_cost", "indicators": UNIT, "method": "wls"},
    "loglinear": {"target": "special_ed_cost", "indicators": UNIT, "method": "loglinear"},
    "gamma": {"target": "special_ed_cost", "indicators": UNIT, "method": "gamma"},
    "person_logit": {
        "target": "special_ed",
        "indicators": PERSON,
        "method": "logit",
        "persons": 'persons = "pupils.csv"\nunit_key = "district"',
        "extra": 'exposure = "pupils"\ncategorical = ["income_quartile"]\n'
        'reference = { parents_education = "long_higher", income_quartile = 4 }',
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_runs_coefficients_reproduce_its_need_and_allocation(tmp_path, case):
    folder = _folder(tmp_path)
    kw = CASES[case]
    est = _config(folder, "est.toml", **kw)
    assert main(["run", str(est), "--out", str(folder / "est"), "-q"]) == 0
    shutil.copy(folder / "est" / "coefficients.csv", folder / "model_2025.csv")
    extra = kw.get("extra", 'exposure = "pupils"') + '\ncoefficients = "model_2025.csv"'
    given = _config(folder, "given.toml", **{**kw, "extra": extra})
    assert main(["run", str(given), "--out", str(folder / "app"), "-q"]) == 0
    a = pd.read_csv(folder / "est" / "allocation_keys.csv").set_index("unit")
    b = pd.read_csv(folder / "app" / "allocation_keys.csv").set_index("unit")
    np.testing.assert_allclose(b["need"], a["need"], rtol=1e-9)
    assert (a["allocation"] == b["allocation"]).all()
    if case == "loglinear":
        assert SMEARING_TERM in set(pd.read_csv(folder / "model_2025.csv")["term"])


def test_next_years_data_without_costs_runs_without_estimation(tmp_path):
    folder = _folder(tmp_path)
    est = _config(folder, "est.toml", **CASES["wls"])
    assert main(["run", str(est), "--out", str(folder / "est"), "-q"]) == 0
    shutil.copy(folder / "est" / "coefficients.csv", folder / "model_2025.csv")
    panel = pd.read_csv(nm.datasets.sample_dir() / "school_districts_panel.csv")
    nxt = panel[panel["year"] == panel["year"].max()].drop(columns=["year", "special_ed_cost"])
    nxt.to_csv(folder / "next.csv", index=False)
    text = (folder / "est.toml").read_text().replace("school_districts.csv", "next.csv")
    text = text.replace('method = "wls"', 'method = "wls"\ncoefficients = "model_2025.csv"')
    text = text.replace("budget = 130_000_000", "budget = 140_000_000")  # the 2025 frame
    (folder / "next.toml").write_text(text)
    result = nm.run(folder / "next.toml")
    assert result.results.extras["given"].endswith("model_2025.csv")
    assert result.results.observed.isna().all()
    assert int(result.allocation.table["allocation"].sum()) == 140_000_000
    coef = pd.read_csv(folder / "model_2025.csv").set_index("term")["estimate"]
    units = nxt.set_index("district")
    x = units[["parents_low_education", "parents_outside_labour_market", "single_parent"]]
    expected = units["pupils"] * (coef["Intercept"] + x @ coef[x.columns])
    np.testing.assert_allclose(result.results.need, expected.loc[result.results.need.index])


def test_parametric_intervals_from_a_given_covariance(tmp_path):
    folder = _folder(tmp_path)
    est = nm.run(_config(folder, "est.toml", **CASES["wls"]))
    out = folder / "est"
    est.write(out)
    given = read_coefficients(out / "coefficients.csv", out / "coefficients_cov.csv")
    units = est.units
    res = apply_units(est.results.spec, given, units)
    np.testing.assert_allclose(res.cov_params, est.results.cov_params, rtol=1e-10)
    a = nm.key_uncertainty(est.results, est.allocation, method="parametric", replicates=300, seed=1)
    b = nm.key_uncertainty(res, est.allocation, method="parametric", replicates=300, seed=1)
    np.testing.assert_allclose(a.table["share_low"], b.table["share_low"], rtol=1e-8)


def test_mismatches_are_refused_with_the_term_named(tmp_path):
    folder = _folder(tmp_path)
    units = nm.datasets.load_sample()
    spec = nm.NeedSpec("special_ed_cost", ["parents_low_education", "single_parent"],
                       exposure="pupils")  # fmt: skip
    clean = nm.estimate.prepare_units(spec, units, id="district")
    table = pd.DataFrame({"term": ["Intercept", "parents_low_education", "single_parent"],
                          "estimate": [3000.0, 20000.0, 12000.0]})  # fmt: skip
    cases = {
        "no 'Intercept' term": table.iloc[1:],
        "no coefficient for indicator 'single_parent'": table.iloc[:2],
        "term(s) 'low_income' match no indicator": pd.concat(
            [table, pd.DataFrame({"term": ["low_income"], "estimate": [1.0]})]
        ),
    }
    for message, frame in cases.items():
        frame.to_csv(folder / "c.csv", index=False)
        with pytest.raises(InputError, match=re.escape(message)):
            apply_units(spec, read_coefficients(folder / "c.csv"), clean)
    # a level the coefficients never saw
    pupils = nm.datasets.load_sample_pupils()
    pspec = nm.NeedSpec("special_ed", ["background"], method="logit", unit_key="district",
                        reference={"background": "danish"})  # fmt: skip
    pd.DataFrame({"term": ["Intercept", "background[immigrant]"], "estimate": [-2.0, 0.1]}).to_csv(
        folder / "p.csv", index=False
    )
    from needsmodel.estimate.given import apply_persons

    with pytest.raises(InputError, match="level\\(s\\) 'descendant' of 'background'"):
        apply_persons(
            pspec, read_coefficients(folder / "p.csv"), pupils, units.set_index("district")
        )
