"""Benchmarking units: expected against actual cost, and DEA efficiency.

**Expected vs actual.** A need model gives each unit an expected cost; the
ratio observed / expected, its prediction band and a ranking with uncertainty
say which units spend more than their circumstances explain and whether that
is more than noise. A funnel plot shows the ratios against unit size with
control limits: small units scatter more, and only points outside the funnel
are worth a conversation.

**Data envelopment analysis** (Charnes, Cooper & Rhodes 1978; Banker, Charnes
& Cooper 1984) measures each unit against the best combination of other units
using several inputs and outputs at once. :func:`dea` solves the envelopment
linear programmes with SciPy's HiGHS solver (input- or output-oriented,
constant or variable returns to scale), reports peers, slacks and targets; the
dual multiplier problems (:func:`dea_multiplier`) give the same efficiencies
and are kept as an independent check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from scipy.optimize import linprog

from .allocation.uncertainty import need_draws
from .casechecks import check_ids, check_not_empty, check_number, check_whole
from .diagnostics import diagnose
from .errors import DataError, EstimationError, InputError, format_ids
from .estimate.methods import method_info
from .estimate.results import NeedResults
from .i18n import fmt_num, label
from .plots import label_units, new_figure

__all__ = [
    "Benchmark",
    "DEAResult",
    "benchmark",
    "dea",
    "dea_multiplier",
    "funnel_plot",
]

Orientation = Literal["input", "output"]
Returns = Literal["crs", "vrs"]


# ------------------------------------------------------------- expected vs actual


@dataclass(frozen=True, eq=False)
class Benchmark:
    """Observed against expected cost per unit.

    Attributes
    ----------
    table : DataFrame
        ``unit, exposure, observed, expected, ratio, residual, band_low,
        band_high, outside_band, z, funnel_size, rank, rank_low, rank_high``:
        the band is ``expected ± z·sd`` of the residual variation (truncated
        at 0 kr), ``outside_band`` flags exactly the units outside the
        funnel drawn by :func:`funnel_plot`, ``funnel_size`` is its x-axis;
        rank 1 = highest ratio; the rank interval covers ``level`` of the
        draws of the coefficients.
    sigma : float
        Residual standard deviation on the per-unit-of-exposure scale (for the
        funnel limits).
    level : float
        Level of the prediction band and rank intervals.
    """

    table: pd.DataFrame
    sigma: float
    level: float
    per_capita: bool


def benchmark(
    results: NeedResults,
    *,
    level: float = 0.95,
    replicates: int = 2000,
    seed: int = 20240601,
) -> Benchmark:
    """Compare each unit's observed cost with its expected cost (the estimated need).

    Parameters
    ----------
    results : NeedResults
        A fitted unit-level model (OLS or WLS for the prediction band; other
        methods get the ratio, residual and rank only).
    level : float
        Level of the prediction band and of the rank intervals.
    replicates : int
        Parametric draws of the coefficients for the rank intervals.
    seed : int
        Random seed.

    Returns
    -------
    Benchmark
    """
    check_number(level, "level", low=0, high=1, low_open=True)
    if not level < 1:
        raise InputError(f"level must be below 1; got {level!r}")
    replicates = check_whole(replicates, "replicates", low=10)
    if results.level != "unit":
        raise InputError(
            "benchmark() compares units; fit a unit-level model (or sum persons first)"
        )
    units = results.need.index.astype(str)
    observed = results.observed.to_numpy(dtype=float)
    expected = results.need.to_numpy(dtype=float)
    expo = (
        results.exposure.to_numpy(dtype=float)
        if results.exposure is not None
        else np.ones(len(units))
    )
    table = pd.DataFrame(
        {
            "unit": units,
            "exposure": expo,
            "observed": observed,
            "expected": expected,
            "ratio": observed / expected,
            "residual": observed - expected,
        }
    )
    sigma = float("nan")
    per_capita = bool(results.spec.per_capita and results.spec.exposure)
    z_crit = float(stats.norm.ppf(0.5 + level / 2))
    if method_info(results.method).is_linear:
        res = results.model_result
        scale = expo if per_capita else np.ones(len(units))
        sigma = float(np.sqrt(res.scale))
        if results.weights is not None:
            sd = sigma / np.sqrt(results.weights.to_numpy()) * scale
        else:
            sd = np.full(len(units), sigma) * scale
        table["z"] = (observed - expected) / sd
        # the funnel's band: expected ± z·sd, the residual variation alone (the coefficients'
        # uncertainty is in the rank intervals); a cost cannot be negative, so the lower
        # limit is truncated at 0 kr
        table["band_low"] = np.maximum(expected - z_crit * sd, 0.0)
        table["band_high"] = expected + z_crit * sd
        table["outside_band"] = np.abs(table["z"]) > z_crit
        m = float(expected.sum() / expo.sum()) if per_capita else float(expected.mean())
        # the size at which a unit of average cost has this unit's precision: pupils at the
        # average cost per pupil (its own pupils when its cost per pupil is the average)
        table["funnel_size"] = (expected / sd) ** 2 * (sigma / m) ** 2
    else:
        d = diagnose(results)
        table["band_low"] = np.nan
        table["band_high"] = np.nan
        infl = d.influence
        table["z"] = infl["student_resid"].to_numpy() if infl is not None else np.nan
        table["outside_band"] = np.abs(table["z"]) > z_crit
        table["funnel_size"] = np.nan
    table["rank"] = table["ratio"].rank(ascending=False, method="min").astype(int)
    draws, _, _ = need_draws(results, method="parametric", replicates=replicates, seed=seed)
    ratios = observed[None, :] / draws
    ranks = np.argsort(np.argsort(-ratios, axis=1), axis=1) + 1
    lo, hi = np.quantile(ranks, [(1 - level) / 2, (1 + level) / 2], axis=0)
    table["rank_low"] = np.floor(lo).astype(int)
    table["rank_high"] = np.ceil(hi).astype(int)
    cols = [
        "unit", "exposure", "observed", "expected", "ratio", "residual", "band_low",
        "band_high", "outside_band", "z", "funnel_size", "rank", "rank_low", "rank_high",
    ]  # fmt: skip
    return Benchmark(
        table=table.sort_values("rank").reset_index(drop=True)[cols],
        sigma=sigma,
        level=level,
        per_capita=per_capita,
    )


def funnel_plot(
    bench: Benchmark,
    *,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    levels: Sequence[float] | None = None,
) -> Figure:
    """Ratio observed / expected against size, with control limits.

    The x-axis is each unit's size in pupils (citizens) at the average cost per
    pupil: ``funnel_size``, which equals the unit's own exposure when its
    expected cost per pupil is the average and is scaled so that every unit's
    limits are ``1 ± z · σ / (m · √size)``, with ``σ`` the residual standard
    deviation per unit of exposure and ``m`` the mean expected cost per unit of
    exposure. A unit lies outside the inner funnel exactly when the table flags
    it (``outside_band``, ``|z|`` above the band's critical value), and every
    such unit is labelled. The lower limit is truncated at 0: a cost cannot be
    negative.
    """
    t = bench.table
    levels = tuple(levels) if levels is not None else (bench.level, 0.998)
    fig = new_figure(7.5, 5.0)
    ax = fig.add_subplot()
    has_funnel = np.isfinite(bench.sigma) and t["funnel_size"].notna().all()
    x = t["funnel_size"] if has_funnel else t["exposure"]
    ax.scatter(x, t["ratio"], s=26, color="#1f5f8b", zorder=3)
    ax.axhline(1.0, color="#7f8c8d", lw=1)
    if has_funnel:
        m = (
            float(t["expected"].sum() / t["exposure"].sum())
            if bench.per_capita
            else float(t["expected"].mean())
        )
        size = np.linspace(max(float(x.min()) * 0.8, 1e-9), float(x.max()) * 1.1, 200)
        for lev, style in zip(levels, ("--", ":"), strict=False):
            z = stats.norm.ppf(0.5 + lev / 2)
            half = z * bench.sigma / (m * np.sqrt(size))
            ax.plot(size, 1 + half, color="#d68910", ls=style, lw=1,
                    label=f"{fmt_num(100 * lev, lang, 1)} %")  # fmt: skip
            ax.plot(size, np.maximum(1 - half, 0.0), color="#d68910", ls=style, lw=1)
        ax.legend(fontsize=8, loc="upper right")
    out = t.loc[t["outside_band"].astype(bool)]
    label_units(ax, out["unit"], out["funnel_size"] if has_funnel else out["exposure"],
                out["ratio"], labels)  # fmt: skip
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(
        ("Størrelse (elever ved gennemsnitlig udgift pr. elev)" if lang == "da"
         else "Size (pupils at the average cost per pupil)")
        if has_funnel else label("exposure", lang)
    )  # fmt: skip
    ax.set_ylabel("Observeret / forventet" if lang == "da" else "Observed / expected")
    ax.set_title("Tragtplot" if lang == "da" else "Funnel plot")
    return fig


# ------------------------------------------------------------------------ DEA


@dataclass(frozen=True, eq=False)
class DEAResult:
    """Efficiency of each unit from data envelopment analysis.

    Attributes
    ----------
    table : DataFrame
        ``unit, efficiency, theta`` (input orientation: the factor all inputs
        could be scaled by; output: the factor outputs could grow by),
        ``peers`` (comma-separated), ``lambda_sum``, then ``slack_<input>`` and
        ``slack_<output>``, and ``target_<name>`` for every input and output.
    lambdas : DataFrame
        Units × units intensity weights of the reference combination.
    orientation, returns : str
        The model solved.
    """

    table: pd.DataFrame
    lambdas: pd.DataFrame
    orientation: str
    returns: str

    @property
    def efficiency(self) -> pd.Series:
        """Efficiency score per unit (1 = on the frontier)."""
        return self.table.set_index("unit")["efficiency"]


def _check_dea(
    data: pd.DataFrame, inputs: Sequence[str], outputs: Sequence[str], id: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in [*inputs, *outputs] if c not in data.columns]
    if missing:
        raise DataError(f"column(s) {format_ids(missing)} not found", column=missing[0])
    if not inputs or not outputs:
        raise InputError("DEA needs at least one input and one output")
    check_not_empty(data, "dea(data)")
    ids = data[id] if id is not None else data.index.to_series()
    check_ids(ids, f"dea(data) {'column ' + repr(id) if id else 'index'}")
    x = data[list(inputs)].to_numpy(dtype=float)
    y = data[list(outputs)].to_numpy(dtype=float)
    if not np.all(np.isfinite(x)) or not np.all(np.isfinite(y)):
        raise DataError("DEA inputs and outputs must be finite numbers (no missing values)")
    if np.any(x <= 0) or np.any(y < 0):
        raise DataError("DEA needs positive inputs and non-negative outputs")
    zero = np.flatnonzero((y == 0).all(axis=1))
    if zero.size:
        units = list(np.asarray(ids.astype(str))[zero])
        raise DataError(
            f"unit(s) {format_ids(units)} produce none of the outputs, so no efficiency "
            "can be scored; drop them or add an output they produce",
            ids=units,
        )
    return x, y


def _solve(
    c: np.ndarray,
    a_ub: np.ndarray,
    b_ub: np.ndarray,
    a_eq: np.ndarray | None,
    b_eq: np.ndarray | None,
    bounds: Sequence[tuple[float | None, float | None]],
    what: str,
) -> np.ndarray:
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise EstimationError(f"{what}: the linear programme could not be solved ({res.message})")
    return np.asarray(res.x, dtype=float)


def dea(
    data: pd.DataFrame,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    id: str | None = None,
    orientation: Orientation = "input",
    returns: Returns = "crs",
    tol: float = 1e-9,
) -> DEAResult:
    """Data envelopment analysis, envelopment form, with slacks.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    inputs, outputs : sequence of str
        Input and output columns (inputs positive, outputs non-negative).
    id : str, optional
        Unit id column (default: the index).
    orientation : {"input", "output"}
        Shrink inputs at given outputs, or expand outputs at given inputs.
    returns : {"crs", "vrs"}
        Constant (CCR) or variable (BCC) returns to scale.

    Returns
    -------
    DEAResult

    Examples
    --------
    >>> df = pd.DataFrame({"x": [2.0, 4.0, 5.0], "y": [2.0, 2.0, 5.0]}, index=["a", "b", "c"])
    >>> dea(df, ["x"], ["y"]).efficiency.round(3).tolist()
    [1.0, 0.5, 1.0]
    """
    if orientation not in ("input", "output"):
        raise InputError(f"orientation must be 'input' or 'output'; got {orientation!r}")
    if returns not in ("crs", "vrs"):
        raise InputError(f"returns must be 'crs' or 'vrs'; got {returns!r}")
    x, y = _check_dea(data, inputs, outputs, id)
    units = data[id].astype(str).to_numpy() if id is not None else data.index.astype(str).to_numpy()
    n, m, s = x.shape[0], x.shape[1], y.shape[1]
    rows = []
    lambdas = np.zeros((n, n))
    for o in range(n):
        # phase 1: radial score. variables: [score, λ_1..λ_n]
        if orientation == "input":
            c = np.r_[1.0, np.zeros(n)]
            a_ub = np.vstack([np.c_[-x[o][:, None], x.T], np.c_[np.zeros((s, 1)), -y.T]])
            b_ub = np.r_[np.zeros(m), -y[o]]
        else:
            c = np.r_[-1.0, np.zeros(n)]
            a_ub = np.vstack([np.c_[np.zeros((m, 1)), x.T], np.c_[y[o][:, None], -y.T]])
            b_ub = np.r_[x[o], np.zeros(s)]
        a_eq = np.r_[0.0, np.ones(n)][None, :] if returns == "vrs" else None
        b_eq = np.array([1.0]) if returns == "vrs" else None
        sol = _solve(
            c, a_ub, b_ub, a_eq, b_eq, [(None, None)] + [(0, None)] * n, f"DEA for unit {units[o]}"
        )
        score = sol[0]
        # phase 2: maximise the slacks at that score. variables: [λ, s⁻ (m), s⁺ (s)]
        if orientation == "input":
            rhs_x, rhs_y = score * x[o], y[o]
        else:
            rhs_x, rhs_y = x[o], score * y[o]
        a_eq2 = np.vstack(
            [np.c_[x.T, np.eye(m), np.zeros((m, s))], np.c_[y.T, np.zeros((s, m)), -np.eye(s)]]
        )
        b_eq2 = np.r_[rhs_x, rhs_y]
        if returns == "vrs":
            a_eq2 = np.vstack([a_eq2, np.r_[np.ones(n), np.zeros(m + s)]])
            b_eq2 = np.r_[b_eq2, 1.0]
        c2 = np.r_[np.zeros(n), -np.ones(m + s)]
        sol2 = _solve(
            c2,
            np.zeros((0, n + m + s)),
            np.zeros(0),
            a_eq2,
            b_eq2,
            [(0, None)] * (n + m + s),
            f"DEA slacks for unit {units[o]}",
        )
        lam, s_in, s_out = sol2[:n], sol2[n : n + m], sol2[n + m :]
        lam[lam < tol] = 0.0
        s_in[s_in < tol] = 0.0
        s_out[s_out < tol] = 0.0
        lambdas[o] = lam
        eff = score if orientation == "input" else 1.0 / score
        row = {
            "unit": units[o],
            "efficiency": eff,
            "theta": score,
            "peers": ", ".join(units[j] for j in np.flatnonzero(lam)),
            "lambda_sum": float(lam.sum()),
        }
        row.update({f"slack_{c_}": v for c_, v in zip(inputs, s_in, strict=True)})
        row.update({f"slack_{c_}": v for c_, v in zip(outputs, s_out, strict=True)})
        row.update({f"target_{c_}": v for c_, v in zip(inputs, lam @ x, strict=True)})
        row.update({f"target_{c_}": v for c_, v in zip(outputs, lam @ y, strict=True)})
        rows.append(row)
    return DEAResult(
        table=pd.DataFrame(rows),
        lambdas=pd.DataFrame(lambdas, index=units, columns=units),
        orientation=orientation,
        returns=returns,
    )


def dea_multiplier(
    data: pd.DataFrame,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    id: str | None = None,
    orientation: Orientation = "input",
    returns: Returns = "crs",
) -> pd.DataFrame:
    """DEA efficiencies from the multiplier (dual) problems.

    Input orientation: maximise ``u·y_o (+ u0)`` subject to ``v·x_o = 1`` and
    ``u·y_j - v·x_j (+ u0) ≤ 0`` for every unit; output orientation: minimise
    ``v·x_o (+ v0)`` subject to ``u·y_o = 1`` and ``u·y_j - v·x_j (- v0) ≤ 0``.
    ``u0``/``v0`` exist (free) only with variable returns to scale. By linear
    programming duality the scores equal those of :func:`dea`.

    Returns
    -------
    DataFrame
        ``unit, efficiency`` and the weights ``v_<input>``, ``u_<output>``.
    """
    x, y = _check_dea(data, inputs, outputs, id)
    units = data[id].astype(str).to_numpy() if id is not None else data.index.astype(str).to_numpy()
    n, m, s = x.shape[0], x.shape[1], y.shape[1]
    vrs = returns == "vrs"
    rows = []
    for o in range(n):
        # variables: [v (m), u (s), (free scalar if vrs)]
        free = [(None, None)] if vrs else []
        bounds = [(0, None)] * (m + s) + free
        extra = np.ones((n, 1)) if vrs else np.zeros((n, 0))
        if orientation == "input":
            c = -np.r_[np.zeros(m), y[o], [1.0] if vrs else []]
            a_ub = np.c_[-x, y, extra]
            a_eq = np.r_[x[o], np.zeros(s), [0.0] if vrs else []][None, :]
        else:
            c = np.r_[x[o], np.zeros(s), [1.0] if vrs else []]
            a_ub = np.c_[-x, y, -extra]
            a_eq = np.r_[np.zeros(m), y[o], [0.0] if vrs else []][None, :]
        sol = _solve(
            c,
            a_ub,
            np.zeros(n),
            a_eq,
            np.array([1.0]),
            bounds,
            f"DEA multipliers for unit {units[o]}",
        )
        value = float(c @ sol)
        eff = -value if orientation == "input" else 1.0 / value
        row = {"unit": units[o], "efficiency": eff}
        row.update({f"v_{c_}": v for c_, v in zip(inputs, sol[:m], strict=True)})
        row.update({f"u_{c_}": v for c_, v in zip(outputs, sol[m : m + s], strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)
