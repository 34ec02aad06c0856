"""The results of a fitted need model.

:class:`NeedResults` is a read-only record filled in once by an estimator. It
never refits: plots, reports and exports read from it. :meth:`NeedResults.tidy`
is the single table of estimates that every other accessor selects from.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..display import DisplayMixin, FitStats, Summary, format_number
from ..errors import InputError
from ..i18n import label
from .methods import method_info
from .spec import NeedSpec

__all__ = ["TIDY_COLUMNS", "CVResult", "NeedResults", "WaldTest"]

#: Columns of :meth:`NeedResults.tidy`, also the columns of ``coefficients.csv``.
TIDY_COLUMNS = ["estimate", "std_error", "t", "p_value", "ci_low", "ci_high"]


class WaldTest(NamedTuple):
    """A joint Wald test; unpacks as ``statistic, df, pvalue``.

    Examples
    --------
    >>> t = WaldTest(4.2, 2, 0.1225)
    >>> stat, df, p = t
    >>> print(t)
    Wald test, 2 restrictions: chi2(2) = 4.20, p = 0.1225
    """

    statistic: float
    df: int
    pvalue: float

    def __str__(self) -> str:
        return (
            f"Wald test, {self.df} restriction{'s' if self.df != 1 else ''}: "
            f"chi2({self.df}) = {self.statistic:.2f}, p = {self.pvalue:.4g}"
        )


class UnknownTermError(InputError, KeyError):
    """A coefficient name that the model does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class CVResult:
    """Out-of-sample prediction error.

    Attributes
    ----------
    scheme : str
        ``"leave-one-out"`` or ``"k-fold (k=10)"``.
    rmse : float
        Root mean squared error of out-of-sample predicted need against the
        observed cost, in kroner per unit.
    mae : float
        Mean absolute error, same scale.
    predictions : Series
        Out-of-sample predicted need per unit (kr).
    note : str
        What to know about the folds, e.g. that some training folds lacked a
        category (whose effect was then taken as the reference level's).
    """

    scheme: str
    rmse: float
    mae: float
    predictions: pd.Series
    note: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class NeedResults(DisplayMixin):
    """Estimates, fit statistics and predicted need of a fitted model.

    Attributes
    ----------
    spec : NeedSpec
        The specification that was fitted.
    method : str
        The estimator used (``"ols"``, ``"wls"``, ``"gamma"``, ...).
    params : Series
        Estimated coefficients, indexed by term.
    bse : Series
        Standard errors under the chosen covariance.
    cov_params : DataFrame
        Covariance matrix of the estimates.
    df_inference : float or None
        Degrees of freedom of the t distribution used for p-values and
        intervals; ``None`` means the normal distribution.
    need : Series
        Predicted need per unit, indexed by unit id (kr for cost models; the
        target's unit otherwise, e.g. expected cases for a binomial model).
    observed : Series
        Observed target per unit (summed over persons for person-level models).
    exposure : Series or None
        Exposure per unit (persons per unit for person-level models).
    fitted : Series
        Fitted expected values of the estimation rows (units or persons) on the
        model's scale.
    resid : Series
        Observed minus fitted, same rows and scale.
    weights : Series or None
        Estimation weights per row.
    fit_stats : Mapping
        Unit-level fit (``r2_need``, ``rmse``, ``cv_rmse``, ...) and the model's
        own statistics (``r2``, ``deviance``, ``aic``, ...).
    cv : CVResult or None
        Cross-validation at unit level.
    design : Design
        How indicators became columns; re-applied by :meth:`predict`.
    data : DataFrame
        The estimation rows (units or persons), as validated.
    core : Core
        The fitted model on its own scale, with the statsmodels result(s).
    person_stats : Mapping or None
        Person-level fit of person-level models (R², AUC, deviance, ...).
    predictive_ratios : DataFrame or None
        Sum predicted / sum observed by subgroup (person-level models).
    """

    spec: NeedSpec
    method: str
    params: pd.Series
    bse: pd.Series
    cov_params: pd.DataFrame
    df_inference: float | None
    need: pd.Series
    observed: pd.Series
    exposure: pd.Series | None
    fitted: pd.Series
    resid: pd.Series
    weights: pd.Series | None
    fit_stats: Mapping[str, Any]
    cv: CVResult | None
    design: Any
    data: pd.DataFrame = field(repr=False)
    core: Any = field(repr=False)
    person_stats: Mapping[str, Any] | None = None
    predictive_ratios: pd.DataFrame | None = field(default=None, repr=False)
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    refitter: Callable[..., Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # fit statistics show themselves as a labelled table, and stay a mapping
        object.__setattr__(self, "fit_stats", FitStats(self.fit_stats))
        if self.person_stats is not None:
            object.__setattr__(self, "person_stats", FitStats(self.person_stats))

    def refit(self, rows: np.ndarray, notes: Any | None = None) -> Any:
        """The same method refitted on some of the estimation rows (point estimates).

        What the bootstrap and the cross-validation call: ``rows`` are
        positions in :attr:`data` (repeats allowed). Returns the fitted core
        (``predict``, ``params``); a category absent from the rows takes the
        reference level's value, recorded in ``notes`` (a ``FoldNotes``).

        Raises
        ------
        InputError
            For results that were not estimated from rows held here: given
            coefficients, or a fit on collapsed cells.
        """
        if self.refitter is None:
            raise InputError(
                "these results cannot be refitted: "
                + (
                    "a fit on collapsed cells keeps only cell sums"
                    if self.extras.get("collapsed")
                    else "their coefficients were not estimated from rows held here"
                ),
                field="rows",
            )
        return self.refitter(self, np.asarray(rows), notes)

    @property
    def model_result(self) -> Any:
        """The underlying statsmodels result (a dict of them for two-part models)."""
        return self.core.result

    @property
    def origin(self) -> str:
        """Where the coefficients come from.

        ``"estimated"`` on these data, ``"given"`` (a coefficient table applied,
        ``[model] coefficients``) or ``"formula"`` (fixed criteria weights or
        amounts). Only an estimated model has fit statistics of its own; an
        applied one has a fit only when this year's costs are in the data.
        """
        if self.extras.get("formula"):
            return "formula"
        if self.extras.get("given"):
            return "given"
        return "estimated"

    @property
    def has_costs(self) -> bool:
        """Whether the observed cost of every unit is known (else no fit can be shown)."""
        return bool(len(self.observed)) and bool(self.observed.notna().all())

    @property
    def level(self) -> str:
        """``"person"`` for person-level models, else ``"unit"``."""
        return "person" if self.person_stats is not None else "unit"

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Expected target for new rows on the model's scale (no refitting).

        For a per-capita unit model this is the expected cost per unit of
        exposure; for a person-level model, the expected cost per person.
        """
        return pd.Series(self.core.predict(data), index=data.index, name="predicted")

    def design_matrix(self) -> pd.DataFrame:
        """The design matrix of the estimation rows.

        For a fit on collapsed cells: one row per cell, in the order of
        ``weights`` (the persons per cell), so that weighted statistics equal
        the person-level ones.
        """
        if self.extras.get("collapsed"):
            return self.design.frame(self.extras["cells"])
        return self.design.frame(self.data)

    @property
    def cells(self) -> pd.DataFrame | None:
        """Cell table of a cell model (persons, mean, estimate, merge/shrink rule)."""
        return self.core.result if method_info(self.method).kind == "cell-means" else None

    # ------------------------------------------------------------------ tables
    def tidy(self, alpha: float | None = None) -> pd.DataFrame:
        """One row per term: estimate, std. error, t, p-value and interval.

        Parameters
        ----------
        alpha : float, optional
            1 minus the confidence level (default: the spec's ``alpha``).

        Returns
        -------
        DataFrame
            Index ``term``; columns ``estimate, std_error, t, p_value, ci_low,
            ci_high``. ``t`` is the Wald statistic, referred to a t
            distribution with :attr:`df_inference` degrees of freedom, or to the
            normal distribution when that is ``None``. For given coefficients
            (:attr:`origin` ``"given"``) the values of the coefficient file are
            kept as written, at the spec's ``alpha``.
        """
        a = self.spec.alpha if alpha is None else alpha
        if not 0.0 < a < 1.0:
            raise ValueError(f"alpha must be between 0 and 1; got {a!r}")
        est = self.params.astype(float)
        se = self.bse.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = est / se
        # scipy.special's distribution functions, which scipy.stats wraps (lighter to load)
        from scipy.special import ndtr, ndtri, stdtr, stdtrit

        if self.df_inference is None:
            p = 2.0 * ndtr(-np.abs(t))
            q = ndtri(1.0 - a / 2.0)
        else:
            p = 2.0 * stdtr(self.df_inference, -np.abs(t))
            q = stdtrit(self.df_inference, 1.0 - a / 2.0)
        out = pd.DataFrame(
            {
                "estimate": est,
                "std_error": se,
                "t": t,
                "p_value": p,
                "ci_low": est - q * se,
                "ci_high": est + q * se,
            }
        )
        out.index.name = "term"
        own = self.extras.get("given_table")
        if own is not None and alpha is None:
            # given coefficients: the statistics the estimating run wrote, kept as they were
            own = own.reindex(out.index)
            for col in own.columns:
                known = own[col].notna()
                out.loc[known, col] = own.loc[known, col]
        return out

    def coef(self) -> pd.Series:
        """Estimated coefficients. Deprecated: use :attr:`params` (statsmodels' name)."""
        warnings.warn(
            "NeedResults.coef() is deprecated; use .params", DeprecationWarning, stacklevel=2
        )
        return self.tidy()["estimate"]

    def se(self) -> pd.Series:
        """Standard errors. Deprecated: use :attr:`bse` (statsmodels' name)."""
        warnings.warn("NeedResults.se() is deprecated; use .bse", DeprecationWarning, stacklevel=2)
        return self.tidy()["std_error"]

    @property
    def pvalues(self) -> pd.Series:
        """p-values of the Wald tests (a column of :meth:`tidy`)."""
        return self.tidy()["p_value"]

    def wald_test(self, values: Mapping[str, float]) -> WaldTest:
        """Joint Wald test that the named coefficients equal ``values``.

        Uses the estimates' covariance (so correlated estimates are judged
        jointly) and the chi-squared distribution.

        Parameters
        ----------
        values : mapping
            Hypothesised value per term, e.g. ``{"single_parent": 0.0}``.

        Returns
        -------
        WaldTest
            ``statistic``, ``df`` and ``pvalue`` (unpacks as a tuple).

        Raises
        ------
        UnknownTermError
            For a term the model does not have (an ``InputError`` and a ``KeyError``).
        """
        terms = list(values)
        missing = [t for t in terms if t not in self.params.index]
        if missing:
            raise UnknownTermError(
                f"no term {missing[0]!r}; terms are {list(self.params.index)}", field="values"
            )
        d = self.params[terms].to_numpy(dtype=float) - np.array(
            [values[t] for t in terms], dtype=float
        )
        v = self.cov_params.loc[terms, terms].to_numpy(dtype=float)
        stat = float(d @ np.linalg.solve(v, d))
        from scipy.special import chdtrc

        return WaldTest(stat, len(terms), float(chdtrc(len(terms), stat)))

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals (columns ``ci_low``, ``ci_high`` of :meth:`tidy`)."""
        return self.tidy(alpha)[["ci_low", "ci_high"]]

    @property
    def nobs(self) -> int:
        """Number of units (or persons) in the estimation."""
        return int(self.fit_stats["nobs"])

    @property
    def need_per_capita(self) -> pd.Series | None:
        """Predicted need per unit of exposure (kr per pupil/citizen)."""
        if self.exposure is None:
            return None
        return self.need / self.exposure

    def fit_table(self) -> pd.DataFrame:
        """Fit statistics as a two-column table (``statistic``, ``value``)."""
        rows = [(k, v) for k, v in self.fit_stats.items()]
        return pd.DataFrame(rows, columns=["statistic", "value"])

    def units_table(self) -> pd.DataFrame:
        """Per unit: observed cost, predicted need, exposure and residual."""
        out = pd.DataFrame({"observed": self.observed, "need": self.need})
        if self.exposure is not None:
            out.insert(0, "exposure", self.exposure)
        out["difference"] = out["observed"] - out["need"]
        if self.cv is not None:
            out["need_cv"] = self.cv.predictions
        return out

    # ---------------------------------------------------------------- display
    def headline_stats(self, lang: str = "en") -> list[tuple[str, str, float]]:
        """The fit statistics worth showing first: (key, label, value)."""
        keys = [
            "r2",
            "adj_r2",
            "r2_log",
            "pseudo_r2",
            "deviance_r2",
            "pseudo_r2_any",
            "deviance_r2_cost",
            "cells",
            "small_cells",
            "r2_need",
            "rmse",
            "cv_rmse",
        ]
        fs = self.fit_stats
        return [
            (k, label(k, lang), float(fs[k]))
            for k in keys
            if isinstance(fs.get(k), int | float) and np.isfinite(fs[k])
        ]

    def _header(self) -> list[tuple[str, str]]:
        s = self.spec
        target = s.target
        if s.exposure and s.per_capita and not s.is_person_level:
            target += f" per {s.exposure}"
        rows = [
            ("Method", self.method.upper()),
            ("Target", target),
            ("Exposure", s.exposure or ("persons" if s.is_person_level else "-")),
            ("Covariance", s.resolved_cov + (f" by {s.cluster}" if s.cluster else "")),
            ("Units", f"{self.nobs:,}"),
        ]
        if self.person_stats is not None:
            rows.append(("Persons", f"{int(self.person_stats['persons']):,}"))
            for k, label in (("r2_person", "R² per person"), ("auc", "AUC of cost > 0")):
                if k in self.person_stats:
                    rows.append((label, format_number(self.person_stats[k], 4)))
        for _, label, v in self.headline_stats():
            rows.append((label, format_number(v, 4 if abs(v) < 10 else 0)))
        if self.cv is not None:
            rows.append(("CV scheme", self.cv.scheme))
            if self.cv.note:
                rows.append(("CV note", self.cv.note))
        return rows

    def summary(self) -> Summary:
        """Specification, fit and the coefficient table.

        Returns
        -------
        Summary
            Shown as text by ``print`` and as tables in JupyterLab.
        """
        dist = "normal" if self.df_inference is None else f"t({self.df_inference:g})"
        return Summary(
            "Need model results",
            self._header(),
            [("", self.tidy())],
            [f"{100 * (1 - self.spec.alpha):g}% intervals; p-values from the {dist} distribution"],
        )

    def _describe(self) -> str:
        return (
            f"{self.method.upper()} of {self.spec.target} on {len(self.spec.indicators)} "
            f"indicators, {self.nobs:,} units"
        )
