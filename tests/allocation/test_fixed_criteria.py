"""Fixed criteria weights and a reference index: practice without (or beside) estimation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main

INDS = ["parents_low_education", "parents_outside_labour_market", "single_parent"]


def _toml_table(d):
    return "{ " + ", ".join(f"{k} = {v!r}" for k, v in d.items()) + " }"


def test_fixed_weights_equal_to_the_estimated_ones_give_the_same_allocation(workdir):
    est = nm.run(write_config(workdir, allocation={"max_loss_pct": 5, "max_gain_pct": 10}))
    weights = dict(
        zip(est.criteria.table["criterion"], est.criteria.table["weight_pct"], strict=True)
    )
    rate = est.criteria.per_exposure_rate  # the intercept's kroner per pupil
    cfg = write_config(workdir, allocation={"max_loss_pct": 5, "max_gain_pct": 10})
    text = cfg.read_text().replace(
        "[allocation]\n",
        f"[allocation]\ncriteria = {_toml_table(weights)}\nper_capita_amount = {rate!r}\n",
    )
    cfg.write_text(text)
    fixed = nm.run(cfg)
    assert fixed.results.extras["given"] == "[allocation] criteria"
    assert (
        fixed.allocation.table["allocation"].tolist() == est.allocation.table["allocation"].tolist()
    )
    t = fixed.criteria.table.set_index("criterion")
    for k, w in weights.items():
        assert t.loc[k, "weight_pct"] == pytest.approx(w, rel=1e-9)
        assert t.loc[k, "estimated_weight_pct"] == pytest.approx(w, rel=1e-9)  # shown beside
    assert (t["unit_amount"] * t["count"]).sum() == pytest.approx(
        fixed.criteria.socioeconomic_pool, rel=1e-12
    )
    assert fixed.criteria.socioeconomic_pool == pytest.approx(est.criteria.socioeconomic_pool)


def test_kroner_per_counted_person(workdir):
    amounts = {"parents_low_education": 20_000.0, "parents_outside_labour_market": 15_000.0,
               "single_parent": 10_000.0}  # fmt: skip
    cfg = write_config(workdir)
    cfg.write_text(
        cfg.read_text().replace(
            "[allocation]\n", f"[allocation]\ncriteria_amounts = {_toml_table(amounts)}\n"
        )
    )
    run = nm.run(cfg)
    units = nm.datasets.load_sample().set_index("district")
    expected = sum(a * units["pupils"] * units[k] for k, a in amounts.items())
    np.testing.assert_allclose(run.results.need, expected.loc[run.results.need.index], rtol=1e-12)
    assert int(run.allocation.table["allocation"].sum()) == 130_000_000
    # paid as stated: each unit's criteria part is its kroner per counted person, and the
    # per-pupil pool takes the rest of the frame
    t = run.allocation.table.set_index("unit")
    np.testing.assert_allclose(t["needs_amount"], expected.loc[t.index], rtol=1e-12)
    rest = 130_000_000 - expected.sum()
    np.testing.assert_allclose(
        t["per_capita_amount"], rest * units["pupils"].loc[t.index] / units["pupils"].sum()
    )
    assert (t["allocation"] - t["target"]).abs().max() <= 1000  # round_to
    crit = run.criteria.table.set_index("criterion")
    for k, a in amounts.items():
        assert crit.loc[k, "unit_amount"] == pytest.approx(a, rel=1e-12)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("", "criteria_amounts pay 2,"),
        ("per_capita_pct = 20\n", "drop per_capita_pct"),
    ],
)
def test_criteria_amounts_that_cannot_be_paid_are_refused(workdir, capsys, extra, message):
    amounts = {"parents_low_education": 1_000_000.0, "parents_outside_labour_market": 0.0,
               "single_parent": 0.0}  # fmt: skip
    cfg = write_config(workdir)
    cfg.write_text(
        cfg.read_text().replace(
            "[allocation]\n",
            f"[allocation]\n{extra}criteria_amounts = {_toml_table(amounts)}\n",
        )
    )
    for command in ("validate", "run"):
        assert main([command, str(cfg)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_bad_fixed_criteria_are_refused(workdir, capsys):
    cfg = write_config(workdir)
    cfg.write_text(
        cfg.read_text().replace(
            "[allocation]\n",
            "[allocation]\ncriteria = { parents_low_education = 60, single_parent = 30 }\n",
        )
    )
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "[allocation.criteria]" in err and "parents_outside_labour_market" in err


def test_reference_index(workdir):
    means = {"parents_low_education": 0.2, "parents_outside_labour_market": 0.15,
             "single_parent": 0.2}  # fmt: skip
    cfg = write_config(workdir)
    cfg.write_text(
        cfg.read_text().replace(
            "[allocation]\n", f"reference_means = {_toml_table(means)}\n\n[allocation]\n"
        )
    )
    run = nm.run(cfg)
    t = run.allocation.table.set_index("unit")
    coef = run.results.params
    ref_rate = coef["Intercept"] + sum(coef[k] * v for k, v in means.items())
    per_pupil = run.results.need / run.results.exposure
    np.testing.assert_allclose(
        t["index_reference"], (per_pupil / ref_rate).loc[t.index], rtol=1e-12
    )
    out = workdir / "out"
    run.write(out)
    keys = pd.read_csv(out / "allocation_keys.csv")
    assert list(keys.columns[:5]) == ["unit", "exposure", "need", "index", "index_reference"]
