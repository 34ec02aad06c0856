"""Several budget years: a frame per year, a pupil forecast, a price index, labelled by year."""

from __future__ import annotations

import shutil
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.cli import main

CONFIG = "school_districts_budget.toml"


@pytest.fixture(scope="module")
def budget_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budget")
    src = nm.datasets.sample_dir()
    for name in (CONFIG, "school_districts.csv", "dictionary.csv", "pupil_forecast.csv"):
        shutil.copy(src / name, folder / name)
    out = folder / "out"
    assert main(["run", str(folder / CONFIG), "--out", str(out), "-q"]) == 0
    return folder, out


def test_the_path_is_labelled_by_year_and_sums_to_each_frame(budget_run):
    _, out = budget_run
    path = pd.read_csv(out / "transition_path.csv", dtype={"unit": str}).set_index("unit")
    assert list(path.columns) == ["2027", "2028", "2029"]
    assert path.sum().tolist() == [130_000_000, 131_500_000, 133_000_000]
    assert (path % 1000 == 0).all().all()
    current = pd.read_csv(out / "allocation_keys.csv", dtype={"unit": str}).set_index("unit")
    previous = current["current"] / 0.979  # the 2026 budget in 2027 prices (fixed prices)
    for year in path.columns:  # floors and caps against the previous published year
        assert (path[year] >= previous * 0.97 - 1e-6).all()
        assert (path[year] <= previous * 1.08 + 1e-6).all()
        previous = path[year]
    book = openpyxl.load_workbook(out / "allocation_keys.xlsx")
    sheet = book["overgangsforløb"]
    assert [c.value for c in sheet[1]][1:] == ["2027", "2028", "2029"]


def test_fixed_times_index_is_current_exactly(budget_run):
    _, out = budget_run
    years = pd.read_csv(out / "budget_years.csv", dtype=str)
    index = {"2027": Decimal("1.000"), "2028": Decimal("1.021"), "2029": Decimal("1.043")}
    for row in years.itertuples():
        fixed = Decimal(row.amount)
        assert fixed * index[row.year] == Decimal(row.amount_current_prices), row
    by_year = years.assign(amount=years["amount"].astype(int)).groupby("year")["amount"].sum()
    assert by_year.tolist() == [130_000_000, 131_500_000, 133_000_000]


def test_the_forecast_drives_the_targets(budget_run):
    folder, out = budget_run
    years = pd.read_csv(out / "budget_years.csv", dtype={"unit": str, "year": str})
    forecast = pd.read_csv(folder / "pupil_forecast.csv", dtype={"district": str, "year": str})
    merged = years.merge(
        forecast, left_on=["unit", "year"], right_on=["district", "year"], how="left"
    )
    np.testing.assert_array_equal(merged["exposure"], merged["pupils"])
    # need per pupil is kept: the target per pupil (before the frame scaling) moves with the frame
    for year, part in years.groupby("year"):
        assert part["target"].sum() == pytest.approx(part["frame"].iloc[0], rel=1e-12), year


def test_winners_and_losers_in_fixed_prices_and_against_the_frame(budget_run):
    _, out = budget_run
    wl = pd.read_csv(out / "winners_losers.csv", dtype={"unit": str})
    for col in ("current_fixed", "change_fixed", "current_adjusted", "change_adjusted", "reason"):
        assert col in wl.columns
    # the 2026 budget in 2027 prices: × 1.000 / 0.979
    np.testing.assert_allclose(wl["current_fixed"], wl["current"] / 0.979, rtol=1e-9)
    np.testing.assert_allclose(
        wl["change_fixed"], wl["allocation"] - wl["current_fixed"], rtol=1e-9
    )
    assert wl["current_adjusted"].sum() == pytest.approx(130_000_000, rel=1e-12)


def test_growth_rate_frames_and_bad_years(tmp_path, capsys):
    src = nm.datasets.sample_dir()
    for name in ("school_districts.csv",):
        shutil.copy(src / name, tmp_path / name)
    base = (
        '[data]\nunits = "school_districts.csv"\nid = "district"\n'
        '[model]\ntarget = "special_ed_cost"\nexposure = "pupils"\n'
        'indicators = ["parents_low_education", "single_parent"]\n'
        '[allocation]\nbudget = 130_000_000\ncurrent = "budget_current"\nround_to = 1000\n'
    )
    cfg = tmp_path / "g.toml"
    cfg.write_text(base + "first_year = 2027\nbudget_years = 3\ngrowth_pct = 2\n")
    result = nm.run(cfg)
    assert list(result.allocation.path.columns) == ["2027", "2028", "2029"]
    assert result.allocation.path.sum().tolist() == [130_000_000, 132_600_000, 135_252_000]
    cfg.write_text(base + "years = { 2027 = 120_000_000, 2028 = 130_000_000 }\n")
    assert main(["validate", str(cfg)]) == 2
    assert "[allocation.years] the first year's frame" in capsys.readouterr().err
    cfg.write_text(base + "years = { 27 = 130_000_000 }\n")
    assert main(["validate", str(cfg)]) == 2
    assert "calendar years" in capsys.readouterr().err
    cfg.write_text(base + "first_year = 2027\nbudget_years = 2\nprices = { 2027 = 1.0 }\n")
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "[allocation.prices]" in err and "missing 2028" in err


def test_floors_hold_in_fixed_prices_of_the_budget_year(budget_run):
    _, out = budget_run
    wl = pd.read_csv(out / "winners_losers.csv", dtype={"unit": str})
    # 3 % floor and 8 % cap against the 2026 budget lifted to 2027 prices (1.000 / 0.979)
    assert (wl["allocation"] >= wl["current_fixed"] * 0.97 - 1e-6).all()
    assert (wl["allocation"] <= wl["current_fixed"] * 1.08 + 1e-6).all()
    assert wl["change_fixed_pct"].min() >= -3.0 - 1e-9
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "faste priser" in report and "2027-priser" in report


def test_nominal_bounds_and_a_missing_index_year(tmp_path):
    src = nm.datasets.sample_dir()
    for name in (CONFIG, "school_districts.csv", "dictionary.csv", "pupil_forecast.csv"):
        shutil.copy(src / name, tmp_path / name)
    text = (tmp_path / CONFIG).read_text(encoding="utf-8")
    (tmp_path / "nominal.toml").write_text(
        text.replace("max_gain_pct = 8\n", 'max_gain_pct = 8\nbounds_in = "nominal"\n')
    )
    result = nm.run(tmp_path / "nominal.toml")
    t = result.allocation.table
    assert (t["allocation"] >= t["current"] * 0.97 - 1e-6).all()
    # against the nominal budget only: in fixed prices some lose more than 3 %
    assert (t["allocation"] < t["current"] / 0.979 * 0.97).any()
    (tmp_path / "gap.toml").write_text(text.replace("2026 = 0.979, ", ""))
    with pytest.raises(nm.errors.ConfigError, match=r"add 2026 to prices.*bounds_in"):
        nm.load_config(tmp_path / "gap.toml")


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(3, 12),
    years=st.integers(1, 3),
    factor=st.floats(0.8, 1.25),
)
def test_no_unit_loses_more_than_the_floor_in_fixed_prices(data, n, years, factor):
    current = np.array(data.draw(st.lists(st.integers(1_000, 100_000), min_size=n, max_size=n)))
    need = np.array(data.draw(st.lists(st.floats(0.01, 100.0), min_size=n, max_size=n)))
    growth = data.draw(st.lists(st.floats(0.9, 1.1), min_size=years, max_size=years))
    frame0 = int(current.sum() * factor * growth[0])
    frames = [frame0] + [int(frame0 * np.prod(growth[1 : t + 1])) for t in range(1, years)]
    policy = nm.AllocationPolicy(
        budget=frames[0],
        max_loss_pct=5,
        frames=tuple(frames) if years > 1 else (),
        current_price_factor=factor,
    )
    ids = [f"u{i}" for i in range(n)]
    try:
        alloc = nm.allocate(pd.Series(need, index=ids), policy, current=pd.Series(current, ids))
    except nm.errors.InfeasibleRuleError:
        assume(False)
        return
    first = alloc.table["allocation"].to_numpy(float)
    # in the budget year's prices: the current budget times the index factor
    assert (first >= 0.95 * current * factor - 1.0).all()
    if alloc.path is not None:
        previous = alloc.path.iloc[:, 0].to_numpy(float)
        for col in alloc.path.columns[1:]:
            now = alloc.path[col].to_numpy(float)
            assert (now >= 0.95 * previous - 1.0).all()
            previous = now
