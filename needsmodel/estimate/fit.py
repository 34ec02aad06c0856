"""Fitting entry point: validate the table, dispatch on the method."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data import validate_units
from .linear import fit_linear
from .results import NeedResults
from .spec import NeedSpec

__all__ = ["fit", "prepare_units"]


def prepare_units(
    spec: NeedSpec,
    units: pd.DataFrame,
    *,
    id: str | None = None,
    also: tuple[str, ...] = (),
    path: Path | str | None = None,
) -> pd.DataFrame:
    """Validate ``units`` for ``spec`` and return it indexed by unit id.

    Parameters
    ----------
    spec : NeedSpec
        The model whose columns are checked.
    units : DataFrame
        The table; with ``id=None`` its index holds the unit ids.
    id : str, optional
        Id column.
    also : tuple of str
        Further numeric columns to check (e.g. the current budget).
    path : Path or str, optional
        File the table came from, for messages.
    """
    table = units
    if id is None:
        id = str(units.index.name) if units.index.name is not None else "unit"
        table = units.reset_index(names=id) if id not in units.columns else units
    return validate_units(
        table,
        id=id,
        numeric=[*spec.numeric_columns, *also],
        nonnegative=spec.nonnegative_columns,
        exposure=spec.exposure,
        indicators=spec.indicators,
        n_params=spec.n_params,
        extra=spec.extra_columns,
        path=path,
    )


def fit(spec: NeedSpec, units: pd.DataFrame, *, id: str | None = None) -> NeedResults:
    """Fit a need model to a units table.

    Parameters
    ----------
    spec : NeedSpec
        What to estimate.
    units : DataFrame
        One row per unit. Its index holds the unit ids unless ``id`` names a
        column.
    id : str, optional
        Id column.

    Returns
    -------
    NeedResults
        Coefficients, fit statistics and the predicted need per unit in kroner.

    Raises
    ------
    DataError
        If the table is not usable for the model (see
        :func:`needsmodel.data.validate_units`).

    Examples
    --------
    >>> import needsmodel as nm
    >>> units = nm.datasets.load_sample()
    >>> spec = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> res = nm.fit(spec, units, id="district")
    >>> round(float(res.need.sum()) / float(units["special_ed_cost"].sum()), 6)
    1.0
    """
    clean = prepare_units(spec, units, id=id)
    return fit_linear(spec, clean)
