"""Plausibility guards: loud and early when a model is weak or perverse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.plausibility import baseline_cv_rmse, check_model
from needsmodel.report import render_report

ALL = ["parents_low_education", "parents_outside_labour_market", "single_parent",
       "immigrant_background", "low_income"]  # fmt: skip


def test_demo_says_no_indicator_is_significant_and_that_it_beats_a_per_pupil_split(workdir, capsys):
    cfg = write_config(workdir, output={"dir": "out", "lang": "en"})
    assert main(["run", str(cfg), "-q"]) == 0
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "No indicator is individually significant at the 5% level" in out
    assert "The model beats a plain per-unit-of-exposure split out of sample" in out
    html = render_report(nm.run(nm.datasets.sample_config_path()), lang="da")
    assert "Ingen indikator er signifikant for sig" in html
    assert "Modellen slår en simpel fordeling pr. elev/borger uden for stikprøven" in html


def test_a_negative_criterion_is_warned_about_in_validate_run_and_report(workdir, capsys):
    cfg = write_config(workdir, model={"indicators": ALL})
    assert main(["validate", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert "Warning: Negative criterion weight for parents_low_education" in said
    assert main(["run", str(cfg)]) == 0
    assert "Negative criterion weight for parents_low_education" in capsys.readouterr().out
    html = (workdir / "out" / "report.html").read_text(encoding="utf-8")
    assert "Negative criterion weight for parents_low_education" in html


def test_a_sign_against_the_dictionary(workdir):
    src = nm.datasets.sample_dir() / "dictionary.csv"
    table = pd.read_csv(src)
    table["expected_sign"] = ["+" if c in ALL else "" for c in table["column"]]
    table.to_csv(workdir / "dict_signs.csv", index=False)
    cfg = write_config(workdir, data={"dictionary": "dict_signs.csv"}, model={"indicators": ALL})
    run = nm.run(cfg)
    sign = [g for g in run.guards if g.code == "sign"]
    assert sign and sign[0].terms == ["parents_low_education"]
    assert "against the one declared in the data dictionary" in sign[0].en


def test_a_model_of_noise_does_not_beat_the_per_pupil_split():
    units = nm.datasets.load_sample()
    units["noise"] = np.random.default_rng(3).normal(size=len(units))
    res = nm.fit(nm.NeedSpec("special_ed_cost", ["noise"], exposure="pupils"), units, id="district")
    guard = next(g for g in check_model(res) if g.code == "baseline")
    assert guard.severity == "warning" and "does not beat" in guard.en


def test_baseline_error_equals_leave_one_out_intercept_only_wls():
    units = nm.datasets.load_sample()
    res = nm.fit(
        nm.NeedSpec("special_ed_cost", ["single_parent"], exposure="pupils"), units, id="district"
    )
    y = (units["special_ed_cost"] / units["pupils"]).to_numpy()
    w = units["pupils"].to_numpy(dtype=float)
    pred = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        fit = sm.WLS(y[keep], np.ones((keep.sum(), 1)), weights=w[keep]).fit()
        pred[i] = fit.params[0] * w[i]
    rmse = np.sqrt(np.mean((units["special_ed_cost"].to_numpy() - pred) ** 2))
    assert baseline_cv_rmse(res) == pytest.approx(rmse, rel=1e-10)
