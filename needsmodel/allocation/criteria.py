"""Criteria weights and unit amounts ("kriterievægte" and "enhedsbeløb").

In an additive (linear) need model each unit's need is a sum of parts, one per
term: ``coefficient × indicator × exposure`` for a per-capita unit model, the
sum over the unit's persons of ``coefficient × indicator`` for a person-level
model. Scaled so that the parts of all units add up to the needs pool:

- the **criterion weight** of a term is its share of the needs pool (%);
- its **unit amount** is the kroner per counted person: the coefficient times
  the scale factor ``needs pool / total need``. Unit amount × count, summed
  over the terms, rebuilds the pool.

The intercept of an additive model is money per unit of exposure (kroner per
pupil), not a socioeconomic criterion. By default (``intercept =
"per_capita"``) it is taken out: its kroner are reported as paid per exposure
(:func:`intercept_need` gives them per unit), and the weights of the criteria
sum to 100 % of the **socioeconomic pool**, the needs pool less the intercept's
kroner. ``intercept = "criterion"`` keeps the former table with the intercept
as one of the criteria.

Multiplicative models (log link, two-part, cells) have no such additive parts
and are refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary
from ..errors import InputError
from ..estimate.methods import methods_where
from ..estimate.results import NeedResults
from .needmap import NeedMap

__all__ = [
    "ADDITIVE_METHODS",
    "INTERCEPT_RULES",
    "CriteriaWeights",
    "criteria_weights",
    "intercept_need",
]

#: What the intercept of an additive model is: money per exposure, or a criterion.
INTERCEPT_RULES = ("per_capita", "criterion")

ADDITIVE_METHODS = methods_where(additive=True)


@dataclass(frozen=True, repr=False)
class CriteriaWeights(DisplayMixin):
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
        The needs pool (kr): the socioeconomic pool plus the intercept's kroner.
    socioeconomic_pool : float
        The pool the weights divide (kr): the needs pool less the intercept's
        kroner (equal to ``needs_pool`` with ``intercept = "criterion"``).
    per_exposure : Series or None
        Each unit's kroner from the intercept (paid per exposure), or None.
    per_exposure_rate : float
        The intercept's kroner per unit of exposure (kr per pupil), or NaN.
    """

    table: pd.DataFrame
    by_unit: pd.DataFrame
    counts: pd.DataFrame
    needs_pool: float
    socioeconomic_pool: float = float("nan")
    per_exposure: pd.Series | None = None
    per_exposure_rate: float = float("nan")

    def summary(self) -> Summary:
        """The pools and the weight and unit amount of every criterion."""
        header = [
            ("Needs pool", f"{self.needs_pool:,.0f} kr"),
            ("Socioeconomic pool", f"{self.socioeconomic_pool:,.0f} kr"),
        ]
        if np.isfinite(self.per_exposure_rate):
            header.append(("Paid per exposure (intercept)", f"{self.per_exposure_rate:,.0f} kr"))
        return Summary("Criteria weights", header, [("", self.table.set_index("criterion"))])

    def _describe(self) -> str:
        return f"{len(self.table)} criteria, socioeconomic pool {self.socioeconomic_pool:,.0f} kr"

    def long(self) -> pd.DataFrame:
        """Per unit and criterion in long form: ``unit, criterion, count, unit_amount, amount``."""
        amt = pd.Series(self.by_unit.stack(), name="amount")
        cnt = pd.Series(self.counts.stack(), name="count")
        out = pd.concat([cnt, amt], axis=1).reset_index()
        out.columns = ["unit", "criterion", "count", "amount"]
        ua = self.table.set_index("criterion")["unit_amount"]
        out.insert(3, "unit_amount", out["criterion"].map(ua).to_numpy())
        return out


def _parts(
    results: NeedResults,
    year: str | None,
    fold: tuple[str, ...],
    unit_scale: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, dict[str, str]]:
    """Counts and kroner of need per unit and term, with ``fold`` terms in the intercept."""
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
    if unit_scale is not None:  # e.g. the budget year's forecast pupils / the model's pupils
        counts = counts.mul(unit_scale.set_axis(unit_scale.index.astype(str)), axis=0)
    parts = counts * params  # kr of need per unit and term
    indicator = design.term_indicator()
    folded = [t for t in terms if indicator.get(t) in fold]
    if folded:
        parts["Intercept"] += parts[folded].sum(axis=1)
        parts = parts.drop(columns=folded)
        counts = counts.drop(columns=folded)
        params = params.drop(folded)
        params["Intercept"] = parts["Intercept"].sum() / counts["Intercept"].sum()
    return counts, parts, params, indicator


def intercept_need(
    results: NeedResults,
    *,
    year: str | None = None,
    fold: tuple[str, ...] = (),
    unit_scale: pd.Series | None = None,
) -> pd.Series | None:
    """Each unit's need from the intercept of an additive model (kr), or None without one.

    This is money per unit of exposure: ``allocate(..., per_exposure_need=...)``
    reports it as such instead of as a socioeconomic criterion.
    """
    if results.method not in ADDITIVE_METHODS:
        return None
    _, parts, _, _ = _parts(results, year, fold, unit_scale)
    if "Intercept" not in parts.columns:
        return None
    return parts["Intercept"].rename("per_exposure_need")


def criteria_weights(
    results: NeedResults,
    needs_pool: float,
    *,
    year: str | None = None,
    fold: tuple[str, ...] = (),
    intercept: str = "per_capita",
    unit_scale: pd.Series | None = None,
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
    intercept : {"per_capita", "criterion"}
        Take the intercept out as money per exposure (default), or keep it
        as a criterion.
    unit_scale : Series, optional
        Factor per unit on its counts (a per-capita model applied to the
        budget year's forecast exposure: forecast / exposure).

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
    >>> "Intercept" in set(cw.table["criterion"])
    False
    """
    if intercept not in INTERCEPT_RULES:
        raise InputError(
            f"intercept must be one of {', '.join(map(repr, INTERCEPT_RULES))}; got {intercept!r}"
        )
    counts, parts, params, indicator = _parts(results, year, fold, unit_scale)
    total = float(parts.to_numpy().sum())
    if total <= 0:
        raise InputError("total need is not positive; criteria weights are undefined")
    s = needs_pool / total
    by_unit = parts * s
    per_exposure = None
    rate = float("nan")
    if intercept == "per_capita" and "Intercept" in by_unit.columns:
        per_exposure = by_unit.pop("Intercept").rename("per_exposure")
        per_exposure.index.name = "unit"
        rate = float(params["Intercept"] * s)
        counts = counts.drop(columns="Intercept")
    pool = float(by_unit.to_numpy().sum())
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
    table["weight_pct"] = 100.0 * table["amount"] / pool if pool else np.nan
    by_unit.index.name = "unit"
    counts.index.name = "unit"
    return CriteriaWeights(
        table=table,
        by_unit=by_unit,
        counts=counts,
        needs_pool=float(needs_pool),
        socioeconomic_pool=pool,
        per_exposure=per_exposure,
        per_exposure_rate=rate,
    )
