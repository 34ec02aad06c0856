"""Side-by-side comparison of fitted need models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary

__all__ = ["COMPARE_STATS", "Comparison", "compare"]

#: Fit statistics shown under the coefficients, when a model defines them.
COMPARE_STATS = (
    "nobs",
    "r2",
    "adj_r2",
    "pseudo_r2",
    "deviance_r2",
    "r2_need",
    "rmse",
    "cv_rmse",
    "aic",
    "bic",
)


class _Fitted(Protocol):
    method: str
    fit_stats: Mapping[str, Any]
    cv: Any

    def tidy(self) -> pd.DataFrame: ...


@dataclass(frozen=True, repr=False)
class Comparison(DisplayMixin):
    """Several models side by side.

    Attributes
    ----------
    estimates : DataFrame
        Coefficients (terms × models); missing where a model lacks the term.
    std_errors : DataFrame
        Standard errors, same shape (missing for penalised fits).
    stats : DataFrame
        Fit statistics (statistics × models); missing where undefined.
    cv_schemes : Series
        Cross-validation scheme of each model.
    """

    estimates: pd.DataFrame
    std_errors: pd.DataFrame
    stats: pd.DataFrame
    cv_schemes: pd.Series

    def table(self, digits: int = 4) -> pd.DataFrame:
        """One text table: ``estimate (std. error)`` per term, then the statistics."""

        def fmt(v: float) -> str:
            if pd.isna(v):
                return ""
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            if abs(v) >= 1 or v == 0:
                return f"{v:,.{digits}f}"
            return f"{v:.{digits}g}"

        rows = {}
        for term in self.estimates.index:
            rows[term] = [
                (fmt(e) + (f" ({fmt(s)})" if not pd.isna(s) else "")) if not pd.isna(e) else ""
                for e, s in zip(self.estimates.loc[term], self.std_errors.loc[term], strict=True)
            ]
        for stat in self.stats.index:
            values = self.stats.loc[stat]
            rows[stat] = [
                (f"{int(v):d}" if stat == "nobs" and not pd.isna(v) else fmt(v)) for v in values
            ]
        rows["cv_scheme"] = list(self.cv_schemes)
        return pd.DataFrame.from_dict(rows, orient="index", columns=self.estimates.columns)

    def to_markdown(self, digits: int = 4) -> str:
        """The :meth:`table` as a Markdown (pipe) table."""
        return str(self.table(digits).to_markdown())

    def to_html(self, digits: int = 4) -> str:
        """The :meth:`table` as an HTML table."""
        return str(self.table(digits).to_html(escape=True, border=0))

    def summary(self) -> Summary:
        """Coefficients, standard errors and fit statistics side by side."""
        return Summary(
            "Model comparison",
            [("Models", ", ".join(map(str, self.estimates.columns)))],
            [("Estimates", self.estimates), ("Standard errors", self.std_errors),
             ("Fit", _fit_display(self.stats))],
        )  # fmt: skip

    def _describe(self) -> str:
        return f"{self.estimates.shape[1]} models, {self.estimates.shape[0]} terms"


#: Statistics shown as shares (three decimals) and as counts (whole numbers) in a comparison.
_SHARE_STATS = frozenset({"r2", "adj_r2", "pseudo_r2", "deviance_r2", "r2_need"})
_COUNT_STATS = frozenset({"nobs"})


def _fit_display(stats: pd.DataFrame) -> pd.DataFrame:
    """The fit table as text, each statistic in its own format: R² to three decimals, counts
    as whole numbers, errors and information criteria with separators (never a column's
    common format across statistics)."""

    def fmt(name: str, v: object) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "–"
        x = float(v)  # type: ignore[arg-type]
        if name in _COUNT_STATS:
            return f"{x:,.0f}"
        if name in _SHARE_STATS:
            return f"{x:.3f}"
        return f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"

    return pd.DataFrame(
        {c: [fmt(str(i), v) for i, v in stats[c].items()] for c in stats.columns},
        index=stats.index,
    )


def compare(
    results: Mapping[str, _Fitted] | Sequence[_Fitted],
    stats: Sequence[str] = COMPARE_STATS,
) -> Comparison:
    """Compare fitted models side by side.

    Parameters
    ----------
    results : mapping or sequence
        Named results (``{"WLS": res1, "Gamma": res2}``) or a list (named by
        their method). :class:`NeedResults` and :class:`RegularizedResults`
        can be mixed.
    stats : sequence of str
        Fit statistics to show, in order; statistics no model defines are
        dropped.

    Returns
    -------
    Comparison
        ``.estimates``, ``.std_errors``, ``.stats`` as DataFrames;
        ``.table()``, ``.to_markdown()``, ``.to_html()`` for display.

    Examples
    --------
    >>> import needsmodel as nm
    >>> units = nm.datasets.load_sample()
    >>> one = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> two = nm.NeedSpec("special_ed_cost", ["parents_low_education", "single_parent"],
    ...                   exposure="pupils")
    >>> a = nm.fit(one, units, id="district")
    >>> b = nm.fit(two, units, id="district")
    >>> nm.compare({"one": a, "two": b}).estimates.shape
    (3, 2)
    """
    if isinstance(results, Mapping):
        named = dict(results)
    else:
        named = {}
        for r in results:
            name = r.method
            i = 2
            while name in named:
                name = f"{r.method} ({i})"
                i += 1
            named[name] = r
    if not named:
        raise ValueError("compare() needs at least one fitted model")
    tidies = {name: r.tidy() for name, r in named.items()}
    terms: list[str] = []
    for t in tidies.values():
        terms += [term for term in t.index if term not in terms]
    est = pd.DataFrame({n: t["estimate"].reindex(terms) for n, t in tidies.items()})
    se = pd.DataFrame({n: t["std_error"].reindex(terms) for n, t in tidies.items()})
    st = pd.DataFrame(
        {n: [_num(r.fit_stats.get(s)) for s in stats] for n, r in named.items()},
        index=list(stats),
    )
    st = st.loc[~st.isna().all(axis=1)]
    schemes = pd.Series(
        [r.cv.scheme if r.cv is not None else "" for r in named.values()],
        index=list(named),
        dtype=object,
    )
    return Comparison(estimates=est, std_errors=se, stats=st, cv_schemes=schemes)


def _num(v: Any) -> float:
    if isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool):
        return float(v)
    return float("nan")
