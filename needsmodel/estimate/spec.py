"""Need model specification: what to regress on what, and how."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ..errors import InputError
from .methods import MethodInfo, method_info, method_names, resolve_method

__all__ = ["COV_TYPES", "LINKS_ALLOWED", "METHODS", "CovType", "Method", "NeedSpec"]

#: A method name (see :mod:`needsmodel.estimate.methods`, the registry).
Method = str
CovType = Literal["auto", "nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"]
METHODS: tuple[str, ...] = method_names()
COV_TYPES: tuple[str, ...] = get_args(CovType)
LINKS_ALLOWED = ("log", "logit", "identity", "inverse", "probit", "cloglog")


@dataclass(frozen=True)
class NeedSpec:
    """Specification of a need model.

    Parameters
    ----------
    target : str
        Observed cost column (kr per year per unit, or per person for
        person-level models); a count or a 0/1 outcome for ``binomial``.
    indicators : sequence of str
        Indicators the unit cannot influence. Text columns, and columns listed
        in ``categorical``, become dummy variables.
    exposure : str, optional
        Exposure column of the units table (pupils, citizens). With
        ``per_capita=True`` the model explains the target per unit of exposure,
        weighted by exposure, and need is the prediction times the exposure.
    method : str
        ``"ols"``, ``"wls"`` (weighted by exposure), ``"loglinear"`` (OLS/WLS
        of the log target, retransformed with Duan's smearing factor),
        ``"gamma"``, ``"poisson"``, ``"binomial"`` (alias ``"logit"``) and
        ``"tweedie"`` GLMs, ``"twopart"`` (P(target > 0) by logit times
        E[target | target > 0] by Gamma GLM), ``"cells"`` (mean per
        combination of categories, person level). ``"auto"`` is WLS with an
        exposure, else OLS.
        A Poisson or binomial model with an exposure and whole-number targets
        is fitted as counts (with a log-exposure offset, or as successes out of
        trials), so its log-likelihood, AIC and BIC are the textbook ones; a
        Poisson model of non-integer costs is quasi-Poisson and reports none.
    cov : str
        Covariance of the estimates: ``"nonrobust"``, ``"HC0"``-``"HC3"``,
        ``"cluster"`` or ``"auto"``: HC3 for linear models (robust, keeps its
        coverage with few units; Long & Ervin 2000), HC0 for GLMs (statsmodels
        computes only the HC0 sandwich for GLMs, so HC1-HC3 are refused there).
    cluster : str, optional
        Column of cluster labels, required with ``cov="cluster"``.
    per_capita : bool
        Model the target per unit of exposure (default) rather than in total.
    cv : "auto", "loo" or int
        Cross-validation: leave-one-out, k folds, or ``"auto"`` (LOO up to 100
        units, else 10 folds). Person-level models are cross-validated by unit.
    alpha : float
        1 minus the confidence level of the intervals.
    categorical : sequence of str
        Numeric columns to treat as categories (e.g. an income quartile).
    reference : mapping
        Reference level per categorical indicator (default: the first level).
    link : str, optional
        GLM link: ``"log"`` (default), ``"logit"`` (binomial default),
        ``"identity"``, ``"inverse"``, ``"probit"``, ``"cloglog"``.
    var_power : float
        Tweedie variance power, between 1 (Poisson) and 2 (Gamma).
    unit_key : str, optional
        Person-level model: the column of the person table holding the unit id.
        Predictions per person are summed to units.
    min_cell_size : int
        Cell models: cells with fewer persons are merged or shrunk.
    small_cells : {"merge", "shrink"}
        Cell models: what to do with small cells.
    influenceable : sequence of str
        Indicators the unit can influence itself; using one emits an
        :class:`~needsmodel.errors.InfluenceableIndicatorWarning`.
    constraints : {"none", "nonnegative"}
        ``"nonnegative"``: the slopes of an OLS/WLS model are estimated under
        the constraint that none is negative (SciPy's bounded least squares),
        so no criterion takes money from the units that have more of it;
        standard errors and intervals come from a bootstrap of the units.

    Examples
    --------
    >>> spec = NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> spec.resolved_method, spec.resolved_cov, spec.n_params
    ('wls', 'HC3', 2)
    """

    target: str
    indicators: tuple[str, ...]
    exposure: str | None = None
    method: str = "auto"
    cov: str = "auto"
    cluster: str | None = None
    per_capita: bool = True
    cv: str | int = "auto"
    alpha: float = 0.05
    categorical: tuple[str, ...] = ()
    reference: tuple[tuple[str, Any], ...] | Mapping[str, Any] | None = ()
    link: str | None = None
    var_power: float = 1.5
    unit_key: str | None = None
    min_cell_size: int = 30
    small_cells: str = "merge"
    influenceable: tuple[str, ...] = ()
    constraints: str = "none"

    def __post_init__(self) -> None:
        for name in ("indicators", "categorical", "influenceable"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, Sequence) or not all(isinstance(i, str) for i in value):
                raise InputError(
                    f"{name} must be a list of column names; got {value!r}", field=name
                )
            object.__setattr__(self, name, tuple(value))
        ref = self.reference if self.reference is not None else ()
        if isinstance(ref, Mapping):
            ref = tuple(ref.items())
        object.__setattr__(self, "reference", tuple(sorted((str(k), v) for k, v in ref)))
        if len(set(self.indicators)) != len(self.indicators):
            raise InputError(
                f"indicators lists a column twice: {list(self.indicators)}", field="indicators"
            )
        if self.method not in METHODS:
            raise InputError(
                f"method must be one of {', '.join(map(repr, METHODS))}; got {self.method!r}",
                field="method",
            )
        if self.cov not in COV_TYPES:
            raise InputError(
                f"cov must be one of {', '.join(map(repr, COV_TYPES))}; got {self.cov!r}",
                field="cov",
            )
        if self.cov == "cluster" and self.cluster is None:
            raise InputError(
                "cov='cluster' needs cluster=<column with cluster labels>", field="cov"
            )
        if self.cluster is not None and self.cov != "cluster":
            raise InputError(
                f"cluster is set but cov is {self.cov!r}; use cov='cluster'", field="cluster"
            )
        for role, column in (("exposure", self.exposure), ("target", self.target)):
            if column is not None and column in self.indicators:
                raise InputError(
                    f"{role} '{column}' is also listed as an indicator", field="indicators"
                )
        m = self.resolved_method
        info = self.info
        if info.requires_exposure and self.exposure is None:
            raise InputError(
                f"method={m!r} weights by exposure; give exposure=<column>", field="method"
            )
        if self.cov != "auto" and self.cov not in info.covariances:
            raise InputError(
                f"cov={self.cov!r} is not available for method {m!r}"
                + (": statsmodels computes only the HC0 sandwich for GLMs" if info.has_link else "")
                + f"; use {', '.join(map(repr, info.covariances))}",
                field="cov",
            )
        if info.person_level_only and self.unit_key is None:
            raise InputError(
                f"method={m!r} groups persons; give unit_key=<unit column of the person table>",
                field="method",
            )
        if self.link is not None and self.link not in LINKS_ALLOWED:
            raise InputError(
                f"link must be one of {', '.join(map(repr, LINKS_ALLOWED))}; got {self.link!r}",
                field="link",
            )
        if self.link is not None and not info.has_link:
            raise InputError(f"link applies to GLM methods, not {m!r}", field="link")
        if not 1.0 <= self.var_power <= 2.0:
            raise InputError(
                f"var_power must be between 1 and 2; got {self.var_power!r}", field="var_power"
            )
        if not (self.cv in ("auto", "loo") or (isinstance(self.cv, int) and self.cv >= 2)):
            raise InputError(
                f"cv must be 'auto', 'loo' or an integer k >= 2; got {self.cv!r}", field="cv"
            )
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be between 0 and 1; got {self.alpha!r}", field="alpha")
        if self.constraints not in ("none", "nonnegative"):
            raise InputError(
                f"constraints must be 'none' or 'nonnegative'; got {self.constraints!r}",
                field="constraints",
            )
        if self.constraints == "nonnegative" and (not info.nonnegative_constraint or self.unit_key):
            raise InputError(
                "constraints='nonnegative' is for unit-level linear models (ols or wls): "
                f"the criteria of an additive model; got method {m!r}"
                + (" at person level" if self.unit_key else ""),
                field="constraints",
            )
        if self.small_cells not in ("merge", "shrink"):
            raise InputError(
                f"small_cells must be 'merge' or 'shrink'; got {self.small_cells!r}",
                field="small_cells",
            )
        if self.min_cell_size < 1:
            raise InputError(
                f"min_cell_size must be at least 1; got {self.min_cell_size!r}",
                field="min_cell_size",
            )
        stray = [c for c in self.categorical if c not in self.indicators]
        if stray:
            raise InputError(
                f"categorical lists '{stray[0]}', which is not an indicator", field="categorical"
            )

    # ------------------------------------------------------------ resolution
    @property
    def resolved_method(self) -> str:
        """The estimator used: ``auto`` is WLS with an exposure, else OLS; ``logit`` is binomial."""
        return resolve_method(
            self.method, exposure=self.exposure is not None, person_level=self.unit_key is not None
        )

    @property
    def info(self) -> MethodInfo:
        """What the resolved method is and can do (its row of the method registry)."""
        return method_info(self.resolved_method)

    @property
    def resolved_cov(self) -> str:
        """The covariance used: ``auto`` is HC3 for linear models, HC0 for GLMs."""
        if self.cov != "auto":
            return self.cov
        return self.info.default_cov

    @property
    def is_person_level(self) -> bool:
        """Whether the model is fitted on persons and summed to units."""
        return self.unit_key is not None

    @property
    def reference_map(self) -> dict[str, Any]:
        """Reference levels as a dict."""
        return dict(self.reference_pairs)

    @property
    def reference_pairs(self) -> tuple[tuple[str, Any], ...]:
        """Reference levels as sorted (column, level) pairs."""
        ref = self.reference
        if ref is None:
            return ()
        if isinstance(ref, Mapping):
            return tuple(sorted(ref.items()))
        return tuple(ref)

    @property
    def weighted(self) -> bool:
        """Whether unit-level rows are weighted by exposure."""
        if not self.info.weighs_by_exposure or self.exposure is None or self.is_person_level:
            return False
        return self.per_capita

    # ------------------------------------------------------------- columns
    @property
    def terms(self) -> list[str]:
        """Names of the parameters for numeric indicators (intercept first)."""
        return ["Intercept", *self.indicators]

    @property
    def n_params(self) -> int:
        """Number of parameters, counting one per numeric indicator."""
        return 1 + len(self.indicators)

    @property
    def numeric_columns(self) -> list[str]:
        """Unit-table columns that must be numeric."""
        cols = [self.target, *(c for c in self.indicators if c not in self.categorical)]
        if self.exposure is not None:
            cols.insert(1, self.exposure)
        return cols

    @property
    def nonnegative_columns(self) -> list[str]:
        """Columns that must not be negative (target and exposure)."""
        return [c for c in (self.target, self.exposure) if c is not None]

    @property
    def extra_columns(self) -> list[str]:
        """Other used columns (categorical indicators, cluster labels)."""
        out = list(self.categorical)
        if self.cluster is not None:
            out.append(self.cluster)
        return out
