"""What a user controls in a collapse: column names reach its SQL safely or are refused by
name, and its spill folder does not outlive the store."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import needsmodel as nm
from needsmodel.errors import DataError
from needsmodel.register import fit_collapsed

HOSTILE = 'grade"; DROP TABLE persons; --'


@pytest.fixture(scope="module")
def persons(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 20_000
    df = pd.DataFrame(
        {
            # the unit column, named like a code, its ids quoted and not ASCII
            "cell": [f"Ådalen 'N{i}'" for i in rng.integers(0, 12, n)],
            HOSTILE: rng.integers(1, 4, n),
            "Mother tongue": rng.choice(["da", "o'ther\"; DROP TABLE cellids; --"], n),
            "code": rng.integers(0, 2, n),  # a 0/1 flag named like a unit code
        }
    )
    eta = -1.0 + 0.3 * df[HOSTILE] + 0.5 * (df["Mother tongue"] != "da") - 0.4 * df["code"]
    df["n"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)  # the outcome
    path = tmp_path_factory.mktemp("names") / "persons.parquet"
    df.to_parquet(path)
    df.to_csv(path.with_suffix(".csv"), index=False)  # quotes, commas and ; inside fields
    return path, df


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_hostile_and_colliding_names_give_the_person_level_fit(persons, suffix):
    path, df = persons
    path = path.with_suffix(suffix)
    spec = nm.NeedSpec(
        "n",
        [HOSTILE, "Mother tongue", "code"],
        method="logit",
        categorical=[HOSTILE],
        unit_key="cell",
        cov="HC0",
        cv=2,
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = fit_collapsed(spec, path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # statsmodels on every person, the same dummies (first level = reference)
    x = pd.DataFrame(
        {
            "Intercept": 1.0,
            "b2": (df[HOSTILE] == 2).astype(float),
            "b3": (df[HOSTILE] == 3).astype(float),
            "mt": (df["Mother tongue"] != "da").astype(float),
            "code": df["code"].astype(float),
        }
    )
    ref = sm.Logit(df["n"].astype(float), x).fit(disp=0, cov_type="HC0")
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-6)
    need = pd.Series(ref.predict(x), index=df.index).groupby(df["cell"]).sum()
    np.testing.assert_allclose(res.need.sort_index().to_numpy(), need.sort_index().to_numpy())
    assert sorted(res.need.index) == sorted(df["cell"].unique())


@pytest.mark.parametrize("name", ["n", "cell", "unit", "swy", "cellhash"])
def test_an_indicator_named_like_a_cell_sum_is_refused_by_name(tmp_path, name):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "district": rng.integers(0, 5, 500).astype(str),
            name: rng.integers(0, 3, 500),
            "y": rng.integers(0, 2, 500),
        }
    )
    path = tmp_path / "persons.parquet"
    df.to_parquet(path)
    spec = nm.NeedSpec("y", [name], method="logit", categorical=[name], unit_key="district")
    with pytest.raises(DataError, match=f"indicator column '{name}' in the person file"):
        fit_collapsed(spec, path)


def test_a_store_dropped_unclosed_deletes_its_spill_folder(persons):
    import gc
    from pathlib import Path

    from needsmodel.collapse import CellStore

    path, _ = persons
    store = CellStore(path, unit_key="cell", target="n", indicators=["Mother tongue", "code"])
    spill = Path(store._spill)
    assert spill.is_dir() and len(store.cells) == 4
    del store
    gc.collect()
    assert not spill.exists()


@pytest.mark.parametrize("names", [["h"], ["fold", "code"], ["key", "m", "mf"]])
def test_indicators_named_like_the_helper_tables_columns_count_everyone(tmp_path, names):
    # unitids (code, fold), the fold means (key, m, mf) and a short name: all plain indicators
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"district": rng.choice(list("abcd"), 800), "y": rng.integers(0, 2, 800)})
    for name in names:
        df[name] = rng.integers(0, 3, 800)
    path = tmp_path / "persons.parquet"
    df.to_parquet(path)
    spec = nm.NeedSpec("y", names, method="logit", categorical=names, unit_key="district", cv=2)
    res = fit_collapsed(spec, path)
    assert res.data["persons"].sum() == 800
    x = pd.get_dummies(df[names].astype(str), drop_first=True, dtype=float)
    ref = sm.Logit(df["y"].astype(float), sm.add_constant(x)).fit(disp=0)
    need = pd.Series(ref.predict(sm.add_constant(x)), index=df.index).groupby(df["district"]).sum()
    np.testing.assert_allclose(res.need.sort_index().to_numpy(), need.sort_index().to_numpy())
