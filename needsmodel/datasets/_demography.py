"""The sample municipality's citizens aged 65 and over, and its elderly-care accounts.

Four care districts, six age groups (65-69 ... 90+), 2025 counted and 2026-2032
projected by ageing the cohorts (a fifth of each five-year group moves up a
group each year), applying yearly survival rates and adding new 65-year-olds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "CARE_DISTRICTS", "UNIT_COSTS_2025", "accounts", "simulate_population"]

AGE_BANDS = ("65-69", "70-74", "75-79", "80-84", "85-89", "90+")
CARE_DISTRICTS = {"C1": "Nord", "C2": "Syd", "C3": "Øst", "C4": "Vest"}
#: Yearly survival per age group.
SURVIVAL = (0.99, 0.985, 0.97, 0.945, 0.90, 0.79)
#: True elderly-care cost per citizen in 2025 (kr): home care, nursing homes, rehabilitation.
UNIT_COSTS_2025 = {
    "65-69": 3_500.0,
    "70-74": 7_500.0,
    "75-79": 17_000.0,
    "80-84": 38_000.0,
    "85-89": 82_000.0,
    "90+": 155_000.0,
}


def simulate_population(seed: int = 20260201, first: int = 2025, last: int = 2032) -> pd.DataFrame:
    """Citizens per care district, age group and year (counted first year, then projected)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in CARE_DISTRICTS:
        # older districts have relatively more of the old old
        tilt = rng.uniform(0.9, 1.1)
        base = np.array([1400, 1300, 1150, 760, 420, 210]) * rng.uniform(0.7, 1.3)
        pop = np.round(base * tilt ** np.arange(6)).astype(float)
        inflow = pop[0] / 5.0 * rng.uniform(0.95, 1.15)
        for year in range(first, last + 1):
            rows += [(d, band, year, round(p)) for band, p in zip(AGE_BANDS, pop, strict=True)]
            moved = pop[:-1] / 5.0  # a fifth of each group has its birthday into the next
            nxt = pop.copy()
            nxt[:-1] -= moved
            nxt[1:] += moved
            nxt = nxt * np.array(SURVIVAL)
            nxt[0] += inflow
            inflow *= 1.005
            pop = nxt
    return pd.DataFrame(rows, columns=["district", "age_band", "year", "citizens"])


def accounts(population: pd.DataFrame, year: int = 2025, seed: int = 20260202) -> pd.DataFrame:
    """The year's spending per age group (municipality total), with accounting noise."""
    rng = np.random.default_rng(seed)
    p = population[population["year"] == year].groupby("age_band", sort=False)["citizens"].sum()
    cost = [round(UNIT_COSTS_2025[b] * p[b] * rng.uniform(0.97, 1.03), -3) for b in AGE_BANDS]
    return pd.DataFrame(
        {"age_band": list(AGE_BANDS), "citizens": [int(p[b]) for b in AGE_BANDS], "cost": cost}
    )
