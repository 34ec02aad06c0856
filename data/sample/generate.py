"""Generate the sample municipality in this folder.

Run from the repository root::

    python data/sample/generate.py

Writes ``pupils.csv`` and ``pupils.parquet`` (one row per pupil, with the type of
special-education provision drawn from a multinomial logit with known parameters),
``school_districts.csv`` (one row per school district), ``pupil_forecast.csv``
(pupils per district in the budget years 2027-2029),
``school_districts_panel.csv`` (the same districts over four
years, with new pupils each year and 3% cost growth a year),
``elderly_population.csv`` and ``elderly_care_accounts.csv`` (citizens 65+ per
care district, age group and year, 2025 counted and 2026-2032 projected, and the
2025 elderly-care spending per age group) and
``true_parameters.json`` (the generating parameters and the pseudo-true
coefficients of the district-level need model). The seed is fixed,
so the files are reproduced byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from needsmodel.datasets import _demography as demo
from needsmodel.datasets import _generator as g
from needsmodel.datasets._provision import add_provision

HERE = Path(__file__).resolve().parent
SEED = 20260101
PANEL_SEED = 20260103
FORECAST_SEED = 20260105

#: Indicator sets whose district-level pseudo-true coefficients are recorded.
UNIT_SPECS = {
    "sample_config": [
        "parents_low_education",
        "parents_outside_labour_market",
        "single_parent",
    ],
    "all_indicators": [
        "parents_low_education",
        "parents_outside_labour_market",
        "single_parent",
        "immigrant_background",
        "low_income",
    ],
}


def pupil_forecast(districts, first_year: int = 2027, years: int = 3):
    """Pupils per district in the budget year and two overslagsår: a trend per district."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(FORECAST_SEED)
    trend = rng.normal(0.0, 0.03, len(districts))  # yearly growth of each district's pupils
    rows = []
    for t in range(years):
        pupils = np.rint(districts["pupils"].to_numpy() * (1.0 + trend) ** (t + 1)).astype(int)
        rows.append(
            pd.DataFrame(
                {"district": districts["district"], "year": first_year + t, "pupils": pupils}
            )
        )
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    pupils = g.simulate_pupils(seed=SEED)
    districts = g.aggregate_districts(pupils)
    pupils = add_provision(pupils)  # the provision type, from its own seed
    pupils.to_csv(HERE / "pupils.csv", index=False, lineterminator="\n")
    # the same pupils as Parquet, the format register extracts come in (read through DuckDB)
    pupils.to_parquet(HERE / "pupils.parquet", index=False, compression="zstd")
    districts.to_csv(HERE / "school_districts.csv", index=False, lineterminator="\n")
    population = demo.simulate_population()
    population.to_csv(HERE / "elderly_population.csv", index=False, lineterminator="\n")
    accounts = demo.accounts(population)
    accounts.to_csv(HERE / "elderly_care_accounts.csv", index=False, lineterminator="\n")
    pupil_forecast(districts).to_csv(HERE / "pupil_forecast.csv", index=False, lineterminator="\n")
    panel = g.simulate_panel(seed=PANEL_SEED)
    panel.to_csv(HERE / "school_districts_panel.csv", index=False, lineterminator="\n")
    params = {
        "source": f"data/sample/generate.py (needsmodel.datasets._generator), seed {SEED}",
        "pupil_level": {
            "referral_logit": g.REFERRAL,
            "cost_given_referral_log_mean": g.COST,
            "cost_gamma_shape": g.GAMMA_SHAPE,
            "reference_levels": {
                "parents_education": "long_higher",
                "background": "danish",
                "income_quartile": 4,
            },
        },
        "unit_level_wls_pseudo_true": {
            "note": "probability limit of WLS of special_ed_cost/pupils on the "
            "district shares, weighted by pupils, from 40,000 simulated districts",
            **{name: g.pseudo_true_unit_coefficients(inds) for name, inds in UNIT_SPECS.items()},
        },
    }
    (HERE / "true_parameters.json").write_text(
        json.dumps(params, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(pupils)} pupils in {len(districts)} districts written to {HERE}")


if __name__ == "__main__":
    main()
