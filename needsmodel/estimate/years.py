"""Several years of data: a pooled model with year effects, per-year refits,
and how stable each coefficient is across years.

A criterion whose weight jumps from year to year makes a poor allocation key:
units cannot plan, and the jump is usually noise. The stability table shows,
for every coefficient, the pooled estimate, each year's estimate, their spread,
and Cochran's Q test of equal coefficients across years (the per-year
estimates are independent because each year is a separate sample).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary
from ..errors import DataError, InputError, format_ids
from .fit import fit_units, prepare_units, warn_influenceable
from .results import NeedResults
from .spec import NeedSpec

__all__ = [
    "UNIT_YEAR_SEP",
    "YearsResults",
    "fit_years",
    "split_unit_year",
    "unit_year_labels",
    "year_labels",
]

#: Separator of the row labels of a pooled several-year fit: the unit id, then the year.
#: Only this module builds or splits such labels; everyone else gets a (unit, year)
#: MultiIndex from :func:`split_unit_year`.
UNIT_YEAR_SEP = "|"


def year_labels(values: pd.Series) -> pd.Series:
    """Years as text: ``2025``, ``2025.0`` and ``"2025 "`` all become ``"2025"``."""
    return values.map(
        lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
    )


def unit_year_labels(units: pd.Series, years: pd.Series) -> pd.Series:
    """Row labels ``"unit|year"`` of a pooled fit (ids stripped, years as text)."""
    return units.astype(str).str.strip() + UNIT_YEAR_SEP + years.astype(str)


def split_unit_year(
    labels: pd.Index | np.ndarray, names: tuple[str, str] = ("unit", "year")
) -> pd.MultiIndex:
    """Pooled-fit row labels as a ``(unit, year)`` MultiIndex.

    The year is what follows the last separator, so a unit id may itself hold one.

    Examples
    --------
    >>> split_unit_year(["D01|2024", "A|B|2025"]).tolist()
    [('D01', '2024'), ('A|B', '2025')]
    """
    parts = pd.Index(labels).astype(str).str.rsplit(UNIT_YEAR_SEP, n=1)
    return pd.MultiIndex.from_tuples([(p[0], p[1]) for p in parts], names=list(names))


@dataclass(frozen=True, eq=False, repr=False)
class YearsResults(DisplayMixin):
    """A pooled fit with year effects and one fit per year.

    Attributes
    ----------
    pooled : NeedResults
        The model with year dummies (reference: the first year), fitted on all
        unit-years; :attr:`need_by_unit_year` has its need by ``(unit, year)``.
    by_year : dict
        One :class:`NeedResults` per year.
    year : str
        The year column.
    years : list
        The years, sorted.
    """

    pooled: NeedResults
    by_year: dict[str, NeedResults]
    year: str
    years: list[str]

    def summary(self) -> Summary:
        """The years and how stable each coefficient is across them."""
        header = [("Years", ", ".join(self.years)), ("Year column", self.year)]
        return Summary("Several years", header, [("Coefficient stability", self.stability())])

    def _describe(self) -> str:
        return f"pooled and per-year fits, {len(self.years)} years"

    def need_for(self, year: object) -> pd.Series:
        """Pooled-model need per unit in ``year`` (indexed by unit id)."""
        y = str(year)
        if y not in self.years:
            raise InputError(f"year {year!r} is not in the data; years are {', '.join(self.years)}")
        need = self.need_by_unit_year
        out = need.xs(y, level="year")
        out.index.name = self.pooled.need.index.name
        return out

    @property
    def need_by_unit_year(self) -> pd.Series:
        """Pooled-model need of every unit-year, indexed by ``(unit, year)``."""
        need = self.pooled.need
        return pd.Series(need.to_numpy(), index=split_unit_year(need.index), name=need.name)

    def stability(self) -> pd.DataFrame:
        """How each coefficient varies across years.

        Returns
        -------
        DataFrame
            Index ``term`` (the model's terms, year effects excluded); columns
            ``pooled``, ``pooled_se``, one column per year, ``mean``, ``sd``,
            ``cv`` (sd / |mean|), ``min``, ``max``, ``sign_changes`` (years
            whose sign differs from the pooled estimate), ``q`` and ``q_p_value``
            (Cochran's Q test that the coefficient is the same in every year).
        """
        terms = [t for t in self.pooled.params.index if not t.startswith(f"{self.year}[")]
        est = pd.DataFrame({y: r.params.reindex(terms) for y, r in self.by_year.items()})
        se = pd.DataFrame({y: r.bse.reindex(terms) for y, r in self.by_year.items()})
        out = pd.DataFrame(index=pd.Index(terms, name="term"))
        out["pooled"] = self.pooled.params.reindex(terms)
        out["pooled_se"] = self.pooled.bse.reindex(terms)
        for y in est.columns:
            out[y] = est[y]
        out["mean"] = est.mean(axis=1)
        out["sd"] = est.std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["cv"] = out["sd"] / out["mean"].abs()
        out["min"] = est.min(axis=1)
        out["max"] = est.max(axis=1)
        signs = est.apply(np.sign)
        out["sign_changes"] = signs.ne(np.sign(out["pooled"]), axis=0).sum(axis=1)
        w = 1.0 / se**2
        wmean = (w * est).sum(axis=1) / w.sum(axis=1)
        q = (w * est.sub(wmean, axis=0) ** 2).sum(axis=1)
        out["q"] = q
        from scipy.special import chdtrc

        out["q_p_value"] = chdtrc(len(est.columns) - 1, q)
        return out


def fit_years(
    spec: NeedSpec,
    panel: pd.DataFrame,
    *,
    year: str,
    id: str,
) -> YearsResults:
    """Fit a unit-level model on several years of data.

    Parameters
    ----------
    spec : NeedSpec
        Unit-level specification.
    panel : DataFrame
        One row per unit and year.
    year : str
        Year column.
    id : str
        Unit id column; each (unit, year) pair must occur once. With
        ``cov="cluster"`` and ``cluster=id`` the pooled fit's standard errors
        are clustered by unit (its years are not independent), the per-year
        fits use HC3.

    Returns
    -------
    YearsResults
    """
    if spec.is_person_level:
        raise InputError("fit_years is for unit-level models; the spec has unit_key set")
    for c in (year, id):
        if c not in panel.columns:
            raise DataError(f"column '{c}' not found", column=c)
    warn_influenceable(spec)
    if panel[year].isna().any():
        raise DataError(f"year column '{year}' has missing values", column=year)
    years_text = year_labels(panel[year])
    key = unit_year_labels(panel[id], years_text)
    dup = key.duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"unit-year pair(s) {format_ids(list(dict.fromkeys(key[dup])))} occur more than once",
            column=id,
        )
    years = sorted(set(years_text), key=lambda v: (len(v), v))
    if len(years) < 2:
        raise DataError(f"year column '{year}' has a single year; nothing to pool", column=year)
    table = panel.assign(**{"_unit_year": key.to_numpy(), year: years_text.to_numpy()})
    pooled_spec = replace(
        spec,
        indicators=(*spec.indicators, year),
        categorical=(*spec.categorical, year),
        reference=(*spec.reference_pairs, (year, years[0])),
    )
    year_spec = spec
    if spec.resolved_cov == "cluster" and spec.cluster == id:
        # the same unit in every year: the pooled fit clusters by unit; a single year has
        # one row per unit, so its fits use HC3 instead of one-row clusters
        table[f"{id}_"] = table[id].astype(str).str.strip()
        pooled_spec = replace(pooled_spec, cluster=f"{id}_")
        year_spec = replace(spec, cov="HC3", cluster=None)
    clean = prepare_units(pooled_spec, table.drop(columns=[id]), id="_unit_year")
    clean.index.name = id
    pooled = fit_units(pooled_spec, clean)
    by_year: dict[str, NeedResults] = {}
    for y in years:
        rows = table.loc[years_text == y].drop(columns=["_unit_year"])
        by_year[y] = fit_units(year_spec, prepare_units(year_spec, rows, id=id))
    return YearsResults(pooled=pooled, by_year=by_year, year=year, years=years)
