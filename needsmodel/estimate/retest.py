"""Re-testing a frozen model when a year's costs arrive.

Danish practice estimates a need model once and applies its coefficients for
two or three budget years; guidance asks for the model to be re-tested every
few years. When the costs of a year that was allocated with frozen
coefficients become known, :func:`retest` answers the committee's question,
"is the model still good enough?", with three comparisons on that year's units:

* **prediction error** (kroner per unit, root mean square) of the frozen
  model, which is out of sample by construction, against a model re-estimated
  on this year's data (its cross-validated error, also out of sample) and
  against a plain split by exposure (leave-one-out; for a person-level model
  by the units' exposure, else their number of persons). The frozen need is first
  scaled to this year's total cost: the budget frame, not the model, sets the
  level, so only the distribution is judged;
* a **Wald test** that the re-estimated coefficients equal the frozen ones,
  :math:`W = d' (V_{refit} + V_{frozen})^{-1} d` with :math:`d` the
  difference, referred to :math:`\\chi^2_k`; ``V_frozen`` is the given
  covariance (``coefficients_cov``), else the given standard errors on the
  diagonal, else left out (then the test treats the frozen values as fixed);
* the criteria that **moved** most (the difference in standard errors).

The verdict is "re-estimate" when the coefficients have changed (p below the
model's alpha) or when the frozen model no longer beats the plain split, else
"keep". The allocation itself always uses the frozen coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cv import need_fit, split_cv_rmse
from .results import NeedResults

__all__ = ["Retest", "retest"]


@dataclass(frozen=True)
class Retest:
    """How a frozen model predicts this year's costs.

    Attributes
    ----------
    frozen_rmse : float
        Root-mean-square error per unit (kr) of the frozen need, scaled to this
        year's total cost, against this year's cost.
    frozen_rmse_unscaled : float
        The same without scaling (includes the change in the level of costs).
    refit_cv_rmse : float
        Cross-validated error per unit of the model re-estimated on this year.
    refit_rmse : float
        In-sample error per unit of the re-estimated model (optimistic).
    split_rmse : float
        Leave-one-out error per unit of a plain split by exposure (or an equal
        split without exposure).
    wald : float
        Wald statistic of "re-estimated coefficients = frozen coefficients".
    df : int
        Its degrees of freedom (the number of compared terms).
    p_value : float
        Its p-value (chi-squared).
    cov_basis : str
        ``"covariance"``, ``"standard errors"`` or ``"none"``: what was known
        of the frozen coefficients' uncertainty.
    terms : DataFrame
        Per term: ``frozen``, ``refit``, ``difference``, ``z`` (difference in
        standard errors), sorted by ``|z|``, largest first.
    alpha : float
        The level the test is judged at.
    refit : NeedResults
        The re-estimated model.
    """

    frozen_rmse: float
    frozen_rmse_unscaled: float
    refit_cv_rmse: float
    refit_rmse: float
    split_rmse: float
    wald: float
    df: int
    p_value: float
    cov_basis: str
    terms: pd.DataFrame
    alpha: float
    refit: NeedResults

    @property
    def changed(self) -> bool:
        """Whether the coefficients have changed significantly."""
        return bool(np.isfinite(self.p_value) and self.p_value < self.alpha)

    @property
    def beats_split(self) -> bool:
        """Whether the frozen model predicts better than a plain split by exposure (True when
        the split cannot be computed)."""
        return bool(not np.isfinite(self.split_rmse) or self.frozen_rmse < self.split_rmse)

    @property
    def verdict(self) -> str:
        """``"keep"`` or ``"re-estimate"``."""
        return "re-estimate" if self.changed or not self.beats_split else "keep"

    @property
    def moved(self) -> list[str]:
        """The terms whose difference exceeds two standard errors, largest first."""
        return [str(t) for t, z in self.terms["z"].items() if abs(z) > 2 and t != "Intercept"]

    def frame(self) -> pd.DataFrame:
        """The re-test as a table of statistics (``statistic, value``)."""
        rows = [
            ("frozen_rmse", self.frozen_rmse),
            ("frozen_rmse_unscaled", self.frozen_rmse_unscaled),
            ("refit_cv_rmse", self.refit_cv_rmse),
            ("refit_rmse", self.refit_rmse),
            ("split_rmse", self.split_rmse),
            ("wald", self.wald),
            ("wald_df", self.df),
            ("wald_p", self.p_value),
            ("cov_basis", self.cov_basis),
            ("verdict", self.verdict),
        ]
        return pd.DataFrame(rows, columns=["statistic", "value"], dtype=object)


def retest(
    frozen: NeedResults, refit: NeedResults, frozen_cov: pd.DataFrame | None = None
) -> Retest:
    """Compare frozen coefficients with a refit on the same year's units and costs.

    Parameters
    ----------
    frozen : NeedResults
        The given coefficients applied to this year's units (costs known).
    refit : NeedResults
        The same model estimated on this year's units.
    frozen_cov : DataFrame, optional
        Covariance of the frozen coefficients (default: the given one held by
        ``frozen``; missing values mean unknown).

    Returns
    -------
    Retest
    """
    obs = frozen.observed.astype(float)
    need = frozen.need.reindex(obs.index).astype(float).to_numpy()
    y = obs.to_numpy()
    scaled = need * (y.sum() / need.sum()) if need.sum() > 0 else need
    refit_need = refit.need.reindex(obs.index).astype(float).to_numpy()
    cv = refit.fit_stats.get("cv_rmse")
    expo = frozen.exposure
    split = split_cv_rmse(
        y, expo.reindex(obs.index).to_numpy(dtype=float) if expo is not None else None
    )

    terms = [t for t in frozen.params.index if t in refit.params.index]
    b0 = frozen.params.reindex(terms).astype(float).to_numpy()
    b1 = refit.params.reindex(terms).astype(float).to_numpy()
    d = b1 - b0
    v = refit.cov_params.loc[terms, terms].to_numpy(dtype=float)
    basis = "none"
    frozen_cov = frozen.cov_params if frozen_cov is None else frozen_cov
    if frozen_cov is not None:
        v0 = frozen_cov.reindex(index=terms, columns=terms).to_numpy(dtype=float)
        if np.isfinite(v0).all():
            v = v + v0
            off = v0 - np.diag(np.diag(v0))
            basis = "covariance" if np.any(off != 0) else "standard errors"
    try:
        wald = float(d @ np.linalg.solve(v, d))
    except np.linalg.LinAlgError:
        wald = float(d @ np.linalg.pinv(v) @ d)
    from scipy.special import chdtrc  # the chi-squared survival function

    p = float(chdtrc(len(terms), wald)) if np.isfinite(wald) else float("nan")
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, d / se, np.nan)
    table = pd.DataFrame(
        {"frozen": b0, "refit": b1, "difference": d, "z": z}, index=pd.Index(terms, name="term")
    )
    table = table.iloc[np.argsort(-np.nan_to_num(np.abs(z), nan=-1.0), kind="stable")]
    return Retest(
        frozen_rmse=need_fit(obs, scaled)["rmse"],
        frozen_rmse_unscaled=need_fit(obs, need)["rmse"],
        refit_cv_rmse=float(cv) if cv is not None else float("nan"),
        refit_rmse=need_fit(obs, refit_need)["rmse"],
        split_rmse=float(split) if split is not None else float("nan"),
        wald=wald,
        df=len(terms),
        p_value=p,
        cov_basis=basis,
        terms=table,
        alpha=frozen.spec.alpha,
        refit=refit,
    )
