"""Plots are tested for what they show: labels, points, flagged units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel import plots
from needsmodel.diagnostics import diagnose
from needsmodel.errors import InputError


@pytest.fixture(scope="module")
def run():
    return nm.run(nm.datasets.sample_config_path())


@pytest.fixture(scope="module")
def labels():
    u = nm.datasets.load_sample()
    return dict(zip(u["district"], u["name"], strict=True))


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_influence_plot_labels_the_influential_units(run, labels):
    d = diagnose(run.results)
    fig = plots.influence_plot(run.results, labels=labels, diagnostics=d)
    ax = fig.axes[0]
    influential = d.influence.loc[d.influence["influential"], "unit"].tolist()
    assert influential  # the sample has some
    assert sorted(_texts(fig)) == sorted(f"{u} {labels[u]}" for u in influential)
    assert len(ax.collections[0].get_offsets()) == 24
    assert ax.get_xlabel() == "Leverage" and ax.get_ylabel() == "Studentised residual"


def test_residual_plot(run):
    fig = plots.residuals_vs_fitted(run.results, top=2)
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == 24
    assert len(ax.texts) == 2
    resid = run.results.resid
    biggest = resid.abs().sort_values(ascending=False).index[:2].tolist()
    assert sorted(_texts(fig)) == sorted(biggest)


def test_qq_plot_points_are_the_residuals(run):
    ax = plots.qq_plot(run.results).axes[0]
    pts = ax.collections[0].get_offsets()
    assert len(pts) == 24
    assert np.all(np.diff(np.asarray(pts)[:, 1]) >= 0)  # sorted sample quantiles


def test_coefficient_plot_has_one_row_per_term(run):
    ax = plots.coefficient_plot(run.results).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["parents_low_education", "parents_outside_labour_market", "single_parent"]
    with_intercept = plots.coefficient_plot(run.results, intercept=True).axes[0]
    assert len(with_intercept.get_yticklabels()) == 4


def test_observed_vs_predicted(run):
    ax = plots.observed_vs_predicted(run.results, lang="da").axes[0]
    assert len(ax.collections[0].get_offsets()) == 24
    assert ax.get_xlabel() == "Beregnet udgiftsbehov (kr.)"
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any("." in t for t in ticks) and not any("," in t for t in ticks)  # Danish thousands


def test_need_index_plot_sorted_with_names(run, labels):
    ax = plots.need_index_plot(run.allocation, labels=labels).axes[0]
    bars = [p.get_width() for p in ax.patches]
    assert len(bars) == 24 and bars == sorted(bars)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert "D09 Havnebyen" in names


def test_winners_losers_plot_two_panels(run):
    fig = plots.winners_losers_plot(run.allocation, lang="da")
    a1, a2 = fig.axes
    assert a1.get_xlabel() == "Ændring (kr.)" and a2.get_xlabel() == "Ændring (%)"
    assert len(a1.patches) == 24
    widths = sorted(p.get_width() for p in a2.patches)
    assert widths[0] == pytest.approx(-5.0, abs=0.01) and widths[-1] <= 10.0 + 1e-9


def test_allocation_plot_with_intervals(run):
    ax = plots.allocation_plot(run.allocation, uncertainty=run.uncertainty).axes[0]
    assert len(ax.patches) == 24
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("90" in t for t in legend)


def test_criteria_plot_annotates_weights(run):
    fig = plots.criteria_plot(run.criteria, lang="da")
    texts = _texts(fig)
    # three criteria: the intercept is paid per pupil, not a criterion
    assert len(texts) == 3 and all(t.endswith(" %") for t in texts)


def test_predictive_ratio_plot_and_its_errors(run):
    with pytest.raises(InputError, match="predictive ratios exist for person-level models only"):
        plots.predictive_ratio_plot(run.results)
    person = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    ax = plots.predictive_ratio_plot(person.results).axes[0]
    n_groups = int((person.results.predictive_ratios["group"] != "all").sum())
    assert len(ax.collections[0].get_offsets()) == n_groups
    with pytest.raises(InputError, match="unit-level models"):
        plots.qq_plot(person.results)


def test_save_writes_png(run, tmp_path):
    p = plots.save(plots.qq_plot(run.results), tmp_path / "qq.png")
    assert p.read_bytes()[:4] == b"\x89PNG"


def test_per_unit_figures_and_tables_stay_readable_at_a_thousand_units(tmp_path):
    """Beyond 40 units the bar charts show the extremes beside a distribution of all units,
    and the report's per-unit tables the 25 highest and lowest, with totals over all."""
    from needsmodel import plots
    from needsmodel.report import render_report

    rng = np.random.default_rng(3)
    n = 1000
    units = pd.DataFrame(
        {
            "school": [f"S{i:04d}" for i in range(n)],
            "pupils": rng.integers(50, 900, n),
            "a": rng.uniform(0, 0.5, n),
        }
    )
    units["cost"] = (
        units["pupils"] * (3000 + 20000 * units["a"]) * rng.uniform(0.8, 1.2, n)
    ).round()
    units["budget_current"] = (units["cost"] * rng.uniform(0.9, 1.1, n)).round(-3)
    units.to_csv(tmp_path / "u.csv", index=False)
    budget = int(units["cost"].sum() // 1000 * 1000)
    (tmp_path / "c.toml").write_text(
        '[data]\nunits = "u.csv"\nid = "school"\n[model]\ntarget = "cost"\nexposure = "pupils"\n'
        f'indicators = ["a"]\n[allocation]\nbudget = {budget}\ncurrent = "budget_current"\n'
        "round_to = 1000\nmax_loss_pct = 5\n",
        encoding="utf-8",
    )
    result = nm.run(tmp_path / "c.toml")
    for draw in (plots.need_index_plot, plots.winners_losers_plot, plots.allocation_plot):
        fig = draw(result.allocation, lang="da")
        bars, dist = fig.axes[:2]
        assert len(bars.get_yticklabels()) == 2 * plots.EXTREMES
        assert sum(p.get_height() for p in dist.patches) == n  # the histogram counts all units
    html = render_report(result, "da")
    assert html.count("De 25 enheder med højest") >= 2
    assert html.count("<tr") < 600  # not a row per unit in every table
