"""The data-generating model behind the bundled sample municipality.

Pupils live in school districts whose social composition differs. Each pupil's
family background is drawn given the district; whether the pupil receives
special education follows a logit model and its annual cost (given receipt) a
Gamma model with log link. The true parameters of both parts are module
constants, so tests can check that the estimators recover them.

The district-level need model (cost per pupil regressed on shares, weighted by
pupils) is not the generating model; its *pseudo-true* coefficients, the
probability limit of the weighted least-squares estimator under this design, are
computed by :func:`pseudo_true_unit_coefficients` from a large number of
simulated districts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BACKGROUNDS",
    "COST",
    "DISTRICT_NAMES",
    "EDUCATION_LEVELS",
    "GAMMA_SHAPE",
    "REFERRAL",
    "aggregate_districts",
    "expected_cost",
    "pseudo_true_unit_coefficients",
    "simulate_pupils",
]

EDUCATION_LEVELS = ("basic", "vocational", "short_medium_higher", "long_higher")
BACKGROUNDS = ("danish", "immigrant", "descendant")

#: Logit of P(special education) for a pupil: intercept plus effects of each
#: category (reference levels: long_higher, danish, income quartile 4, grade 0).
REFERRAL: dict[str, float] = {
    "Intercept": -3.9,
    "education_basic": 0.85,
    "education_vocational": 0.40,
    "education_short_medium_higher": 0.15,
    "parents_outside_labour_market": 0.55,
    "single_parent": 0.45,
    "background_immigrant": 0.10,
    "background_descendant": 0.25,
    "income_quartile_1": 0.45,
    "income_quartile_2": 0.25,
    "income_quartile_3": 0.10,
    "grade": 0.06,
}

#: Log of the mean annual cost (kr) of a pupil who receives special education.
COST: dict[str, float] = {
    "Intercept": float(np.log(140_000.0)),
    "education_basic": 0.25,
    "education_vocational": 0.10,
    "education_short_medium_higher": 0.0,
    "parents_outside_labour_market": 0.20,
    "single_parent": 0.10,
    "background_immigrant": 0.0,
    "background_descendant": 0.0,
    "income_quartile_1": 0.15,
    "income_quartile_2": 0.05,
    "income_quartile_3": 0.0,
    "grade": 0.0,
}

#: Shape of the Gamma distribution of cost given receipt (coefficient of
#: variation 1/sqrt(shape)).
GAMMA_SHAPE = 2.0

#: National income-quartile cut points on the latent income scale.
_INCOME_CUTS = np.array([-0.9, -0.1, 0.7])

DISTRICT_NAMES = (
    "Ådalen",
    "Bakkegården",
    "Birkelund",
    "Bøgehøj",
    "Egeskov",
    "Engvang",
    "Fjordparken",
    "Granly",
    "Havnebyen",
    "Hedelund",
    "Kildebakken",
    "Kirkebjerg",
    "Lindevang",
    "Mosegården",
    "Nørrevang",
    "Rosenhøj",
    "Skovbrynet",
    "Strandby",
    "Søndermark",
    "Tranehaven",
    "Vestervang",
    "Vibeholm",
    "Østerlund",
    "Åløkke",
)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class _Districts:
    size: np.ndarray  # pupils per district
    z: np.ndarray  # latent deprivation
    offsets: np.ndarray  # idiosyncratic offsets, one column per indicator


def _draw_districts(rng: np.random.Generator, n: int, pupils: tuple[int, int]) -> _Districts:
    size = rng.integers(pupils[0], pupils[1] + 1, size=n)
    z = rng.normal(0.0, 1.0, size=n)
    offsets = rng.normal(0.0, 0.45, size=(n, 4))
    return _Districts(size=size, z=z, offsets=offsets)


def _draw_backgrounds(rng: np.random.Generator, districts: _Districts) -> dict[str, np.ndarray]:
    """Draw each pupil's family background given the district."""
    d = np.repeat(np.arange(districts.size.size), districts.size)
    n = d.size
    z = districts.z[d]
    off = districts.offsets[d]
    # Parents' highest education: ordered logit on a latent "advantage" scale.
    advantage = -0.9 * z - off[:, 0] + rng.logistic(size=n)
    education = np.digitize(advantage, [-1.6, 0.3, 1.6])  # 0 basic ... 3 long higher
    education = np.asarray(education, dtype=np.int64)
    basic = education == 0
    vocational = education == 1
    outside = rng.random(n) < _logistic(-2.3 + 0.6 * z + off[:, 1] + 1.0 * basic + 0.4 * vocational)
    single = rng.random(n) < _logistic(-1.5 + 0.35 * z + off[:, 2] + 0.35 * outside)
    foreign = rng.random(n) < _logistic(-2.4 + 0.8 * z + off[:, 3])
    background = np.where(foreign, np.where(rng.random(n) < 0.4, 1, 2), 0)
    income = (
        -0.6 * z
        - 0.8 * basic
        - 0.3 * vocational
        + 0.4 * (education == 3)
        - 1.0 * outside
        - 0.6 * single
        + rng.normal(0.0, 1.0, n)
    )
    quartile = 1 + np.digitize(income, _INCOME_CUTS)  # 1 = lowest income
    grade = rng.integers(0, 10, size=n)
    return {
        "district_index": d,
        "grade": grade,
        "education": education,
        "outside": outside.astype(np.int64),
        "single": single.astype(np.int64),
        "background": background.astype(np.int64),
        "quartile": quartile.astype(np.int64),
    }


def _linear_predictor(coefs: dict[str, float], b: dict[str, np.ndarray]) -> np.ndarray:
    edu = b["education"]
    bg = b["background"]
    q = b["quartile"]
    return (
        coefs["Intercept"]
        + coefs["education_basic"] * (edu == 0)
        + coefs["education_vocational"] * (edu == 1)
        + coefs["education_short_medium_higher"] * (edu == 2)
        + coefs["parents_outside_labour_market"] * b["outside"]
        + coefs["single_parent"] * b["single"]
        + coefs["background_immigrant"] * (bg == 1)
        + coefs["background_descendant"] * (bg == 2)
        + coefs["income_quartile_1"] * (q == 1)
        + coefs["income_quartile_2"] * (q == 2)
        + coefs["income_quartile_3"] * (q == 3)
        + coefs["grade"] * b["grade"]
    )


def expected_cost(b: dict[str, np.ndarray]) -> np.ndarray:
    """Expected annual special-education cost (kr) of each pupil.

    ``P(receipt) * E[cost | receipt]`` under the true parameters.
    """
    return _logistic(_linear_predictor(REFERRAL, b)) * np.exp(_linear_predictor(COST, b))


def simulate_pupils(
    seed: int = 20260101,
    n_districts: int = 24,
    pupils: tuple[int, int] = (180, 650),
    names: tuple[str, ...] = DISTRICT_NAMES,
) -> pd.DataFrame:
    """Simulate the pupil-level file of a fictional municipality.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives the same file.
    n_districts : int
        Number of school districts.
    pupils : tuple of int
        Smallest and largest number of pupils in a district.
    names : tuple of str
        District names, used in order (cycled with a number if too few).

    Returns
    -------
    DataFrame
        One row per pupil: ``pupil_id, district, grade, parents_education,
        parents_outside_labour_market, single_parent, background,
        income_quartile, special_ed, special_ed_cost``.
    """
    rng = np.random.default_rng(seed)
    districts = _draw_districts(rng, n_districts, pupils)
    b = _draw_backgrounds(rng, districts)
    return _pupil_frame(rng, b, n_districts)


def _pupil_frame(
    rng: np.random.Generator, b: dict[str, np.ndarray], n_districts: int, price: float = 1.0
) -> pd.DataFrame:
    p = _logistic(_linear_predictor(REFERRAL, b))
    receives = rng.random(p.size) < p
    mean_cost = np.exp(_linear_predictor(COST, b)) * price
    cost = rng.gamma(GAMMA_SHAPE, mean_cost / GAMMA_SHAPE)
    cost = np.where(receives, np.round(cost, -2), 0.0).astype(np.int64)
    ids = [f"D{i + 1:02d}" for i in range(n_districts)]
    n = p.size
    return pd.DataFrame(
        {
            "pupil_id": np.arange(1, n + 1),
            "district": np.asarray(ids, dtype=object)[b["district_index"]],
            "grade": b["grade"],
            "parents_education": np.asarray(EDUCATION_LEVELS, dtype=object)[b["education"]],
            "parents_outside_labour_market": b["outside"],
            "single_parent": b["single"],
            "background": np.asarray(BACKGROUNDS, dtype=object)[b["background"]],
            "income_quartile": b["quartile"],
            "special_ed": receives.astype(np.int64),
            "special_ed_cost": cost,
        }
    )


def simulate_panel(
    seed: int = 20260103,
    years: tuple[int, ...] = (2022, 2023, 2024, 2025),
    n_districts: int = 24,
    pupils: tuple[int, int] = (180, 650),
    price_growth: float = 0.03,
    current_total: float = 128_000_000.0,
) -> pd.DataFrame:
    """Several years of the district table for the same districts.

    The districts keep their social profile (the same latent deprivation and
    offsets); each year has new pupils drawn from it, a slightly different
    number of pupils, and costs that grow by ``price_growth`` a year.

    Returns
    -------
    DataFrame
        The district table of :func:`aggregate_districts` with a leading
        ``year`` column, one row per district and year.
    """
    rng = np.random.default_rng(seed)
    districts = _draw_districts(rng, n_districts, pupils)
    frames = []
    for t, year in enumerate(years):
        yrng = np.random.default_rng([seed, year])
        size = np.maximum(50, districts.size + yrng.integers(-25, 26, size=n_districts))
        b = _draw_backgrounds(yrng, _Districts(size=size, z=districts.z, offsets=districts.offsets))
        pupils_t = _pupil_frame(yrng, b, n_districts, price=(1.0 + price_growth) ** t)
        table = aggregate_districts(
            pupils_t, current_total=current_total * (1.0 + price_growth) ** t, seed=seed + t
        )
        table.insert(0, "year", year)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def aggregate_districts(
    pupils: pd.DataFrame,
    names: tuple[str, ...] = DISTRICT_NAMES,
    current_total: float = 128_000_000.0,
    seed: int = 20260102,
) -> pd.DataFrame:
    """Aggregate the pupil file to the district table.

    Shares are fractions of the district's pupils; ``budget_current`` is last
    year's budget, set by an older, coarser key (pupils and share with basic
    education, plus history) and summing to ``current_total``.
    """
    g = pupils.assign(
        parents_low_education=(pupils["parents_education"] == "basic").astype(float),
        immigrant_background=(pupils["background"] != "danish").astype(float),
        low_income=(pupils["income_quartile"] == 1).astype(float),
    ).groupby("district", sort=True)
    table = pd.DataFrame(
        {
            "pupils": g.size(),
            "parents_low_education": g["parents_low_education"].mean(),
            "parents_outside_labour_market": g["parents_outside_labour_market"].mean(),
            "single_parent": g["single_parent"].mean(),
            "immigrant_background": g["immigrant_background"].mean(),
            "low_income": g["low_income"].mean(),
            "special_ed_pupils": g["special_ed"].sum(),
            "special_ed_cost": g["special_ed_cost"].sum(),
        }
    )
    share_cols = [
        "parents_low_education",
        "parents_outside_labour_market",
        "single_parent",
        "immigrant_background",
        "low_income",
    ]
    table[share_cols] = table[share_cols].round(4)
    rng = np.random.default_rng(seed)
    old_key = table["pupils"] * (
        1.0 + 1.2 * (table["parents_low_education"] - table["parents_low_education"].mean())
    )
    old_key = old_key * rng.lognormal(0.0, 0.08, size=len(table))
    current = np.round((old_key / old_key.sum() * current_total).to_numpy(), -3)
    current[-1] += current_total - current.sum()
    table["budget_current"] = current.astype(np.int64)
    table["special_ed_cost"] = table["special_ed_cost"].round(0).astype(np.int64)
    n = len(table)
    labels = [
        names[i % len(names)]
        if i < len(names)
        else f"{names[i % len(names)]} {i // len(names) + 1}"
        for i in range(n)
    ]
    table.insert(0, "name", labels)
    return table.reset_index()


def pseudo_true_unit_coefficients(
    indicators: list[str],
    n_districts: int = 40_000,
    pupils: tuple[int, int] = (180, 650),
    seed: int = 7,
) -> dict[str, float]:
    """Probability limit of the district-level WLS need model.

    Simulates many districts from the same design, computes each district's
    expected special-education cost per pupil under the true pupil-level
    model, and regresses it on the district's indicator shares weighted by
    pupils. With no outcome noise and tens of thousands of districts the result
    is the coefficient vector the sample estimator converges to.

    Parameters
    ----------
    indicators : list of str
        District-level shares used as regressors (names as in the district
        table).
    """
    rng = np.random.default_rng(seed)
    districts = _draw_districts(rng, n_districts, pupils)
    b = _draw_backgrounds(rng, districts)
    d = b["district_index"]
    per_pupil = {
        "parents_low_education": (b["education"] == 0).astype(float),
        "parents_outside_labour_market": b["outside"].astype(float),
        "single_parent": b["single"].astype(float),
        "immigrant_background": (b["background"] != 0).astype(float),
        "low_income": (b["quartile"] == 1).astype(float),
    }
    size = districts.size.astype(float)
    y = np.bincount(d, weights=expected_cost(b)) / size
    cols = [np.ones(n_districts)] + [
        np.bincount(d, weights=per_pupil[k]) / size for k in indicators
    ]
    x = np.column_stack(cols)
    w = np.sqrt(size)
    beta, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
    return dict(zip(["Intercept", *indicators], (float(v) for v in beta), strict=True))
