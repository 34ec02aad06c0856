"""Criteria weights and unit amounts ("kriterievægte" and "enhedsbeløb").

In an additive (linear) need model each unit's need is a sum of parts, one per
term: ``coefficient × indicator × exposure`` for a per-capita unit model, the
sum over the unit's persons of ``coefficient × indicator`` for a person-level
model. Scaled so that the parts of all units add up to the needs pool:

- the **criterion weight** of a term is its share of the needs pool (%);
- its **unit amount** is the kroner per counted person: the coefficient times
  the scale factor ``needs pool / total need``. Unit amount × count, summed
  over the terms, rebuilds the needs pool.

Multiplicative models (log link, two-part, cells) have no such additive parts
and are refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..estimate.results import NeedResults
from .needmap import NeedMap

__all__ = ["ADDITIVE_METHODS", "CriteriaWeights", "criteria_weights"]

ADDITIVE_METHODS = ("ols", "wls")


@dataclass(frozen=True)
class CriteriaWeights:
    """Criteria weights for the municipality and per unit.

    Attributes
    ----------
    table : DataFrame
        One row per criterion (term): ``criterion, indicator, coefficient,
        count, unit_amount, amount, weight_pct``. ``count`` is the number of
        counted persons (exposure × share, persons in the category, pupils for
        the intercept); ``unit_amount`` the kroner per counted person;
        ``amount`` the kroner of the needs pool the criterion carries.
    by_unit : DataFrame
        Units × criteria: each unit's kroner from each criterion; rows sum to
        the unit's share of the needs pool.
    counts : DataFrame
        Units × criteria: counted persons per unit.
    needs_pool : float
        The pool the weights divide (kr).
    """

    table: pd.DataFrame
    by_unit: pd.DataFrame
    counts: pd.DataFrame
    needs_pool: float

    def long(self) -> pd.DataFrame:
        """Per unit and criterion in long form: ``unit, criterion, count, unit_amount, amount``."""
        amt = pd.Series(self.by_unit.stack(), name="amount")
        cnt = pd.Series(self.counts.stack(), name="count")
        out = pd.concat([cnt, amt], axis=1).reset_index()
        out.columns = ["unit", "criterion", "count", "amount"]
        ua = self.table.set_index("criterion")["unit_amount"]
        out.insert(3, "unit_amount", out["criterion"].map(ua).to_numpy())
        return out


def criteria_weights(
    results: NeedResults,
    needs_pool: float,
    *,
    year: str | None = None,
    fold: tuple[str, ...] = (),
) -> CriteriaWeights:
    """Decompose need into criteria and scale it to the needs pool.

    Parameters
    ----------
    results : NeedResults
        A fitted additive model (``ols`` or ``wls``; unit or person level).
    needs_pool : float
        The kroner distributed by need.
    year : str, optional
        Allocation year of a pooled several-year model (its rows make the need).
    fold : tuple of str
        Indicators whose terms are folded into the intercept (the year column
        of a pooled model: a year effect is a constant per unit of exposure).

    Raises
    ------
    InputError
        For multiplicative models, whose need has no additive parts.

    Examples
    --------
    >>> import needsmodel as nm
    >>> spec = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> res = nm.fit(spec, nm.datasets.load_sample(), id="district")
    >>> cw = criteria_weights(res, 1_000_000)
    >>> round(float(cw.table["weight_pct"].sum()), 9)
    100.0
    """
    if results.method not in ADDITIVE_METHODS:
        raise InputError(
            f"criteria weights need an additive model (ols or wls); method '{results.method}' is "
            "multiplicative, so a unit's need does not split into parts per criterion"
        )
    nmap = NeedMap.from_results(results, year=year)
    design = results.design
    terms = design.terms
    params = pd.Series(results.params.reindex(terms).to_numpy(dtype=float), index=terms)
    counts = pd.DataFrame(
        nmap.need(design.matrix(nmap.rows)), index=nmap.units.astype(str), columns=terms
    )
    parts = counts * params  # kr of need per unit and term
    indicator = design.term_indicator()
    folded = [t for t in terms if indicator.get(t) in fold]
    if folded:
        parts["Intercept"] += parts[folded].sum(axis=1)
        parts = parts.drop(columns=folded)
        counts = counts.drop(columns=folded)
        params = params.drop(folded)
        params["Intercept"] = parts["Intercept"].sum() / counts["Intercept"].sum()
    total = float(parts.to_numpy().sum())
    if total <= 0:
        raise InputError("total need is not positive; criteria weights are undefined")
    s = needs_pool / total
    by_unit = parts * s
    table = pd.DataFrame(
        {
            "criterion": list(by_unit.columns),
            "indicator": [indicator.get(t, t) for t in by_unit.columns],
            "coefficient": params.reindex(by_unit.columns).to_numpy(),
            "count": counts.sum().reindex(by_unit.columns).to_numpy(),
            "unit_amount": params.reindex(by_unit.columns).to_numpy() * s,
            "amount": by_unit.sum().to_numpy(),
        }
    )
    table["weight_pct"] = 100.0 * table["amount"] / needs_pool if needs_pool else np.nan
    by_unit.index.name = "unit"
    counts.index.name = "unit"
    return CriteriaWeights(
        table=table, by_unit=by_unit, counts=counts, needs_pool=float(needs_pool)
    )
