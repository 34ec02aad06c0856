"""Result-based funding of teaching (module 8): resources follow participation and completion.

A school or college is funded per enrolled student, per student actively
participating (e.g. student-years of attendance) and per completion, as the
Danish *taxameter* systems do with their activity and completion rates. The
rates set the incentive: the kroner a school gains from one more completion
or one more active student. :func:`result_funding` gives the allocation per
school, with rates (open-ended) or scaled to a fixed pot (one school's gain is
then the others' loss); :func:`marginal_gains` the incentive per unit of each
result.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .casechecks import check_columns, check_mapping, check_number
from .errors import InputError

__all__ = ["marginal_gains", "result_funding"]


def result_funding(
    schools: pd.DataFrame,
    rates: Mapping[str, float],
    *,
    pot: float | None = None,
    school: str = "school",
) -> pd.DataFrame:
    """Funding per school from its results and a rate per result.

    Parameters
    ----------
    schools : DataFrame
        One row per school with a column per result named in ``rates``
        (e.g. ``enrolled``, ``active``, ``completed``).
    rates : mapping
        Kroner per unit of each result.
    pot : float, optional
        A fixed total: the amounts are scaled to it (the rates then set the
        weights of the results, not the kroner).

    Returns
    -------
    DataFrame
        Per school and a ``total`` row: the results, ``amount_<result>`` and
        ``total``; with a pot, ``scale`` (pot / unscaled total).

    Examples
    --------
    >>> s = pd.DataFrame({"school": ["A", "B"], "completed": [10, 30]})
    >>> result_funding(s, {"completed": 1000.0}, pot=20_000)["total"].tolist()
    [5000.0, 15000.0, 20000.0]
    """
    check_mapping(rates, "result_funding(rates)", nonnegative=True)
    check_columns(
        schools, "result_funding(schools)", list(rates), nonnegative=list(rates), id=school
    )
    if pot is not None:
        check_number(pot, "pot", low=0)
    out = schools[[school, *rates]].copy()
    total = np.zeros(len(out))
    for result, rate in rates.items():
        values = out[result].to_numpy(dtype=float)
        if np.any(values < 0):
            raise InputError(f"column '{result}' must not be negative")
        out[f"amount_{result}"] = rate * values
        total += rate * values
    scale = 1.0
    if pot is not None:
        if total.sum() <= 0:
            raise InputError("no results to share the pot by")
        scale = float(pot) / float(total.sum())
        for result in rates:
            out[f"amount_{result}"] *= scale
        total = total * scale
    out["total"] = total
    if pot is not None:
        out["scale"] = scale
    row = out.drop(columns=school).sum(numeric_only=True).to_frame().T
    if pot is not None:
        row["scale"] = scale
    row.insert(0, school, "total")
    return pd.concat([out, row], ignore_index=True)


def marginal_gains(
    schools: pd.DataFrame, rates: Mapping[str, float], *, pot: float | None = None
) -> pd.Series:
    """Kroner a school gains from one more unit of each result.

    With open-ended rates, the rate itself; with a fixed pot, the rate scaled
    to the pot, less the school's share of the dilution (small for a small
    school, and the others lose what it gains).
    """
    check_mapping(rates, "marginal_gains(rates)", nonnegative=True)
    check_columns(schools, "marginal_gains(schools)", list(rates), nonnegative=list(rates))
    if pot is not None:
        check_number(pot, "pot", low=0)
    if pot is None:
        return pd.Series(dict(rates), name="gain", dtype=float)
    unscaled = sum(rates[r] * schools[r].to_numpy(dtype=float).sum() for r in rates)
    scale = float(pot) / unscaled
    return pd.Series({r: rates[r] * scale for r in rates}, name="gain", dtype=float)
