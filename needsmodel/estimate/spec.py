"""Need model specification: what to regress on what, and how."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from ..errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from ..config import ModelConfig
    from .results import NeedResults

__all__ = ["COV_TYPES", "METHODS", "CovType", "Method", "NeedSpec"]

Method = Literal["auto", "ols", "wls"]
CovType = Literal["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"]
METHODS: tuple[str, ...] = get_args(Method)
COV_TYPES: tuple[str, ...] = get_args(CovType)


@dataclass(frozen=True)
class NeedSpec:
    """Specification of a need model.

    Parameters
    ----------
    target : str
        Observed cost column (kr per year per unit).
    indicators : sequence of str
        Indicator columns (shares or counts the unit cannot influence).
    exposure : str, optional
        Exposure column (pupils, citizens). With ``per_capita=True`` the model
        explains cost per unit of exposure and need is the prediction times the
        exposure.
    method : {"auto", "ols", "wls"}
        ``"wls"`` weights units by exposure, ``"ols"`` weights them equally;
        ``"auto"`` is WLS when an exposure is given, else OLS.
    cov : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"}
        Covariance of the estimates. The default, HC3, is robust to
        heteroskedasticity and keeps its coverage with few units (Long & Ervin,
        2000, *The American Statistician* 54(3)); HC1 is the Stata/Stock-Watson
        convention.
    cluster : str, optional
        Column of cluster labels, required with ``cov="cluster"``.
    per_capita : bool
        Model cost per unit of exposure (default) rather than total cost.
    cv : "auto", "loo" or int
        Cross-validation: leave-one-out, k folds, or ``"auto"`` (LOO up to 100
        units, else 10 folds).
    alpha : float
        1 minus the confidence level of the intervals in :meth:`NeedResults.tidy`.

    Examples
    --------
    >>> spec = NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> spec.resolved_method, spec.n_params
    ('wls', 2)
    """

    target: str
    indicators: tuple[str, ...]
    exposure: str | None = None
    method: str = "auto"
    cov: str = "HC3"
    cluster: str | None = None
    per_capita: bool = True
    cv: str | int = "auto"
    alpha: float = 0.05

    def __post_init__(self) -> None:
        inds = self.indicators
        if isinstance(inds, str):
            inds = (inds,)
        if not isinstance(inds, Sequence) or not all(isinstance(i, str) for i in inds):
            raise InputError(f"indicators must be a list of column names; got {self.indicators!r}")
        object.__setattr__(self, "indicators", tuple(inds))
        if len(set(self.indicators)) != len(self.indicators):
            raise InputError(f"indicators lists a column twice: {list(self.indicators)}")
        if self.method not in METHODS:
            raise InputError(
                f"method must be one of {', '.join(map(repr, METHODS))}; got {self.method!r}"
            )
        if self.cov not in COV_TYPES:
            raise InputError(
                f"cov must be one of {', '.join(map(repr, COV_TYPES))}; got {self.cov!r}"
            )
        if self.cov == "cluster" and self.cluster is None:
            raise InputError("cov='cluster' needs cluster=<column with cluster labels>")
        if self.resolved_method == "wls" and self.exposure is None:
            raise InputError("method='wls' weights by exposure; give exposure=<column>")
        if not (self.cv in ("auto", "loo") or (isinstance(self.cv, int) and self.cv >= 2)):
            raise InputError(f"cv must be 'auto', 'loo' or an integer k >= 2; got {self.cv!r}")
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be between 0 and 1; got {self.alpha!r}")

    @property
    def resolved_method(self) -> str:
        """The estimator used: ``auto`` is WLS with an exposure, else OLS."""
        if self.method != "auto":
            return self.method
        return "wls" if self.exposure is not None else "ols"

    @property
    def terms(self) -> list[str]:
        """Names of the parameters, intercept first."""
        return ["Intercept", *self.indicators]

    @property
    def n_params(self) -> int:
        """Number of parameters (intercept plus indicators)."""
        return 1 + len(self.indicators)

    @property
    def numeric_columns(self) -> list[str]:
        """Columns that must be numeric."""
        cols = [self.target, *self.indicators]
        if self.exposure is not None:
            cols.insert(1, self.exposure)
        return cols

    @property
    def nonnegative_columns(self) -> list[str]:
        """Columns that must not be negative (cost and exposure)."""
        return [c for c in (self.target, self.exposure) if c is not None]

    @property
    def extra_columns(self) -> list[str]:
        """Other used columns (the cluster labels)."""
        return [self.cluster] if self.cluster is not None else []

    @classmethod
    def from_config(cls, model: ModelConfig) -> NeedSpec:
        """Build a spec from the ``[model]`` table of a run configuration."""
        return cls(
            target=model.target,
            indicators=model.indicators,
            exposure=model.exposure,
            method=model.method,
            cov=model.cov,
            cluster=model.cluster,
            per_capita=model.per_capita,
            cv=model.cv,
            alpha=model.alpha,
        )

    def fit(self, units: pd.DataFrame) -> NeedResults:
        """Fit the model to a validated units table (see :func:`needsmodel.fit`)."""
        from .fit import fit

        return fit(self, units)
