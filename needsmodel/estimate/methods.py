"""The method registry: one row per estimator, and the only place its name is listed.

Every part of the package that behaves differently by estimator (the fitting
cores, the register engine, the covariances, the diagnostics, the parametric
draws of the keys, the criteria weights, the report and the exports) asks this
table what the method can do instead of listing method names of its own, in
the manner of pyfixest's table of capabilities. ``tests/test_architecture.py``
fails when a method name is compared or listed anywhere else.

Examples
--------
>>> method_info("logit").name, method_info("logit").sm_family
('binomial', 'Binomial')
>>> methods_where(collapsible=True)
('ols', 'poisson', 'binomial')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputError

__all__ = [
    "AUTO",
    "REGISTRY",
    "MethodInfo",
    "method_info",
    "method_names",
    "methods_where",
    "resolve_method",
]

Kind = Literal["linear", "log-linear", "glm", "two-part", "cell-means"]

#: The choice that lets the data decide (see :func:`resolve_method`).
AUTO = "auto"

_HC = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
_GLM_COV = ("nonrobust", "HC0", "cluster")


@dataclass(frozen=True)
class MethodInfo:
    """What one estimator is and can do.

    Attributes
    ----------
    name : str
        The method's name (``[model] method``).
    kind : str
        ``"linear"`` (OLS/WLS), ``"log-linear"`` (OLS of the log target,
        retransformed), ``"glm"``, ``"two-part"``, ``"cell-means"``.
    sm_family : str or None
        statsmodels family class of a GLM (``"Gamma"``, ``"Poisson"``, ...).
    default_link : str or None
        Link of a GLM when none is given.
    covariances : tuple of str
        Covariance types the estimator has (statsmodels computes only the HC0
        sandwich for GLMs).
    default_cov : str
        Covariance of ``cov = "auto"``.
    weighs_by_exposure : bool
        Unit rows are weighted by the exposure of a per-capita model.
    requires_exposure : bool
        The method cannot run without an exposure column.
    outcome : str
        What the target must be: ``"any"``, ``"positive"``, ``"nonnegative"`` or
        ``"share"`` (between 0 and 1).
    counts : str or None
        Whole-number targets with an exposure are fitted as counts: ``"trials"``
        (successes out of trials) or ``"exposure"`` (a log-exposure offset).
    additive : bool
        Need is linear in the indicators, so it splits into criteria weights
        and kroner per person.
    collapsible : bool
        Exact on collapsed cells (the likelihood depends on the persons only
        through cell counts and sums).
    person_level_only : bool
        Needs persons (``unit_key``).
    nonnegative_constraint : bool
        Slopes can be constrained to be non-negative (bounded least squares).
    given_coefficients : bool
        Coefficients estimated elsewhere can be applied with this method.
    parametric_draws : bool
        Key intervals can be drawn from the coefficients' covariance.
    unit_diagnostics : bool
        Influence, heteroskedasticity and prediction-band diagnostics apply
        to a unit-level fit.
    aliases : tuple of str
        Other names accepted for it.
    """

    name: str
    kind: Kind
    sm_family: str | None = None
    default_link: str | None = None
    covariances: tuple[str, ...] = _HC
    default_cov: str = "HC3"
    weighs_by_exposure: bool = True
    requires_exposure: bool = False
    outcome: str = "any"
    counts: str | None = None
    additive: bool = False
    collapsible: bool = False
    person_level_only: bool = False
    nonnegative_constraint: bool = False
    given_coefficients: bool = True
    parametric_draws: bool = True
    unit_diagnostics: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def is_glm(self) -> bool:
        """A generalised linear model fitted by statsmodels' GLM."""
        return self.kind == "glm"

    @property
    def is_linear(self) -> bool:
        """OLS or WLS on the cost scale."""
        return self.kind == "linear"

    @property
    def least_squares(self) -> bool:
        """Fitted by (weighted) least squares: OLS/WLS, on the cost or the log scale."""
        return self.kind in ("linear", "log-linear")

    @property
    def has_link(self) -> bool:
        """Whether a ``link`` can be chosen (the GLMs and the two-part model)."""
        return self.default_link is not None


def _glm(name: str, family: str, link: str, **kw: object) -> MethodInfo:
    return MethodInfo(
        name=name,
        kind="glm",
        sm_family=family,
        default_link=link,
        covariances=_GLM_COV,
        default_cov="HC0",
        **kw,  # type: ignore[arg-type]
    )


#: name → what it is and can do, in the order the documentation lists them.
REGISTRY: dict[str, MethodInfo] = {
    m.name: m
    for m in (
        MethodInfo(
            "ols",
            "linear",
            weighs_by_exposure=False,
            additive=True,
            collapsible=True,
            nonnegative_constraint=True,
        ),
        MethodInfo(
            "wls", "linear", requires_exposure=True, additive=True, nonnegative_constraint=True
        ),
        MethodInfo("loglinear", "log-linear", outcome="positive"),
        _glm("gamma", "Gamma", "log", outcome="positive"),
        _glm(
            "poisson", "Poisson", "log", outcome="nonnegative", counts="exposure", collapsible=True
        ),
        _glm(
            "binomial",
            "Binomial",
            "logit",
            outcome="share",
            counts="trials",
            collapsible=True,
            aliases=("logit",),
        ),
        _glm("tweedie", "Tweedie", "log", outcome="nonnegative"),
        MethodInfo(
            "twopart",
            "two-part",
            default_link="log",
            covariances=_GLM_COV,
            default_cov="HC0",
            outcome="nonnegative",
            given_coefficients=False,
            unit_diagnostics=False,
        ),
        MethodInfo(
            "cells",
            "cell-means",
            covariances=("nonrobust",),
            default_cov="nonrobust",
            person_level_only=True,
            given_coefficients=False,
            parametric_draws=False,
            unit_diagnostics=False,
        ),
    )
}

_ALIASES = {alias: m.name for m in REGISTRY.values() for alias in m.aliases}


def method_names(*, aliases: bool = True) -> tuple[str, ...]:
    """Every accepted ``method`` value: ``"auto"``, the methods and their aliases."""
    names = [AUTO, *REGISTRY]
    if aliases:
        names += list(_ALIASES)
    return tuple(names)


def method_info(name: str) -> MethodInfo:
    """The registry row of a method (an alias gives its method's row).

    Raises
    ------
    InputError
        For an unknown name (``"auto"`` must be resolved first).
    """
    key = _ALIASES.get(name, name)
    if key not in REGISTRY:
        raise InputError(
            f"method must be one of {', '.join(map(repr, method_names()))}; got {name!r}",
            field="method",
        )
    return REGISTRY[key]


def resolve_method(name: str, *, exposure: bool, person_level: bool) -> str:
    """The method used: an alias becomes its method; ``"auto"`` is WLS with an exposure
    on unit level, else OLS."""
    if name == AUTO:
        wls = next(m for m in REGISTRY.values() if m.is_linear and m.requires_exposure)
        ols = next(m for m in REGISTRY.values() if m.is_linear and not m.weighs_by_exposure)
        return wls.name if exposure and not person_level else ols.name
    return method_info(name).name


def methods_where(**flags: object) -> tuple[str, ...]:
    """Names of the methods whose attributes equal ``flags`` (in registry order).

    Examples
    --------
    >>> methods_where(kind="linear")
    ('ols', 'wls')
    """
    return tuple(
        m.name
        for m in REGISTRY.values()
        if all(getattr(m, key) == value for key, value in flags.items())
    )
