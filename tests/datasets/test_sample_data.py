"""The sample municipality: size, consistency, and regeneration from its seed."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

import needsmodel as nm
from needsmodel.datasets import _generator as gen


def test_size_and_columns(sample_units):
    pupils = nm.datasets.load_sample_pupils()
    assert len(sample_units) >= 20
    assert len(pupils) >= 8000
    assert set(pupils["district"]) == set(sample_units["district"])
    assert {
        "grade",
        "parents_education",
        "parents_outside_labour_market",
        "single_parent",
        "background",
        "income_quartile",
        "special_ed",
        "special_ed_cost",
    } <= set(pupils.columns)
    assert any("ø" in n or "å" in n or "æ" in n.lower() for n in sample_units["name"])


def test_district_table_aggregates_the_pupils(sample_units):
    pupils = nm.datasets.load_sample_pupils()
    g = pupils.groupby("district")
    units = sample_units.set_index("district")
    np.testing.assert_array_equal(units["pupils"], g.size().loc[units.index])
    np.testing.assert_array_equal(
        units["special_ed_cost"], g["special_ed_cost"].sum().loc[units.index]
    )
    np.testing.assert_array_equal(
        units["special_ed_pupils"], g["special_ed"].sum().loc[units.index]
    )
    low = g["parents_education"].apply(lambda s: (s == "basic").mean()).loc[units.index]
    np.testing.assert_allclose(units["parents_low_education"], low, atol=5e-5)
    assert (pupils.loc[pupils["special_ed"] == 0, "special_ed_cost"] == 0).all()


def test_files_regenerate_byte_for_byte_from_the_seed():
    from needsmodel.datasets._provision import add_provision

    pupils = gen.simulate_pupils(seed=20260101)
    districts = gen.aggregate_districts(pupils)
    pupils = add_provision(pupils)  # as data/sample/generate.py does
    folder = nm.datasets.sample_dir()
    parquet = pd.read_parquet(folder / "pupils.parquet")
    pd.testing.assert_frame_equal(parquet, pupils.reset_index(drop=True), check_dtype=False)
    for frame, name in ((pupils, "pupils.csv"), (districts, "school_districts.csv")):
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        assert buf.getvalue().encode("utf-8") == (folder / name).read_bytes(), name


def test_true_parameters_are_those_of_the_generator():
    truth = nm.datasets.true_parameters()
    assert truth["pupil_level"]["referral_logit"] == gen.REFERRAL
    assert truth["pupil_level"]["cost_gamma_shape"] == gen.GAMMA_SHAPE
    assert set(truth["unit_level_wls_pseudo_true"]["sample_config"]) == {
        "Intercept",
        "parents_low_education",
        "parents_outside_labour_market",
        "single_parent",
    }


def test_current_budget_is_whole_thousands():
    units = nm.datasets.load_sample()
    assert (units["budget_current"] % 1000 == 0).all()
    assert isinstance(units, pd.DataFrame)
