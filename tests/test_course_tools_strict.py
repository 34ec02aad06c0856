"""The course tools are as strict as the pipeline: NaN is never zero, impossible values never pass.

Every case below once paid a wrong amount, returned NaN, or crashed; each now
ends in an ``InputError`` naming the argument (and the rows), in well under a
second.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel import benchmark, capacity, demography, funding
from needsmodel import effect_tariffs as et
from needsmodel import result_funding as rf
from needsmodel.errors import InputError
from needsmodel.estimate.typesplit import compare_keys, fit_type_split

NAN = float("nan")


def _population(citizens: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": ["N", "N", "S", "S"],
            "age_band": ["65-69", "70-74", "65-69", "70-74"],
            "year": [2026] * 4,
            "citizens": [citizens, 50.0, 80.0, 40.0],
        }
    )


_COST = pd.Series({"65-69": 10_000.0, "70-74": 20_000.0})


def _providers(**cols) -> pd.DataFrame:
    base = {"provider": ["A", "B"], "activity": [110.0, 90.0], "baseline": [100.0, 100.0]}
    return pd.DataFrame({**base, **cols})


def _citizens(**cols) -> pd.DataFrame:
    base = {"provider": ["A", "A", "B"], "tariff": [100.0, 100.0, 90.0], "progression": [1, 0, 2]}
    return pd.DataFrame({**base, **cols})


def _categories(**cols) -> pd.DataFrame:
    base = {"category": ["a", "b"], "places": [10.0, 5.0], "tariff": [1e5, 2e5],
            "occupied": [9.0, 5.0]}  # fmt: skip
    return pd.DataFrame({**base, **cols})


def _schools(**cols) -> pd.DataFrame:
    base = {"school": ["S1", "S2"], "passed": [10.0, 20.0]}
    return pd.DataFrame({**base, **cols})


def _services(**cols) -> pd.DataFrame:
    base = {"service": ["a", "b"], "direct_cost": [100.0, 300.0], "volume": [10.0, 20.0],
            "hours": [1.0, 3.0]}  # fmt: skip
    return pd.DataFrame({**base, **cols})


def _bids(**cols) -> pd.DataFrame:
    base = {"bidder": ["X", "Y"], "price": [1000.0, 1100.0], "bonus_share": [0.2, 0.5]}
    return pd.DataFrame({**base, **cols})


CASES: dict[str, tuple[Callable[[], object], str]] = {
    # demography: NaN citizens or unit cost were dropped (5.8 M and 1.3 bn kr lost)
    "nan citizens": (lambda: demography.demographic_budget(_population(NAN), _COST), "citizens"),
    "negative citizens": (
        lambda: demography.demographic_budget(_population(-5.0), _COST),
        "must not be negative",
    ),
    "nan unit cost": (
        lambda: demography.demographic_budget(_population(), _COST.replace(20_000.0, NAN)),
        "unit_cost",
    ),
    "growth -150 %": (
        lambda: demography.demographic_budget(
            pd.concat([_population(), _population().assign(year=2027)]), _COST, price_index=-1.5
        ),
        "price_index must be above -1",
    ),
    "negative activity price": (
        lambda: demography.unit_costs_from_activity(
            pd.DataFrame({"age_band": ["65-69"], "citizens": [10.0], "hours": [5.0]}),
            {"hours": -300.0},
        ),
        "prices",
    ),
    "duplicate projection rows": (
        lambda: demography.demographic_budget(pd.concat([_population(), _population()]), _COST),
        "more than one row",
    ),
    # funding
    "settlement nan activity": (
        lambda: funding.baseline_settlement(_providers(activity=[NAN, 90.0]), tariff=1000),
        "activity",
    ),
    "settlement negative tariff": (
        lambda: funding.baseline_settlement(_providers(), tariff=-1000),
        "tariff must be at least 0",
    ),
    "provider named total": (
        lambda: funding.baseline_settlement(_providers(provider=["A", "Total"]), tariff=1000),
        "total row",
    ),
    "duplicate providers": (
        lambda: funding.baseline_settlement(_providers(provider=["A", "A"]), tariff=1000),
        "duplicate",
    ),
    "tariffs nan direct cost": (
        lambda: funding.tariffs(
            _services(direct_cost=[NAN, 300.0]), {"admin": 400.0}, {"admin": "hours"}
        ),
        "direct_cost",
    ),
    "tariffs negative overhead": (
        lambda: funding.tariffs(_services(), {"admin": -400.0}, {"admin": "hours"}),
        "overheads",
    ),
    "carry-over nan spending": (
        lambda: funding.carry_over([100.0, 100.0], [90.0, NAN]),
        "spending",
    ),
    "carry-over negative budget": (
        lambda: funding.carry_over([-100.0, 100.0], [90.0, 95.0]),
        "budgets",
    ),
    "carry-over unit named total": (
        lambda: funding.carry_over_units(
            pd.DataFrame({"unit": ["total"], "year": [1], "budget": [1.0], "spending": [1.0]})
        ),
        "total row",
    ),
    "effect payments nan expected": (
        lambda: funding.effect_payments(
            pd.DataFrame({"provider": ["A", "B"], "success": [1, 0]}),
            [0.5, NAN],
            base_tariff=100,
            bonus=50,
        ),
        "expected",
    ),
    "effect payments outcome 2": (
        lambda: funding.effect_payments(
            pd.DataFrame({"provider": ["A", "B"], "success": [1, 2]}),
            [0.5, 0.5],
            base_tariff=100,
            bonus=50,
        ),
        "success",
    ),
    # effect tariffs
    "settle nan tariff": (
        lambda: et.settle(_citizens(tariff=[100.0, NAN, 90.0]), [0, 0, 0], bonus_per_step=10),
        "tariff",
    ),
    "settle provider total": (
        lambda: et.settle(_citizens(provider=["A", "total", "B"]), [0, 0, 0], bonus_per_step=10),
        "total row",
    ),
    "settle nan expected": (
        lambda: et.settle(_citizens(), [0, NAN, 0], bonus_per_step=10),
        "expected",
    ),
    "price bonus discount -1": (
        lambda: et.price_bonus(1000, discount_rate=-1),
        "discount_rate",
    ),
    "price bonus 2.5 years": (lambda: et.price_bonus(1000, years=2.5), "years must be a whole"),
    "simulate negative draws": (
        lambda: et.simulate_total([0.1], [100.0], bonus_per_step=10, draws=-1),
        "draws",
    ),
    "simulate nan tariff": (
        lambda: et.simulate_total([0.1, 0.2], [100.0, NAN], bonus_per_step=10),
        "tariff",
    ),
    "compare bids nan price": (
        lambda: et.compare_bids(
            _bids(price=[NAN, 1100.0]), citizens=100, avoided_value_per_step=1000
        ),
        "price",
    ),
    "compare bids zero citizens": (
        lambda: et.compare_bids(_bids(), citizens=0, avoided_value_per_step=1000),
        "citizens",
    ),
    # capacity, result funding
    "capacity nan places": (
        lambda: capacity.capacity_budget(_categories(places=[NAN, 5.0])),
        "places",
    ),
    "capacity negative tariff": (
        lambda: capacity.capacity_budget(_categories(tariff=[-1e5, 2e5])),
        "tariff",
    ),
    "capacity category total": (
        lambda: capacity.capacity_budget(_categories(category=["a", "Total"])),
        "total row",
    ),
    "result funding nan result": (
        lambda: rf.result_funding(_schools(passed=[10.0, NAN]), {"passed": 100.0}),
        "passed",
    ),
    "result funding negative pot": (
        lambda: rf.result_funding(_schools(), {"passed": 100.0}, pot=-5),
        "pot",
    ),
    "result funding nan rate": (
        lambda: rf.result_funding(_schools(), {"passed": NAN}),
        "rates",
    ),
    # benchmarking and keys
    "dea duplicate ids": (
        lambda: benchmark.dea(
            pd.DataFrame({"x": [2.0, 4.0], "y": [2.0, 2.0]}, index=["a", "a"]), ["x"], ["y"]
        ),
        "duplicate",
    ),
    "dea empty": (
        lambda: benchmark.dea(pd.DataFrame({"x": [], "y": []}), ["x"], ["y"]),
        "no rows",
    ),
    "dea all-zero output": (
        lambda: benchmark.dea(
            pd.DataFrame({"x": [2.0, 4.0], "y": [2.0, 0.0]}, index=["a", "b"]), ["x"], ["y"]
        ),
        "produce none of the outputs",
    ),
    "compare keys nan": (
        lambda: compare_keys(pd.Series({"a": 1.0, "b": NAN}), pd.Series({"a": 1.0, "b": 2.0})),
        "compare_keys",
    ),
    "compare keys negative": (
        lambda: compare_keys(pd.Series({"a": 1.0, "b": -2.0}), pd.Series({"a": 1.0, "b": 2.0})),
        "negative",
    ),
    "compare keys other units": (
        lambda: compare_keys(pd.Series({"a": 1.0, "b": 2.0}), pd.Series({"a": 1.0, "c": 2.0})),
        "same units",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_course_input_is_refused(case):
    call, message = CASES[case]
    with pytest.raises(InputError, match=re.escape(message)):
        call()


def test_type_split_refuses_a_nan_cost():
    pupils = nm.datasets.load_sample_pupils()
    with pytest.raises(InputError, match=re.escape("fit_type_split(costs)")):
        fit_type_split(
            pupils,
            target="provision",
            costs={"segregated": 300_000.0, "support": NAN},
            indicators=["single_parent"],
            unit_key="district",
        )


def test_correct_input_still_gives_the_textbook_numbers():
    # demographic budget: Σ citizens × unit cost, by hand
    out = demography.demographic_budget(_population(), _COST)
    assert out.set_index("district")["budget"].to_dict() == {
        "N": 100 * 10_000 + 50 * 20_000,
        "S": 80 * 10_000 + 40 * 20_000,
    }
    s = funding.baseline_settlement(_providers(), tariff=1000, marginal_rate=0.5)
    assert s["payment"].tolist()[:2] == [105_000.0, 95_000.0]
    keys = compare_keys(pd.Series({"a": 1.0, "b": 3.0}), pd.Series({"a": 1.0, "b": 1.0}))
    np.testing.assert_allclose(keys.loc["a", "change_pct"], 100.0)
