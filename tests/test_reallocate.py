"""``nm.reallocate``: a finished run's allocation with other policy values equals a fresh run.

The changed config is written as TOML (the scenario's own ``config.text``) and
run from scratch; every amount, the pools and the several-year path must be
equal, for random floors, caps, pools, pace and frames, on the sample and on
the three-year budget with a price index and a forecast.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.errors import ConfigError, InputError

_NO_INTERVALS = re.compile(r"\[uncertainty\][^\[]*", re.S)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("realloc")
    src = nm.datasets.sample_dir()
    for p in src.iterdir():
        if p.is_file():
            shutil.copy(p, folder / p.name)
    out = {}
    for name in ("school_districts.toml", "school_districts_budget.toml"):
        text = _NO_INTERVALS.sub("", (folder / name).read_text(encoding="utf-8"))
        (folder / name).write_text(text, encoding="utf-8")
        out[name] = nm.run(folder / name)
    return folder, out


def _same(a: nm.RunResult, b: nm.RunResult) -> None:
    ta, tb = a.allocation.table, b.allocation.table
    assert ta["allocation"].tolist() == tb["allocation"].tolist()
    pd.testing.assert_frame_equal(ta, tb, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(a.allocation.pools, b.allocation.pools)
    if a.allocation.path is not None:
        pd.testing.assert_frame_equal(a.allocation.path, b.allocation.path)


def _fresh(folder, scenario: nm.RunResult) -> nm.RunResult:
    path = folder / "scenario.toml"
    path.write_text(scenario.config.text, encoding="utf-8")
    return nm.run(path)


_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "max_loss_pct": st.one_of(st.none(), st.integers(1, 15)),
        "max_gain_pct": st.one_of(st.none(), st.integers(2, 30)),
        "per_capita_pct": st.sampled_from([0, 10, 25.5]),
        "base_per_unit": st.sampled_from([0, 100_000, 250_000]),
        "budget": st.sampled_from([120_000_000, 130_000_000, 141_000_000]),
        "equalisation_pct": st.sampled_from([100, 60]),
        "transition_rule": st.sampled_from(["pace", "proportional"]),
    },
)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=_CHANGES)
def test_reallocate_equals_a_fresh_run_of_the_changed_config(runs, changes):
    folder, done = runs
    base = done["school_districts.toml"]
    try:
        scenario = nm.reallocate(base, **changes)
    except InputError as e:  # an infeasible combination is refused, by run too
        text = nm.pipeline._with_allocation(base.config.text, changes)

        def fresh_run() -> None:
            nm.run(nm.config.parse_config(text, path=base.config.path))

        with pytest.raises(type(e)):
            fresh_run()
        return
    _same(scenario, _fresh(folder, scenario))
    assert int(scenario.allocation.table["allocation"].sum()) == scenario.config.allocation.budget


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    loss=st.integers(1, 6),
    gain=st.integers(4, 12),
    growth=st.sampled_from([131_000_000, 133_500_000]),
)
def test_several_years_with_prices_and_a_forecast(runs, loss, gain, growth):
    folder, done = runs
    base = done["school_districts_budget.toml"]
    years = {"2027": 130_000_000, "2028": growth, "2029": growth + 1_000_000}
    scenario = nm.reallocate(base, max_loss_pct=loss, max_gain_pct=gain, years=years)
    fresh = _fresh(folder, scenario)
    _same(scenario, fresh)
    pd.testing.assert_frame_equal(scenario.allocation.years, fresh.allocation.years)


def test_fixed_criteria_are_reallocated_through_the_same_path(runs):
    folder, done = runs
    base = done["school_districts.toml"]
    weights = {
        "parents_low_education": 50,
        "parents_outside_labour_market": 30,
        "single_parent": 20,
    }
    scenario = nm.reallocate(base, criteria=weights)
    _same(scenario, _fresh(folder, scenario))
    t = scenario.criteria.table.set_index("criterion")["weight_pct"]
    np.testing.assert_allclose(t[list(weights)], list(weights.values()))


def test_model_settings_and_bad_values_are_refused_naming_the_key(runs):
    _, done = runs
    base = done["school_districts.toml"]
    with pytest.raises(ConfigError, match=r"method.*needs a refit"):
        nm.reallocate(base, method="ols")
    with pytest.raises(ConfigError, match="max_loss_pct"):
        nm.reallocate(base, max_loss_pct=500)
    assert nm.reallocate(base).allocation.table.equals(base.allocation.table)
