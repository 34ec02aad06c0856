"""group_folds reproduces scikit-learn's GroupKFold fold assignment from group sizes.

Reference: ``sklearn.model_selection.GroupKFold(n_splits=k).split`` on one
label per row (the person-level cross-validation), run here on the same sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from needsmodel.errors import EstimationError
from needsmodel.estimate.cv import group_folds


def sklearn_folds(sizes: np.ndarray, k: int) -> np.ndarray:
    groups = np.repeat(np.arange(len(sizes)), sizes)
    fold = np.full(len(sizes), -1, dtype=np.int64)
    for f, (_, test) in enumerate(GroupKFold(n_splits=k).split(groups, groups=groups)):
        fold[np.unique(groups[test])] = f
    return fold


@pytest.mark.parametrize("seed", range(25))
def test_equal_to_group_kfold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    # few distinct sizes, so ties are common; some groups empty
    sizes = rng.choice([0, 1, 2, 5, 5, 7, 40], size=n)
    k = int(min(rng.integers(2, 11), np.count_nonzero(sizes)))
    if k < 2:
        pytest.skip("fewer than two groups with rows")
    np.testing.assert_array_equal(group_folds(sizes, k), sklearn_folds(sizes, k))


def test_real_register_sizes() -> None:
    # 24 districts of 300-800 pupils, as in the sample register, k = 10
    rng = np.random.default_rng(3)
    sizes = rng.integers(300, 800, size=24)
    np.testing.assert_array_equal(group_folds(sizes, 10), sklearn_folds(sizes, 10))


def test_more_folds_than_groups_is_an_error() -> None:
    with pytest.raises(EstimationError, match="3 cross-validation folds from 2 groups"):
        group_folds(np.array([4, 0, 2]), 3)
