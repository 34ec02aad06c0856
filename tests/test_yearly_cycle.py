"""The municipality's yearly cycle through the command line: estimate, freeze, apply, re-test.

Year 1 estimates the sample model and writes ``coefficients.csv``; years 2 and 3
apply it to data without costs (next year's costs are not known when its
budget is set); year 3 with its costs re-tests the frozen model. The re-test's
numbers are checked against an independent statsmodels refit.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS
from scipy import stats

import needsmodel as nm
from needsmodel.cli import main

_APPLY = """
[data]
units = "{units}"
id = "district"
label = "name"
dictionary = "dictionary.csv"

[model]
{target}exposure = "pupils"
indicators = ["parents_low_education", "parents_outside_labour_market", "single_parent"]
method = "{method}"
coefficients = "{coefficients}"

[allocation]
budget = 130_000_000
current = "budget_current"
round_to = 1000
max_loss_pct = 5

[output]
lang = "da"
"""


def _write(folder: Path, name: str, **values: str) -> Path:
    values.setdefault("target", "")
    values.setdefault("method", "wls")
    path = folder / name
    path.write_text(_APPLY.format(**values), encoding="utf-8")
    return path


def _fit_stats(out: Path) -> dict[str, str]:
    table = pd.read_csv(out / "model_fit.csv", dtype=str)
    return dict(zip(table["statistic"], table["value"], strict=True))


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Year 1 estimated; next year's table without costs and one with an empty cost column."""
    folder = tmp_path_factory.mktemp("cycle")
    src = nm.datasets.sample_dir()
    for name in ("school_districts.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, folder / name)
    assert (
        main(["run", str(folder / "school_districts.toml"), "--out", str(folder / "y1"), "-q"]) == 0
    )
    units = pd.read_csv(folder / "school_districts.csv", dtype={"district": str})
    nxt = units.drop(columns=["special_ed_cost"])
    nxt["pupils"] = (nxt["pupils"] * 1.03).round()  # next year's pupils
    nxt.to_csv(folder / "y2.csv", index=False)
    units.assign(special_ed_cost=np.nan).to_csv(folder / "y3_empty.csv", index=False)
    return folder


def _hand_need(coefficients: Path, units: pd.DataFrame) -> pd.Series:
    c = pd.read_csv(coefficients).set_index("term")["estimate"]
    rate = c["Intercept"] + sum(c[x] * units[x] for x in SAMPLE_INDICATORS)
    return rate * units["pupils"]


@pytest.mark.parametrize(
    ("units", "target"),
    [("y2.csv", ""), ("y2.csv", 'target = "special_ed_cost"\n'), ("y3_empty.csv", "")],
)
def test_next_year_without_costs(cycle, units, target, capsys):
    cfg = _write(
        cycle, "apply.toml", units=units, target=target, coefficients="y1/coefficients.csv"
    )
    assert main(["validate", str(cfg)]) == 0
    out = cycle / f"apply_{units}_{bool(target)}"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    console = capsys.readouterr().out
    assert "koefficienter givet i coefficients.csv" in console
    assert "school_districts.toml" in console  # the run that estimated them
    assert "R²" not in console and "RMSE" not in console
    for name in ("allocation_keys.xlsx", "report.html", "coefficients.csv", "model_fit.csv"):
        assert (out / name).is_file()
    # the frozen file is carried unchanged
    assert (out / "coefficients.csv").read_bytes() == (
        cycle / "y1" / "coefficients.csv"
    ).read_bytes()
    # need per unit = the hand computation from the coefficients
    table = pd.read_csv(cycle / units, dtype={"district": str}).set_index("district")
    keys = pd.read_csv(out / "allocation_keys.csv", dtype={"unit": str}).set_index("unit")
    hand = _hand_need(cycle / "y1" / "coefficients.csv", table)
    np.testing.assert_allclose(keys["need"], hand.reindex(keys.index), rtol=0, atol=0.006)  # øre
    assert keys["allocation"].sum() == 130_000_000
    fit = _fit_stats(out)
    assert fit["model_origin"] == "given"
    assert not {"r2_need", "rmse", "cv_rmse", "r2"} & set(fit)
    assert fit["given_estimated_config"] == "school_districts.toml"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "R² (udgiftsbehov)" not in report and "Årets data indeholder ingen udgifter" in report
    assert "signifikant" not in report  # nothing was estimated, so nothing is tested


def test_retest_when_the_costs_arrive_matches_statsmodels(cycle):
    units = pd.read_csv(cycle / "school_districts.csv", dtype={"district": str})
    # year 3: costs 4 % higher, single parents 60,000 kr per pupil more costly
    units["special_ed_cost"] = (
        units["special_ed_cost"] * 1.04 + 60_000 * units["pupils"] * units["single_parent"]
    ).round()
    units.to_csv(cycle / "y3.csv", index=False)
    cfg = _write(
        cycle,
        "y3.toml",
        units="y3.csv",
        target='target = "special_ed_cost"\n',
        coefficients="y1/coefficients.csv",
    )
    out = cycle / "y3"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    fit = _fit_stats(out)

    # independent: statsmodels WLS per pupil, HC3, as the sample model
    y = units["special_ed_cost"] / units["pupils"]
    x = sm.add_constant(units[SAMPLE_INDICATORS]).rename(columns={"const": "Intercept"})
    refit = sm.WLS(y, x, weights=units["pupils"]).fit(cov_type="HC3")
    frozen = pd.read_csv(cycle / "y1" / "coefficients.csv").set_index("term")
    terms = list(x.columns)
    d = refit.params[terms].to_numpy() - frozen.loc[terms, "estimate"].to_numpy()
    v = refit.cov_params().loc[terms, terms].to_numpy() + np.diag(
        frozen.loc[terms, "std_error"].to_numpy() ** 2
    )
    wald = float(d @ np.linalg.solve(v, d))
    assert float(fit["retest_wald"]) == pytest.approx(wald, rel=1e-8)
    assert float(fit["retest_wald_p"]) == pytest.approx(stats.chi2.sf(wald, 4), rel=1e-8)
    assert fit["retest_cov_basis"] == "standard errors"

    cost = units["special_ed_cost"].to_numpy(float)
    need = _hand_need(cycle / "y1" / "coefficients.csv", units).to_numpy()
    scaled = need * cost.sum() / need.sum()
    assert float(fit["retest_frozen_rmse"]) == pytest.approx(
        np.sqrt(np.mean((cost - scaled) ** 2)), rel=1e-9
    )
    assert float(fit["retest_frozen_rmse_unscaled"]) == pytest.approx(
        np.sqrt(np.mean((cost - need) ** 2)), rel=1e-9
    )
    e = units["pupils"].to_numpy(float)
    loo = e * (cost.sum() - cost) / (e.sum() - e)
    assert float(fit["retest_split_rmse"]) == pytest.approx(
        np.sqrt(np.mean((cost - loo) ** 2)), rel=1e-9
    )
    assert float(fit["retest_refit_rmse"]) == pytest.approx(
        np.sqrt(np.mean((cost - refit.fittedvalues * e) ** 2)), rel=1e-8
    )
    # the changed criterion is named, the verdict follows from the test
    terms_table = pd.read_csv(out / "retest_terms.csv")
    assert terms_table["term"].iloc[0] == "single_parent"
    assert fit["retest_verdict"] == ("re-estimate" if stats.chi2.sf(wald, 4) < 0.05 else "keep")
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Gentest af den fastholdte model" in report and "Genestimér modellen" in report
    # the allocation still uses the frozen coefficients
    keys = pd.read_csv(out / "allocation_keys.csv", dtype={"unit": str}).set_index("unit")
    np.testing.assert_allclose(
        keys["need"], pd.Series(need, index=units["district"]).reindex(keys.index), atol=0.006
    )


def test_same_costs_keep_the_model(cycle, capsys):
    cfg = _write(
        cycle,
        "same.toml",
        units="school_districts.csv",
        target='target = "special_ed_cost"\n',
        coefficients="y1/coefficients.csv",
    )
    assert main(["run", str(cfg), "--out", str(cycle / "same")]) == 0
    assert "Behold modellen" in capsys.readouterr().out
    assert _fit_stats(cycle / "same")["retest_verdict"] == "keep"


@pytest.mark.parametrize(("method", "cov"), [("loglinear", "HC3"), ("gamma", "HC0")])
def test_other_methods_apply_to_data_without_costs(cycle, method, cov):
    text = (cycle / "school_districts.toml").read_text(encoding="utf-8")
    text = text.replace('method = "wls"', f'method = "{method}"').replace(
        'cov = "HC3"', f'cov = "{cov}"'
    )
    text = re.sub(r"\[uncertainty\][^\[]*", "", text)
    (cycle / f"{method}.toml").write_text(text, encoding="utf-8")
    assert main(["run", str(cycle / f"{method}.toml"), "--out", str(cycle / method), "-q"]) == 0
    cfg = _write(
        cycle,
        f"{method}_2.toml",
        units="y2.csv",
        method=method,
        coefficients=f"{method}/coefficients.csv",
    )
    assert main(["validate", str(cfg)]) == 0
    assert main(["run", str(cfg), "--out", str(cycle / f"{method}_2"), "-q"]) == 0
    assert (cycle / f"{method}_2" / "coefficients.csv").read_bytes() == (
        cycle / method / "coefficients.csv"
    ).read_bytes()
    assert "r2_need" not in _fit_stats(cycle / f"{method}_2")


def test_person_level_logit_on_next_years_persons(tmp_path):
    src = nm.datasets.sample_dir()
    for name in (
        "special_education_register.toml",
        "school_districts.csv",
        "dictionary.csv",
        "pupils.parquet",
    ):
        shutil.copy(src / name, tmp_path / name)
    cfg1 = tmp_path / "special_education_register.toml"
    assert main(["run", str(cfg1), "--out", str(tmp_path / "y1"), "-q"]) == 0
    pupils = pd.read_parquet(tmp_path / "pupils.parquet")
    pupils.drop(columns=["special_ed", "special_ed_cost"]).to_parquet(tmp_path / "next.parquet")
    text = cfg1.read_text(encoding="utf-8")
    text = text.replace('persons = "pupils.parquet"', 'persons = "next.parquet"')
    text = re.sub(r'target = "special_ed".*\n', "", text)
    text = text.replace("[model]\n", '[model]\ncoefficients = "y1/coefficients.csv"\n')
    cfg2 = tmp_path / "next.toml"
    cfg2.write_text(text, encoding="utf-8")
    assert main(["validate", str(cfg2)]) == 0
    assert main(["run", str(cfg2), "--out", str(tmp_path / "y2"), "-q"]) == 0
    a = pd.read_csv(tmp_path / "y1" / "allocation_keys.csv").set_index("unit")
    b = pd.read_csv(tmp_path / "y2" / "allocation_keys.csv").set_index("unit")
    # the same persons, the same coefficients: the same need
    np.testing.assert_allclose(a["need"], b["need"], rtol=1e-9)
    assert not {"r2_need", "rmse"} & set(_fit_stats(tmp_path / "y2"))


def test_an_estimation_without_costs_names_the_key_and_never_suggests_the_budget(tmp_path):
    src = nm.datasets.sample_dir()
    shutil.copy(src / "dictionary.csv", tmp_path / "dictionary.csv")
    units = pd.read_csv(src / "school_districts.csv").drop(columns=["special_ed_cost"])
    units = units.rename(columns={"budget_current": "Budget 2027"})
    units.to_csv(tmp_path / "u.csv", index=False)
    text = (src / "school_districts.toml").read_text(encoding="utf-8")
    text = text.replace("school_districts.csv", "u.csv").replace(
        'current = "budget_current"', 'current = "Budget 2027"'
    )
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    for command in ("validate", "run"):
        with pytest.raises(nm.errors.DataError, match="special_ed_cost") as err:
            nm.run(tmp_path / "c.toml") if command == "run" else nm.validate(tmp_path / "c.toml")
        assert "did you mean 'Budget 2027'" not in str(err.value)


def test_a_config_without_target_must_apply_a_model(tmp_path):
    text = (nm.datasets.sample_dir() / "school_districts.toml").read_text(encoding="utf-8")
    text = text.replace('target = "special_ed_cost"        # kr per year\n', "")
    assert "target" not in text.split("[model]")[1].split("[allocation]")[0]
    with pytest.raises(nm.errors.ConfigError, match=r"\[model\].*target"):
        nm.config.parse_config(text)


def test_a_formula_allocation_prints_no_model_statistics(cycle, capsys):
    cfg = cycle / "formula.toml"
    cfg.write_text(
        '[data]\nunits = "y2.csv"\nid = "district"\n'
        '[model]\nexposure = "pupils"\nindicators = ["parents_low_education", "single_parent"]\n'
        '[allocation]\nbudget = 130_000_000\ncurrent = "budget_current"\nround_to = 1000\n'
        "per_capita_pct = 40\ncriteria = { parents_low_education = 60, single_parent = 40 }\n"
        '[output]\nlang = "en"\n',
        encoding="utf-8",
    )
    assert main(["validate", str(cfg)]) == 0
    assert main(["run", str(cfg), "--out", str(cycle / "formula")]) == 0
    console = capsys.readouterr().out
    report = (cycle / "formula" / "report.html").read_text(encoding="utf-8")
    fit = _fit_stats(cycle / "formula")
    assert fit["model_origin"] == "formula" and not {"r2_need", "rmse", "cv_rmse"} & set(fit)
    for text in (console, report):
        assert "RMSE" not in text and "significant" not in text
        assert "per parameter" not in text
    assert "fixed criteria" in console


def test_fixed_criteria_for_two_units(cycle):
    units = pd.read_csv(cycle / "y2.csv", dtype={"district": str}).head(2)
    units.to_csv(cycle / "two.csv", index=False)
    cfg = cycle / "two.toml"
    cfg.write_text(
        '[data]\nunits = "two.csv"\nid = "district"\n'
        '[model]\nexposure = "pupils"\nindicators = ["parents_low_education", "single_parent"]\n'
        "[allocation]\nbudget = 1_000_000\nround_to = 1\n"
        "criteria = { parents_low_education = 50, single_parent = 50 }\n",
        encoding="utf-8",
    )
    result = nm.run(cfg)
    assert result.allocation.table["allocation"].sum() == 1_000_000


def _workbook_with_forecast(folder: Path, years: tuple[int, ...] = (2027, 2028, 2029)) -> Path:
    units = pd.read_csv(folder / "y2.csv", dtype={"district": str})
    rows = [
        {"Skoledistrikt": d, "År": y, "Antal elever": int(p * (1 + 0.02 * i))}
        for d, p in zip(units["district"], units["pupils"], strict=True)
        for i, y in enumerate(years)
    ]
    book = folder / "budget_2027.xlsx"
    with pd.ExcelWriter(book) as xl:
        units.to_excel(xl, sheet_name="Distrikter", index=False)
        pd.DataFrame(rows).to_excel(xl, sheet_name="Elevprognose", index=False)
    return book


_FORECAST = """
[data]
units = "budget_2027.xlsx"
sheet = "Distrikter"
id = "district"
exposure_forecast = "budget_2027.xlsx"
{sheet}forecast_year = "År"
forecast_exposure = "Antal elever"
forecast_id = "Skoledistrikt"

[model]
exposure = "pupils"
indicators = ["parents_low_education", "parents_outside_labour_market", "single_parent"]
method = "wls"
coefficients = "y1/coefficients.csv"

[allocation]
budget = 130_000_000
current = "budget_current"
round_to = 1000
max_loss_pct = 3
{years}
"""


def test_frozen_model_with_a_forecast_sheet_with_danish_headers(cycle):
    _workbook_with_forecast(cycle)
    cfg = cycle / "forecast.toml"
    cfg.write_text(
        _FORECAST.format(
            sheet='forecast_sheet = "Elevprognose"\n',
            years="years = { 2027 = 130_000_000, 2028 = 131_000_000, 2029 = 132_000_000 }",
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(cfg)]) == 0
    out = cycle / "forecast"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    years = pd.read_csv(out / "budget_years.csv", dtype={"unit": str, "year": str})
    forecast = pd.read_excel(cycle / "budget_2027.xlsx", sheet_name="Elevprognose")
    forecast = forecast.assign(
        År=forecast["År"].astype(str), Skoledistrikt=forecast["Skoledistrikt"].astype(str)
    )
    merged = years.merge(forecast, left_on=["unit", "year"], right_on=["Skoledistrikt", "År"])
    assert len(merged) == 72
    np.testing.assert_array_equal(merged["exposure"], merged["Antal elever"])
    assert years.groupby("year")["amount"].sum().tolist() == [130_000_000, 131_000_000, 132_000_000]
    # need per pupil from the frozen coefficients, times the budget year's forecast pupils
    units = pd.read_csv(cycle / "y2.csv", dtype={"district": str}).set_index("district")
    c = pd.read_csv(cycle / "y1" / "coefficients.csv").set_index("term")["estimate"]
    rate = c["Intercept"] + sum(c[x] * units[x] for x in SAMPLE_INDICATORS)
    first = merged.loc[merged["year"] == "2027"].set_index("unit")
    keys = pd.read_csv(out / "allocation_keys.csv", dtype={"unit": str}).set_index("unit")
    np.testing.assert_allclose(
        keys["need"], (rate * first["Antal elever"]).reindex(keys.index), atol=0.006
    )


@pytest.mark.parametrize(
    ("sheet", "years", "message"),
    [
        ("", "first_year = 2027\nbudget_years = 2", "name its own sheet with forecast_sheet"),
        ('forecast_sheet = "Elevprognose"\n', "", "set [allocation] first_year"),
        (
            'forecast_sheet = "Elevprognose"\n',
            "first_year = 2026",
            "no values for the budget year 2026",
        ),
        ('forecast_sheet = "Prognose"\n', "first_year = 2027", "no sheet named 'Prognose'"),
    ],
)
def test_a_forecast_that_cannot_apply_is_refused(cycle, sheet, years, message, capsys):
    _workbook_with_forecast(cycle)
    cfg = cycle / "bad_forecast.toml"
    cfg.write_text(_FORECAST.format(sheet=sheet, years=years), encoding="utf-8")
    for command in ("validate", "run"):
        code = main([command, str(cfg)])
        err = capsys.readouterr().err
        assert code == 2 and message in err, (command, err)
        if "budget year" in message:
            assert "budget_2027.xlsx, sheet 'Elevprognose'" in err


def test_units_without_pupils_under_a_frozen_model(cycle):
    units = pd.read_csv(cycle / "y2.csv", dtype={"district": str})
    units.loc[[2, 5], "pupils"] = 0  # two schools without pupils next year
    units.to_csv(cycle / "y2_zero.csv", index=False)
    cfg = _write(cycle, "zero.toml", units="y2_zero.csv", coefficients="y1/coefficients.csv")
    assert main(["validate", str(cfg)]) == 0
    assert main(["run", str(cfg), "--out", str(cycle / "zero"), "-q"]) == 0
    keys = pd.read_csv(cycle / "zero" / "allocation_keys.csv", dtype={"unit": str}).set_index(
        "unit"
    )
    zero = units.loc[[2, 5], "district"]
    assert (keys.loc[zero, "need"] == 0).all() and keys.loc[zero, "index"].isna().all()
    assert keys["allocation"].sum() == 130_000_000
    # the 5 % floor holds them on their way down
    assert (keys.loc[zero, "allocation"] >= 0.95 * keys.loc[zero, "current"] - 1000).all()
