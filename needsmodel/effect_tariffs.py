"""Effect tariffs ("effekttakster") with a risk-adjusted expected progression fixed in advance.

The design the course's case "Care for You" asks for (supported housing in the
specialised social area):

1. **Outcomes as progression** on a functional scale (steps up or down over a
   year), not only success or failure.
2. **The expected progression is fixed in advance**: a person-level model of
   progression on intake characteristics (age, diagnosis, housing, functional
   level at intake) is estimated on *earlier* years and applied to this year's
   citizens (:func:`fit_risk_model`). It is not re-estimated on the year being
   paid for, so the bonus is no zero-sum tournament: if every provider does
   better, every provider earns more.
3. **The bonus is priced from the cost it avoids** (:func:`price_bonus`): one
   step of progression saves support hours for some years; the funder passes a
   share of that saving to the provider.
4. **Within the tariff regulation** a tariff must cover cost and no more. The
   bonus is financed inside the tariff: the base per citizen is the
   cost-covering tariff *less* the bonus the citizen is expected to earn,
   ``base_i = tariff_i - bonus × expected_i``, and the payment is
   ``base_i + bonus × progression_i``. A provider that achieves the expected
   progression is paid exactly the tariff; better results earn more, worse
   results less (:func:`settle`).
5. **No gain from choosing easy citizens**: the base falls with each citizen's
   expected progression, so a provider that selects citizens expected to
   progress gains nothing in expectation (:func:`selection_advantage`), unlike a
   naive effect tariff with one expected progression for everyone.

:func:`compare_bids` compares the bids of an effect-based tender (a price per
citizen-year and a share of the avoided cost as bonus) on expected cost net of
the avoided cost; :func:`simulate_total` gives the funder's budget risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .casechecks import check_columns, check_ids, check_number, check_values, check_whole
from .errors import InputError
from .estimate import NeedResults, NeedSpec, fit

__all__ = [
    "Advantage",
    "RiskModel",
    "compare_bids",
    "fit_risk_model",
    "price_bonus",
    "selection_advantage",
    "settle",
    "simulate_total",
]


def price_bonus(
    avoided_cost_per_step: float,
    *,
    years: int = 2,
    discount_rate: float = 0.03,
    share: float = 0.5,
) -> float:
    """The bonus per step of progression: a share of the discounted cost it avoids.

    Parameters
    ----------
    avoided_cost_per_step : float
        Support cost saved per year by one step up the functional scale (kr).
    years : int
        Years the saving lasts.
    discount_rate : float
        Yearly discount rate of future savings.
    share : float
        Share of the saving passed to the provider (0-1); the rest is the
        funder's gain.

    Examples
    --------
    >>> round(price_bonus(60_000, years=2, discount_rate=0.0, share=0.5))
    60000
    """
    check_number(avoided_cost_per_step, "avoided_cost_per_step", low=0)
    check_number(share, "share", low=0, high=1)
    years = check_whole(years, "years", low=1)
    check_number(discount_rate, "discount_rate", low=-1, low_open=True)
    value = sum(avoided_cost_per_step / (1 + discount_rate) ** t for t in range(1, years + 1))
    return float(share * value)


@dataclass(frozen=True)
class RiskModel:
    """Expected progression from intake characteristics, estimated on earlier years.

    Attributes
    ----------
    results : NeedResults
        The person-level OLS of the steps above the scale's lowest change
        (``progression - floor``, never negative); providers are its units.
    floor : float
        The lowest possible progression (e.g. -1 step).
    """

    results: NeedResults
    floor: float

    def predict(self, citizens: pd.DataFrame) -> pd.Series:
        """Each citizen's expected progression (steps), fixed in advance."""
        return (self.results.predict(citizens) + self.floor).rename("expected")

    def tidy(self) -> pd.DataFrame:
        """Coefficients on the progression scale (the intercept moved back by ``floor``)."""
        t = self.results.tidy().copy()
        shift = np.where(t.index == "Intercept", self.floor, 0.0)
        for col in ("estimate", "ci_low", "ci_high"):
            t[col] = t[col].to_numpy(dtype=float) + shift
        t["t"] = t["estimate"].to_numpy(dtype=float) / t["std_error"].to_numpy(dtype=float)
        return t


def fit_risk_model(
    history: pd.DataFrame,
    indicators: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    reference: dict[str, object] | None = None,
    target: str = "progression",
    provider: str = "provider",
    floor: float = -1.0,
) -> RiskModel:
    """The expected progression per citizen from intake characteristics, on earlier years.

    A person-level OLS of progression on the indicators, with HC1 standard
    errors; its predictions on this year's citizens are their expected
    progression, fixed before the year starts. The model is fitted to the
    steps above the lowest possible change (``progression - floor``, which
    like every target of the toolkit is never negative) and predicts back on
    the progression scale; the slopes are those of progression itself.
    Providers are the units, so the fit also shows each provider's observed
    against expected progression in earlier years.
    """
    check_columns(history, "fit_risk_model(history)", [target], required=[provider, *indicators])
    check_number(floor, "floor")
    below = history[target] < floor
    if below.any():
        raise InputError(f"progression below the floor {floor:g} in {int(below.sum())} rows")
    spec = NeedSpec(
        "_steps_above_floor",
        tuple(indicators),
        method="ols",
        cov="HC1",
        categorical=tuple(categorical),
        reference=reference or {},
        unit_key=provider,
    )
    data = history.assign(_steps_above_floor=history[target].astype(float) - floor)
    return RiskModel(fit(spec, data), float(floor))


def settle(
    citizens: pd.DataFrame,
    expected: Sequence[float] | np.ndarray | pd.Series,
    *,
    bonus_per_step: float,
    tariff: str = "tariff",
    progression: str = "progression",
    provider: str = "provider",
) -> pd.DataFrame:
    """Payments per provider under the risk-adjusted and a naive effect tariff.

    Parameters
    ----------
    citizens : DataFrame
        One row per citizen-year: provider, the cost-covering tariff and the
        progression achieved (steps).
    expected : array-like
        Each citizen's expected progression, fixed in advance.
    bonus_per_step : float
        Paid per step of progression (kr), e.g. from :func:`price_bonus`.

    Returns
    -------
    DataFrame
        Per provider and a ``total`` row: ``citizens, tariff, expected,
        progression, base, bonus, payment`` (risk-adjusted: base = tariff -
        bonus × expected, payment = base + bonus × progression),
        ``payment_naive`` (the same with one expected progression for every
        citizen, the mean) and ``result`` (payment - tariff: what the provider
        earns or loses against the cost-covering tariff).

    Examples
    --------
    >>> c = pd.DataFrame({"provider": ["A", "A"], "tariff": [100.0, 100.0],
    ...                   "progression": [1, 0]})
    >>> s = settle(c, [0.5, 0.5], bonus_per_step=10)
    >>> s.loc[s["provider"] == "A", ["base", "bonus", "payment", "result"]].values.tolist()
    [[190.0, 10.0, 200.0, 0.0]]
    """
    check_columns(
        citizens, "settle(citizens)", [tariff, progression], nonnegative=[tariff],
        required=[provider],
    )  # fmt: skip
    check_ids(citizens[provider], f"settle(citizens) column '{provider}'", unique=False)
    check_number(bonus_per_step, "bonus_per_step", low=0)
    e = check_values(expected, "settle(expected)")
    if e.shape != (len(citizens),):
        raise InputError(f"expected needs one value per citizen ({len(citizens)}); got {e.shape}")
    t = citizens[tariff].to_numpy(dtype=float)
    y = citizens[progression].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            provider: citizens[provider].astype(str).to_numpy(),
            "citizens": 1,
            "tariff": t,
            "expected": e,
            "progression": y,
            "base": t - bonus_per_step * e,
            "bonus": bonus_per_step * y,
            "base_naive": t - bonus_per_step * float(e.mean()),
        }
    )
    g = frame.groupby(provider, sort=True).sum(numeric_only=True)
    g["payment"] = g["base"] + g["bonus"]
    g["payment_naive"] = g["base_naive"] + g["bonus"]
    g["result"] = g["payment"] - g["tariff"]
    g = g.drop(columns="base_naive")
    total = g.sum().to_frame("total").T
    out = pd.concat([g, total])
    out.index.name = provider
    return out.reset_index()


def simulate_total(
    expected: Sequence[float] | np.ndarray,
    tariff: Sequence[float] | np.ndarray,
    *,
    bonus_per_step: float,
    uplift: float = 0.0,
    draws: int = 5000,
    seed: int = 20260401,
) -> pd.DataFrame:
    """The funder's budget risk: the distribution of the total payment by simulation.

    Each citizen's progression is drawn as ``Binomial(3, p) - 1`` with
    ``3p - 1`` its expected progression plus ``uplift`` (steps -1 to +2);
    the total payment is ``Σ (tariff - bonus × expected) + bonus × Σ
    progression``.

    Returns
    -------
    DataFrame
        One row per draw: ``total_progression, payment``.
    """
    e = check_values(expected, "simulate_total(expected)")
    t = check_values(tariff, "simulate_total(tariff)", nonnegative=True)
    if e.shape != t.shape:
        raise InputError(f"expected and tariff differ in length ({e.size} and {t.size})")
    check_number(bonus_per_step, "bonus_per_step", low=0)
    check_number(uplift, "uplift")
    draws = check_whole(draws, "draws", low=1)
    p = np.clip((e + uplift + 1) / 3, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    steps = rng.binomial(3, np.broadcast_to(p, (draws, p.size))) - 1
    total = steps.sum(axis=1).astype(float)
    base = float(np.sum(t - bonus_per_step * e))
    return pd.DataFrame({"total_progression": total, "payment": base + bonus_per_step * total})


@dataclass(frozen=True)
class Advantage:
    """What a provider gains by choosing its citizens, over simulated years.

    Attributes
    ----------
    adjusted, naive : float
        Mean gain (kr) of the chosen citizens over a random selection, under
        the risk-adjusted and the naive effect tariff.
    adjusted_se, naive_se : float
        Their simulation standard errors.
    """

    adjusted: float
    adjusted_se: float
    naive: float
    naive_se: float


def selection_advantage(
    pool: pd.DataFrame,
    expected: np.ndarray,
    true_expected: np.ndarray,
    chosen: np.ndarray,
    *,
    bonus_per_step: float,
    draws: int = 4000,
    seed: int = 20260402,
) -> Advantage:
    """Gain of a provider that serves ``chosen`` citizens instead of a random selection.

    Outcomes are simulated from the true model (``true_expected``: each
    citizen's true expected progression, ``Binomial(3, p) - 1``). The gain is
    the provider's result (payment - tariff) with the chosen citizens minus
    its result with an equally large random selection of ``pool``.
    """
    e = check_values(expected, "selection_advantage(expected)")
    te = check_values(true_expected, "selection_advantage(true_expected)")
    check_number(bonus_per_step, "bonus_per_step", low=0)
    draws = check_whole(draws, "draws", low=1)
    idx = np.asarray(chosen)
    n = idx.size
    rng = np.random.default_rng(seed)
    mean_e = float(e.mean())
    adj, nai = np.empty(draws), np.empty(draws)
    p_all = np.clip((te + 1) / 3, 0.0, 1.0)
    for d in range(draws):
        rand = rng.choice(len(pool), n, replace=False)
        y_c = rng.binomial(3, p_all[idx]) - 1
        y_r = rng.binomial(3, p_all[rand]) - 1
        # result = bonus × (progression - expected) (adjusted) or - mean expected (naive)
        adj[d] = bonus_per_step * ((y_c - e[idx]).sum() - (y_r - e[rand]).sum())
        nai[d] = bonus_per_step * ((y_c - mean_e).sum() - (y_r - mean_e).sum())
    return Advantage(
        adjusted=float(adj.mean()),
        adjusted_se=float(adj.std(ddof=1) / np.sqrt(draws)),
        naive=float(nai.mean()),
        naive_se=float(nai.std(ddof=1) / np.sqrt(draws)),
    )


def compare_bids(
    bids: pd.DataFrame,
    *,
    citizens: int,
    avoided_value_per_step: float,
    uplift: Sequence[float] = (0.0, 0.1, 0.25),
    bidder: str = "bidder",
    price: str = "price",
    bonus_share: str = "bonus_share",
) -> pd.DataFrame:
    """Expected net cost of each bid in an effect-based tender.

    A bid offers a price per citizen-year and a share of the avoided cost as
    bonus per step (``bonus = share × avoided value per step``). With the base
    reduced by the expected bonus, the expected payment for ``citizens`` is
    ``citizens × (price + bonus × uplift)``, where ``uplift`` is the progression
    per citizen above the risk-adjusted expectation the bidder achieves. The
    funder's net cost subtracts the value of that extra progression
    (``avoided value × uplift`` per citizen).

    Returns
    -------
    DataFrame
        One row per bid: the bid, ``bonus_per_step`` and ``net_cost_<u>`` per
        uplift scenario, and ``rank_<u>`` (1 = cheapest).
    """
    check_columns(
        bids, "compare_bids(bids)", [price, bonus_share], nonnegative=[price, bonus_share],
        id=bidder,
    )  # fmt: skip
    check_whole(citizens, "citizens", low=1)
    check_number(avoided_value_per_step, "avoided_value_per_step", low=0)
    for u in uplift:
        check_number(u, "uplift")
    if ((bids[bonus_share] < 0) | (bids[bonus_share] > 1)).any():
        raise InputError("bonus shares must lie between 0 and 1")
    out = bids[[bidder, price, bonus_share]].copy()
    out["bonus_per_step"] = out[bonus_share] * avoided_value_per_step
    for u in uplift:
        col = f"net_cost_{u:g}"
        pay = citizens * (out[price] + out["bonus_per_step"] * u)
        out[col] = pay - citizens * avoided_value_per_step * u
        out[f"rank_{u:g}"] = out[col].rank(method="min").astype(int)
    return out
