"""Arrays of a linear need model, for closed-form leave-one-out and fast refits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .spec import NeedSpec

__all__ = ["LinearProblem", "design_matrix"]


def design_matrix(units: pd.DataFrame, indicators: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Intercept plus indicator columns, as floats, indexed like ``units``."""
    x = units[list(indicators)].astype(float)
    x.insert(0, "Intercept", 1.0)
    return x


@dataclass(frozen=True)
class LinearProblem:
    """The arrays of a linear need model, ready for fast refits.

    ``y = target / scale`` is regressed on ``x`` with weights ``w``;
    need is ``x @ beta * scale``.
    """

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    scale: np.ndarray
    observed: np.ndarray

    @classmethod
    def from_units(cls, spec: NeedSpec, units: pd.DataFrame) -> LinearProblem:
        """Arrays of ``spec`` on a validated units table."""
        observed = units[spec.target].to_numpy(dtype=float)
        n = len(units)
        expo = units[spec.exposure].to_numpy(dtype=float) if spec.exposure else None
        scale = expo if (spec.per_capita and expo is not None) else np.ones(n)
        w = expo if spec.info.requires_exposure and expo is not None else np.ones(n)
        x = design_matrix(units, spec.indicators).to_numpy()
        return cls(x=x, y=observed / scale, w=w, scale=scale, observed=observed)

    def solve(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Least-squares coefficients on ``rows`` (all rows by default)."""
        x, y, w = self.x, self.y, self.w
        if rows is not None:
            x, y, w = x[rows], y[rows], w[rows]
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
        return beta

    def leverage(self) -> np.ndarray:
        """Diagonal of the (weighted) hat matrix."""
        sw = np.sqrt(self.w)
        q, _ = np.linalg.qr(self.x * sw[:, None])
        return np.einsum("ij,ij->i", q, q)

    def loo_need(self, fitted: np.ndarray) -> np.ndarray:
        """Leave-one-out predicted need, in closed form ``e / (1 - h)``."""
        h = self.leverage()
        resid = self.y - fitted
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = self.y - resid / (1.0 - h)
        loo[h > 1.0 - 1e-10] = np.nan  # a unit that alone determines a parameter
        return loo * self.scale

    def fit_predict(self, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        """Refit on ``train`` and predict need (kr) for ``test``."""
        beta = self.solve(train)
        return self.x[test] @ beta * self.scale[test]
