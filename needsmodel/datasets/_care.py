""" "Care for You": a fictional provider of supported housing and its citizens.

Citizens in the specialised social area (supported housing, *bostøtte*) are
served by three providers. Each citizen-year records the intake
characteristics (age, diagnosis group, whether the citizen has a home of their
own, functional level at intake on a 0-10 scale, 0 = needs the most support;
intakes lie between 2 and 8) and the *progression* over the year: the change in
functional level, from -1 (one step worse) to +2 (two steps better), which
never leaves the scale.

Progression is generated as ``Binomial(3, p) - 1`` with ``p`` linear in the
intake characteristics plus a provider effect (Care for You is a little better
than the others), so the expected progression ``3p - 1`` is exactly linear in
the characteristics: a linear risk model estimated on earlier years recovers
it. The generating parameters are :data:`CARE_TRUTH`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CARE_TRUTH", "TARIFF_BY_LEVEL", "expected_progression_true", "simulate_care"]

#: The generating model of p (probability of one step of the three): p = Σ coef × x.
CARE_TRUTH: dict[str, float] = {
    "Intercept": 0.42,
    "level_below_5": 0.03,  # per step below level 5 at intake (more room to improve)
    "age_over_45": -0.004,  # per year of age above 45
    "diagnosis[substance]": -0.08,
    "diagnosis[intellectual]": -0.12,
    "own_home": 0.05,
    "provider[Care for You]": 0.03,
}

#: Tariff per citizen-year by functional level at intake (kr): fixed tariff categories.
TARIFF_BY_LEVEL: dict[int, float] = {
    2: 420_000.0,
    3: 420_000.0,
    4: 360_000.0,
    5: 300_000.0,
    6: 240_000.0,
    7: 180_000.0,
    8: 180_000.0,
}

PROVIDERS = ("Care for You", "Bostøtten", "Ankeret")
DIAGNOSES = ("psychiatric", "substance", "intellectual")


def expected_progression_true(frame: pd.DataFrame, provider_effect: bool = True) -> np.ndarray:
    """The true expected progression ``3p - 1`` of each citizen-year (steps)."""
    t = CARE_TRUTH
    p = (
        t["Intercept"]
        + t["level_below_5"] * (5 - frame["level_intake"].to_numpy(dtype=float))
        + t["age_over_45"] * (frame["age"].to_numpy(dtype=float) - 45)
        + t["diagnosis[substance]"] * (frame["diagnosis"] == "substance").to_numpy()
        + t["diagnosis[intellectual]"] * (frame["diagnosis"] == "intellectual").to_numpy()
        + t["own_home"] * frame["own_home"].to_numpy(dtype=float)
    )
    if provider_effect:
        p = p + t["provider[Care for You]"] * (frame["provider"] == "Care for You").to_numpy()
    return np.asarray(3 * p - 1, dtype=float)


def _intake(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.integers(18, 81, n),
            "diagnosis": rng.choice(DIAGNOSES, n, p=[0.5, 0.3, 0.2]),
            "own_home": rng.binomial(1, 0.6, n),
            "level_intake": rng.choice(
                [2, 3, 4, 5, 6, 7, 8], n, p=[0.08, 0.14, 0.2, 0.22, 0.18, 0.12, 0.06]
            ),
        }
    )


def simulate_care(
    seed: int = 20260301, years: tuple[int, ...] = (2022, 2023, 2024, 2025, 2026)
) -> pd.DataFrame:
    """Citizen-years of the three providers; 2026 is the year the effect tariff is tried.

    Returns
    -------
    DataFrame
        ``citizen, year, provider, age, diagnosis, own_home, level_intake,
        tariff, progression`` (steps on the 0-10 functional scale, -1 to +2).
    """
    rng = np.random.default_rng(seed)
    sizes = {"Care for You": 120, "Bostøtten": 160, "Ankeret": 140}
    parts = []
    serial = 0
    for year in years:
        for provider, n in sizes.items():
            frame = _intake(rng, n)
            frame.insert(0, "provider", provider)
            frame.insert(0, "year", year)
            frame.insert(0, "citizen", [f"B{serial + i:05d}" for i in range(n)])
            serial += n
            parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    p = (expected_progression_true(out) + 1) / 3
    out["tariff"] = out["level_intake"].map(TARIFF_BY_LEVEL).astype(float)
    out["progression"] = rng.binomial(3, p) - 1  # intakes 2-8: -1 to +2 stays on 0-10
    return out
