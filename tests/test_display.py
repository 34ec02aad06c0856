"""Results look right in JupyterLab and a terminal: tables, fixed decimals, short reprs."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.display import Summary, decimals_for, format_frame, format_number

E_NOTATION = re.compile(r"\d(?:\.\d+)?e[+-]\d", re.IGNORECASE)


@pytest.fixture(scope="module")
def readme():
    """The README's Python example."""
    units = nm.datasets.load_sample()
    spec = nm.NeedSpec(
        target="special_ed_cost",
        indicators=["parents_low_education", "parents_outside_labour_market", "single_parent"],
        exposure="pupils",
        cov="HC3",
    )
    res = nm.fit(spec, units, id="district")
    alloc = nm.allocate(
        res.need,
        130_000_000,
        exposure=units.set_index("district")["pupils"],
        current=units.set_index("district")["budget_current"],
        round_to=1000,
    )
    return {
        "results": res,
        "fit_stats": res.fit_stats,
        "allocation": alloc,
        "criteria": nm.criteria_weights(res, 130_000_000),
        "uncertainty": nm.key_uncertainty(res, alloc, replicates=200),
        "run": nm.run(nm.datasets.sample_config_path()),
        "comparison": nm.compare({"wls": res, "ols": nm.fit(
            nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils",
                        method="ols"), units, id="district")}),
        "diagnostics": nm.diagnostics.diagnose(res),
        "years": nm.run(nm.datasets.sample_dir() / "school_districts_panel.toml").years,
        "regularized": nm.fit_regularized(spec, units, id="district", kind="ridge"),
        "wald": res.wald_test({"parents_low_education": 0.0}),
    }  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["results", "fit_stats", "allocation", "criteria", "uncertainty", "run", "comparison",
     "diagnostics", "years", "regularized"],
)  # fmt: skip
def test_every_result_shows_a_table_without_e_notation(readme, name):
    obj = readme[name]
    html = obj._repr_html_()
    assert "<table" in html
    assert not E_NOTATION.search(html), E_NOTATION.search(html).group(0)
    short = repr(obj)
    assert "\n" not in short or name == "fit_stats"
    assert len(short.splitlines()[0]) < 200
    assert not E_NOTATION.search(str(obj))


def test_summary_is_an_object_that_renders_as_a_table(readme):
    s = readme["results"].summary()
    assert isinstance(s, Summary)
    assert "<table" in s._repr_html_()
    text = str(s)
    assert "Need model results" in text and "\n" in text
    assert "20,739" in text and "3,038" in text  # coefficients with separators, no 2.074e+04


def test_fit_stats_stay_a_mapping(readme):
    fs = readme["fit_stats"]
    assert fs["r2_need"] == pytest.approx(0.763, abs=1e-3)
    assert dict(fs)["nobs"] == 24
    assert list(fs.table().columns) == ["statistic", "value"]


def test_number_formatting():
    assert decimals_for([20740.2, 3038.9]) == 0
    assert format_number(1.2345e-5, 6) == "0.000012"
    assert format_number(7.138e6) == "7,138,000"
    assert format_number(0.00001, 4, p_value=True) == "<0.0001"
    frame = format_frame(pd.DataFrame({"kr": [7_138_000.4, 2_000.0], "p_value": [1e-9, 0.5]}))
    assert frame["kr"].tolist() == ["7,138,000", "2,000"]
    assert frame["p_value"].tolist() == ["<0.0001", "0.5000"]


def test_a_wald_test_reads_as_a_sentence(readme):
    test = readme["wald"]
    assert str(test).startswith("Wald test, 1 restriction: chi2(1) = ")
    assert 0 <= test.pvalue <= 1
