"""Thread limits for small dense algebra (needsmodel.threads)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from threadpoolctl import threadpool_info

import needsmodel as nm
from needsmodel.threads import SMALL_FLOPS, blas_limit, blas_settings, small_algebra


def blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]


def test_small_design_runs_on_one_blas_thread() -> None:
    before = blas_threads()
    with blas_limit(15_600, 25) as limit:
        assert limit == 1
        assert blas_threads() and all(n == 1 for n in blas_threads())
    assert blas_threads() == before  # restored on exit


def test_large_design_keeps_the_library_default() -> None:
    before = blas_threads()
    rows = int(SMALL_FLOPS / 25**2) + 1
    with blas_limit(rows, 25) as limit:
        assert limit is None
        assert blas_threads() == before


def test_limit_is_restored_after_an_error() -> None:
    before = blas_threads()

    @small_algebra
    def boom() -> None:
        assert all(n == 1 for n in blas_threads())
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        boom()
    assert blas_threads() == before


def test_settings_name_the_library_and_threads() -> None:
    text = blas_settings()
    assert "threads" in text


def test_limited_fit_equals_statsmodels() -> None:
    # the thread limit changes scheduling, never the numbers: a unit fit under
    # the limit equals statsmodels WLS on the same data
    units = nm.datasets.load_sample()
    spec = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    res = nm.fit(spec, units, id="district")
    y = units["special_ed_cost"] / units["pupils"]
    x = sm.add_constant(units[["parents_low_education"]])
    ref = sm.WLS(y, x, weights=units["pupils"]).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
