"""The register path from the command line: person-level runs through DuckDB."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.cli import main

CONFIG = "special_education_register.toml"


@pytest.fixture(scope="module")
def register_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("register")
    src = nm.datasets.sample_dir()
    for name in (CONFIG, "school_districts.csv", "dictionary.csv", "pupils.parquet", "pupils.csv"):
        shutil.copy(src / name, folder / name)
    return folder


def _with_engine(folder, engine: str, persons: str, name: str):
    text = (folder / CONFIG).read_text(encoding="utf-8")
    text = text.replace('engine = "duckdb"', f'engine = "{engine}"')
    text = text.replace('persons = "pupils.parquet"', f'persons = "{persons}"')
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("engine", "persons"),
    [("duckdb", "pupils.parquet"), ("auto", "pupils.parquet"), ("duckdb", "pupils.csv")],
)
def test_register_run_from_the_cli_equals_the_in_memory_run(register_dir, engine, persons):
    cfg = _with_engine(register_dir, engine, persons, f"{engine}_{persons}.toml")
    out = register_dir / f"out_{engine}_{persons}"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    mem_cfg = _with_engine(register_dir, "memory", persons, "memory.toml")
    mem_out = register_dir / f"mem_{persons}"
    assert main(["run", str(mem_cfg), "--out", str(mem_out), "-q"]) == 0
    a = pd.read_csv(out / "allocation_keys.csv").set_index("unit")
    b = pd.read_csv(mem_out / "allocation_keys.csv").set_index("unit")
    assert ((a["need"] - b["need"]).abs() / b["need"]).max() < 1e-9
    assert (a["allocation"] == b["allocation"]).all()
    fa = pd.read_csv(out / "model_fit.csv").set_index("statistic")["value"]
    fb = pd.read_csv(mem_out / "model_fit.csv").set_index("statistic")["value"]
    for stat in (
        "llf",
        "aic",
        "deviance",
        "pseudo_r2",
        "cv_rmse",
        "r2_need",
        "person_auc",
        "person_cv_rmse_person",
        "person_r2_person",
    ):
        assert float(fa[stat]) == pytest.approx(float(fb[stat]), rel=1e-9), stat
    ca = pd.read_csv(out / "coefficients.csv").set_index("term")
    cb = pd.read_csv(mem_out / "coefficients.csv").set_index("term")
    pd.testing.assert_frame_equal(ca, cb, rtol=1e-9)
    assert (out / "report.html").stat().st_size > 10_000


def test_the_engine_really_collapses(register_dir):
    result = nm.run(_with_engine(register_dir, "duckdb", "pupils.parquet", "d.toml"))
    assert result.results.extras.get("collapsed")
    assert result.results.fit_stats["cells"] < 200


def test_register_validate_and_report_from_the_cli(register_dir, capsys):
    cfg = register_dir / CONFIG
    assert main(["validate", str(cfg)]) == 0
    assert "24 units" in capsys.readouterr().out
    out = register_dir / "report_only"
    assert main(["report", str(cfg), "--out", str(out), "-q"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "D01" in html


def _weighted(folder, engine: str, name: str):
    """The register config as a person-level WLS of the cost on a small CSV with weights."""
    persons = pd.read_csv(folder / "pupils.csv")
    persons["weight"] = 0.5 + (persons.index % 4) / 2  # 0.5, 1, 1.5, 2
    persons.to_csv(folder / "pupils_weighted.csv", index=False)
    text = (folder / CONFIG).read_text(encoding="utf-8")
    text = text.replace('engine = "duckdb"', f'engine = "{engine}"\nweights = "weight"')
    text = text.replace('persons = "pupils.parquet"', 'persons = "pupils_weighted.csv"')
    text = text.replace('target = "special_ed" ', 'target = "special_ed_cost" ')
    text = text.replace('method = "binomial"', 'method = "ols"\ncov = "HC1"')
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path, persons


def test_person_weights_of_a_small_csv_are_used_never_dropped(register_dir, capsys):
    # a CSV below the 50 MB of engine "auto" is fitted in memory, which has no person
    # weights: with weights it is collapsed instead, and equals statsmodels' WLS
    import statsmodels.formula.api as smf

    cfg, persons = _weighted(register_dir, "auto", "weighted_auto.toml")
    result = nm.run(cfg)
    assert result.results.extras.get("collapsed")
    formula = (
        "special_ed_cost ~ C(parents_education, Treatment('long_higher'))"
        " + parents_outside_labour_market + single_parent"
        " + C(background, Treatment('danish')) + C(income_quartile, Treatment(4))"
    )
    wls = smf.wls(formula, persons, weights=persons["weight"]).fit()
    got = result.results.predict(persons).to_numpy()
    assert got == pytest.approx(wls.predict(persons).to_numpy(), rel=1e-8)
    assert sorted(result.results.params.round(6)) == sorted(wls.params.round(6))
    # engine "memory" would leave them out: refused, naming the key, exit 2
    cfg_mem, _ = _weighted(register_dir, "memory", "weighted_memory.toml")
    capsys.readouterr()
    assert main(["run", str(cfg_mem), "--out", str(register_dir / "w_mem"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.weights" in err[0] and "engine 'memory'" in err[0]
    assert not (register_dir / "w_mem").exists()
    assert main(["validate", str(cfg_mem)]) == 2  # validate says so too
    assert "data.weights" in capsys.readouterr().err


def test_negative_person_weights_are_refused(register_dir, capsys):
    cfg, persons = _weighted(register_dir, "auto", "weighted_negative.toml")
    persons.loc[[3, 8], "weight"] = -1.0
    persons.to_csv(register_dir / "pupils_weighted.csv", index=False)
    assert main(["run", str(cfg), "--out", str(register_dir / "w_neg"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "person weights in column 'weight' must not be negative; 2 person(s)" in err


def test_given_coefficients_apply_person_weights_as_the_weighted_fit_did(register_dir):
    # the weighted fit's need is Σ weight × prediction; applying its coefficients to
    # the same weighted persons gives the same need
    cfg, _ = _weighted(register_dir, "auto", "weighted_est.toml")
    out = register_dir / "w_est"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    shutil.copy(out / "coefficients.csv", register_dir / "weighted_model.csv")
    text = cfg.read_text(encoding="utf-8").replace(
        'method = "ols"', 'method = "ols"\ncoefficients = "weighted_model.csv"'
    )
    given = register_dir / "weighted_given.toml"
    given.write_text(text, encoding="utf-8")
    assert main(["run", str(given), "--out", str(register_dir / "w_given"), "-q"]) == 0
    a = pd.read_csv(out / "allocation_keys.csv").set_index("unit")
    b = pd.read_csv(register_dir / "w_given" / "allocation_keys.csv").set_index("unit")
    assert b["need"].to_numpy() == pytest.approx(a["need"].to_numpy(), rel=1e-9)
    assert (a["allocation"] == b["allocation"]).all()
