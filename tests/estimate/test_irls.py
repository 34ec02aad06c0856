"""Newton/IRLS refits on cells against statsmodels GLM on the same cells.

Reference: statsmodels' own GLM (Binomial with two-column successes/failures,
Poisson with exposure) fitted on the identical cell arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import special

from needsmodel.errors import EstimationError
from needsmodel.estimate.irls import expit, irls_cells


def test_expit_agrees_with_scipy_to_the_last_places():
    # reference: scipy.special.expit, over the whole range where it is not 0 or 1
    x = np.concatenate([np.linspace(-745.0, 40.0, 200_001), [-1e300, -800.0, 0.0, 800.0, 1e300]])
    with np.errstate(all="raise"):  # no overflow, underflow or invalid warning escapes
        got = expit(x)
    want = special.expit(x)
    inside = want > 1e-300
    assert np.max(np.abs(got[inside] / want[inside] - 1.0)) < 4e-15
    assert got[-5] == 0.0 and got[-3] == 0.5 and got[-1] == 1.0
    assert np.all((got >= 0.0) & (got <= 1.0))


def test_expit_keeps_nan_and_shape():
    got = expit(np.array([[np.nan, 1.0], [-1.0, np.inf]]))
    assert got.shape == (2, 2)
    assert np.isnan(got[0, 0]) and got[1, 1] == 1.0
    assert got[0, 1] + got[1, 0] == pytest.approx(1.0, abs=1e-16)


def cells(seed: int, family: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_cells, k = 400, 6
    x = np.column_stack([np.ones(n_cells), rng.integers(0, 2, size=(n_cells, k - 1))]).astype(float)
    beta = np.array([-2.0, 0.5, -0.3, 0.8, 0.1, -0.6])
    n = rng.integers(5, 300, size=n_cells).astype(float)
    if family == "binomial":
        sy = rng.binomial(n.astype(int), 1 / (1 + np.exp(-(x @ beta)))).astype(float)
    else:
        sy = rng.poisson(n * np.exp(x @ beta)).astype(float)
    return x, sy, n


def reference(x: np.ndarray, sy: np.ndarray, n: np.ndarray, family: str) -> np.ndarray:
    if family == "binomial":
        model = sm.GLM(np.column_stack([sy, n - sy]), x, family=sm.families.Binomial())
    else:
        model = sm.GLM(sy, x, family=sm.families.Poisson(), exposure=n)
    return np.asarray(model.fit(tol=1e-14).params)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cold_start_equals_statsmodels(family: str, seed: int) -> None:
    x, sy, n = cells(seed, family)
    np.testing.assert_allclose(
        irls_cells(x, sy, n, family), reference(x, sy, n, family), rtol=1e-9, atol=1e-10
    )


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_warm_start_from_full_data_equals_statsmodels_on_a_fold(family: str) -> None:
    x, sy, n = cells(7, family)
    full = reference(x, sy, n, family)
    train = np.arange(len(n)) % 5 != 0
    got = irls_cells(x[train], sy[train], n[train], family, start=full)
    want = reference(x[train], sy[train], n[train], family)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_a_category_without_positives_stops_like_statsmodels() -> None:
    # quasi-separation: the third column's level has no positives, so its
    # coefficient has no finite maximum; like statsmodels the refit stops once
    # the likelihood stops moving, with that level's probability near 0 and
    # the other coefficients at their maximum
    x = np.column_stack([np.ones(6), [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]]).astype(float)
    sy = np.array([3.0, 4.0, 5.0, 6.0, 0.0, 0.0])
    n = np.full(6, 10.0)
    got = irls_cells(x, sy, n, "binomial")
    want = reference(x, sy, n, "binomial")
    np.testing.assert_allclose(got[:2], want[:2], rtol=1e-9)
    assert got[2] < -20
    p = 1 / (1 + np.exp(-(x @ got)))
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(x @ want))), atol=1e-9)


def test_perfect_separation_gives_the_observed_shares() -> None:
    # the outcome is all 0 or all 1 by the second column: fitted shares 0 and 1
    x = np.column_stack([np.ones(4), [0.0, 0.0, 1.0, 1.0]])
    sy = np.array([0.0, 0.0, 10.0, 10.0])
    n = np.full(4, 10.0)
    p = 1 / (1 + np.exp(-(x @ irls_cells(x, sy, n, "binomial"))))
    np.testing.assert_allclose(p, sy / n, atol=1e-9)


def test_unknown_family_is_refused() -> None:
    with pytest.raises(EstimationError, match="binomial"):
        irls_cells(np.ones((2, 1)), np.ones(2), np.ones(2), "gamma")


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_a_column_without_data_gets_zero_like_statsmodels() -> None:
    # a category absent from the training cells: statsmodels' minimum-norm
    # solution gives it 0 and the other coefficients their maximum
    x, sy, n = cells(4, "binomial")
    x[:, 3] = 0.0
    got = irls_cells(x, sy, n, "binomial", start=np.full(x.shape[1], 0.3))
    want = reference(x, sy, n, "binomial")
    assert got[3] == 0.0
    np.testing.assert_allclose(want[3], 0.0, atol=1e-10)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
