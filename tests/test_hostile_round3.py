"""Hostile and careless input, round three: no option silently dropped, nothing silently wrong.

Each case ends as stated: a clean exit 2 naming the key, column or file, or the
correct result checked by independent arithmetic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main


def _exit2(capsys, args: list[str], *needles: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    """A folder with the sample and a run's coefficients (y1/) in it."""
    folder = tmp_path_factory.mktemp("frozen")
    src = nm.datasets.sample_dir()
    for name in (
        "school_districts.toml",
        "school_districts.csv",
        "dictionary.csv",
        "school_districts_panel.toml",
        "school_districts_panel.csv",
    ):
        shutil.copy(src / name, folder / name)
    text = (folder / "school_districts.toml").read_text(encoding="utf-8")
    text = text.split("[uncertainty]")[0] + '[output]\nlang = "da"\n'
    (folder / "plain.toml").write_text(text, encoding="utf-8")
    assert main(["run", str(folder / "plain.toml"), "--out", str(folder / "y1"), "-q"]) == 0
    return folder


def _panel_with(folder: Path, section: str, line: str) -> Path:
    text = (folder / "school_districts_panel.toml").read_text(encoding="utf-8")
    text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
    path = folder / "panel_with.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("model", 'coefficients = "y1/coefficients.csv"', "[model.coefficients]"),
        (
            "allocation",
            "criteria = { parents_low_education = 40, parents_outside_labour_market = 35, "
            "single_parent = 25 }",
            "[allocation.criteria]",
        ),
    ],
)
def test_several_years_never_drop_given_coefficients_or_fixed_weights(
    frozen, capsys, section, line, key
):
    cfg = _panel_with(frozen, section, line)
    for command in ("validate", "run"):
        _exit2(capsys, [command, str(cfg)], key, "[data] year")


def _given(folder: Path, name: str, extra: str = "", method: str = "wls") -> Path:
    text = (folder / "plain.toml").read_text(encoding="utf-8")
    text = text.replace('method = "wls"', f'method = "{method}"\n{extra}')
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_log_linear_table_is_refused_under_wls(frozen, capsys):
    log = _given(frozen, "log.toml", method="loglinear")
    assert main(["run", str(log), "--out", str(frozen / "log"), "-q"]) == 0
    cfg = _given(frozen, "log_as_wls.toml", 'coefficients = "log/coefficients.csv"')
    for command in ("validate", "run"):
        _exit2(capsys, [command, str(cfg)], "(smearing)", 'method = "loglinear"')


def test_a_covariance_as_pandas_writes_it_is_read(frozen):
    cov = pd.read_csv(frozen / "y1" / "coefficients_cov.csv").set_index("term")
    cov.index.name = None
    cov.to_csv(frozen / "cov_pandas.csv")  # blank first header
    a = _given(
        frozen,
        "cov_a.toml",
        'coefficients = "y1/coefficients.csv"\ncoefficients_cov = "y1/coefficients_cov.csv"',
    )
    b = _given(
        frozen,
        "cov_b.toml",
        'coefficients = "y1/coefficients.csv"\ncoefficients_cov = "cov_pandas.csv"',
    )
    ra, rb = nm.run(a), nm.run(b)
    np.testing.assert_array_equal(
        ra.results.cov_params.to_numpy(), rb.results.cov_params.to_numpy()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("nan", "missing value or text"),
        ("text", "missing value or text"),
        ("asymmetric", "not symmetric"),
        ("negative", "not positive semi-definite"),
    ],
)
def test_a_bad_covariance_is_refused_before_use(frozen, capsys, change, message):
    cov = pd.read_csv(frozen / "y1" / "coefficients_cov.csv", dtype={"term": str})
    cov = cov.astype({c: object for c in cov.columns if c != "term"})
    if change == "nan":
        cov.iloc[1, 2] = np.nan
    elif change == "text":
        cov.iloc[1, 2] = "n/a"
    elif change == "asymmetric":  # row 1 is parents_low_education, column 3 the next term
        cov.iloc[1, 3] = float(cov.iloc[1, 3]) * 3 + 1
    else:  # a covariance far beyond the variances: no correlation can be above 1
        cov.iloc[1, 3] = cov.iloc[2, 2] = float(cov.iloc[1, 2]) * 50
    cov.to_csv(frozen / f"cov_{change}.csv", index=False)
    cfg = _given(
        frozen,
        f"cov_{change}.toml",
        f'coefficients = "y1/coefficients.csv"\ncoefficients_cov = "cov_{change}.csv"',
    )
    for command in ("validate", "run"):
        _exit2(capsys, [command, str(cfg)], f"cov_{change}.csv", message)


def test_parametric_intervals_without_standard_errors_are_refused(frozen, capsys):
    table = pd.read_csv(frozen / "y1" / "coefficients.csv")[["term", "estimate"]]
    table.to_csv(frozen / "no_se.csv", index=False)
    cfg = _given(frozen, "no_se.toml", 'coefficients = "no_se.csv"')
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + '\n[uncertainty]\nmethod = "parametric"\n',
        encoding="utf-8",
    )
    _exit2(capsys, ["run", str(cfg), "--out", str(frozen / "no_se")], "std_error")


def test_negative_current_budget_is_refused_and_zero_under_a_cap_is_warned(workdir, capsys):
    units = pd.read_csv(workdir / "school_districts.csv")
    units.loc[0, "budget_current"] = -540_000
    units.to_csv(workdir / "neg.csv", index=False)
    cfg = write_config(workdir, units="neg.csv")
    _exit2(capsys, ["run", str(cfg)], "negative", "D01")
    units.loc[0, "budget_current"] = 0
    units.to_csv(workdir / "zero.csv", index=False)
    cfg = write_config(workdir, units="zero.csv", allocation={"max_gain_pct": 10})
    assert main(["run", str(cfg), "-q"]) == 0
    err = capsys.readouterr().err
    assert "D01" in err and "current budget of 0 kr" in err and "max_gain_pct" in err


def test_reference_means_in_percent_are_refused(workdir, capsys):
    cfg = write_config(workdir)
    means = (
        "{ parents_low_education = 18, parents_outside_labour_market = 0.15, single_parent = 0.2 }"
    )
    cfg.write_text(
        cfg.read_text().replace("[allocation]\n", f"reference_means = {means}\n\n[allocation]\n")
    )
    _exit2(capsys, ["run", str(cfg)], "[model.reference_means]", "0.18")


def _register_copy(folder: Path) -> tuple[Path, pd.DataFrame]:
    """The bundled register config, its units and its pupils (Parquet) copied into ``folder``."""
    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, folder / name)
    pupils = pd.read_parquet(src / "pupils.parquet")
    pupils.to_parquet(folder / "pupils.parquet")
    return folder / "special_education_register.toml", pupils


def test_given_coefficients_never_pay_a_unit_without_persons(tmp_path):
    cfg, pupils = _register_copy(tmp_path)
    first = nm.run(cfg)
    first.write(tmp_path / "y1")
    pupils.loc[pupils["district"] != "D05"].to_parquet(tmp_path / "pupils.parquet")
    text = cfg.read_text(encoding="utf-8").replace(
        "[model]\n", '[model]\ncoefficients = "y1/coefficients.csv"\n'
    )
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(nm.errors.DataError, match=r"D05.*no persons"):
        nm.run(cfg)


def test_a_unit_without_pupils_in_the_budget_year_gets_its_need_when_pupils_come(tmp_path):
    src = nm.datasets.sample_dir()
    for name in ("school_districts_budget.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    forecast = pd.read_csv(src / "pupil_forecast.csv", dtype={"district": str})
    forecast.loc[(forecast["district"] == "D03") & (forecast["year"] == 2027), "pupils"] = 0
    forecast.loc[(forecast["district"] == "D03") & (forecast["year"] == 2028), "pupils"] = 390
    forecast.to_csv(tmp_path / "pupil_forecast.csv", index=False)
    text = (tmp_path / "school_districts_budget.toml").read_text(encoding="utf-8")
    text = text.replace("max_loss_pct = 3\nmax_gain_pct = 8\n", "")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8")
    result = nm.run(tmp_path / "b.toml")
    years = result.allocation.years.set_index(["unit", "year"])
    assert years.loc[("D03", "2027"), "target"] == 0
    t = result.allocation.table.set_index("unit")
    # 2028: the model's need per pupil times the 390 pupils (before the frame is applied)
    rate = result.results.need["D03"] / result.results.exposure["D03"]
    assert years.loc[("D03", "2028"), "target"] > 0.5 * rate * 390
    assert t.loc["D03", "allocation"] == 0


def test_dollar_signs_in_names_are_text_not_mathtext(workdir):
    units = pd.read_csv(workdir / "school_districts.csv")
    units.loc[0, "name"] = "$\\frac{1}{0$ school"
    units.loc[1, "district"] = "$D$02"
    units.to_csv(workdir / "dollar.csv", index=False)
    cfg = write_config(workdir, units="dollar.csv", data={"label": "name"})
    assert main(["run", str(cfg), "-q"]) == 0


def test_perfect_separation_exits_2(tmp_path, capsys):
    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    pupils = pd.read_parquet(src / "pupils.parquet")
    pupils["special_ed"] = (pupils["single_parent"] == 1).astype(int)
    pupils.to_parquet(tmp_path / "pupils.parquet")
    cfg = tmp_path / "special_education_register.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace('engine = "duckdb"', 'engine = "memory"'),
        encoding="utf-8",
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("case", ["long", "loop", "plots"])
def test_output_paths_that_cannot_be_folders_exit_2(workdir, capsys, case):
    cfg = write_config(workdir)
    if case == "long":
        out = workdir / ("a" * 5000)
    elif case == "loop":
        (workdir / "l1").symlink_to(workdir / "l2")
        (workdir / "l2").symlink_to(workdir / "l1")
        out = workdir / "l1"
    else:
        out = workdir / "o"
        out.mkdir()
        (out / "plots").write_text("a file called plots")
    err = _exit2(capsys, ["run", str(cfg), "--out", str(out), "-q"], "cannot write to")
    assert len(err) < 400
    if case == "plots":
        assert (out / "plots").read_text() == "a file called plots"


@pytest.mark.parametrize(
    ("allocation", "needles"),
    [
        ({"growth_pct": -100, "budget_years": 2, "first_year": 2027}, ["[allocation.growth_pct]"]),
        ({"round_to": 1_000_000, "max_loss_pct": 5}, ["round_to = 1,000,000 kr is too coarse"]),
    ],
)
def test_messages_name_the_key_that_is_wrong(workdir, capsys, allocation, needles):
    cfg = write_config(workdir, allocation=allocation)
    for command in ("validate", "run"):
        _exit2(capsys, [command, str(cfg)], *needles)


def test_huge_coefficients_name_the_term(frozen, capsys):
    table = pd.read_csv(frozen / "y1" / "coefficients.csv")
    table.loc[table["term"] == "single_parent", "estimate"] = 1e300
    table.to_csv(frozen / "huge.csv", index=False)
    cfg = _given(frozen, "huge.toml", 'coefficients = "huge.csv"')
    _exit2(capsys, ["run", str(cfg), "--out", str(frozen / "huge")], "single_parent", "huge.csv")


def test_nonnegative_constraint_runs_through_the_cli_and_leaves_year_effects_free(frozen):
    from scipy.optimize import lsq_linear

    text = (frozen / "school_districts_panel.toml").read_text(encoding="utf-8")
    text = text.replace('cluster = "district"', 'cluster = "district"\nconstraints = "nonnegative"')
    cfg = frozen / "panel_nonneg.toml"
    cfg.write_text(text, encoding="utf-8")
    assert main(["run", str(cfg), "--out", str(frozen / "panel_nonneg"), "-q"]) == 0
    result = nm.run(cfg)
    params = result.results.params
    # independent: bounded least squares, slopes >= 0, intercept and year effects free
    panel = pd.read_csv(frozen / "school_districts_panel.csv")
    inds = ["parents_low_education", "parents_outside_labour_market", "single_parent"]
    years = sorted(panel["year"].unique())[1:]
    x = np.column_stack(
        [np.ones(len(panel)), panel[inds].to_numpy(float)]
        + [(panel["year"] == y).to_numpy(float) for y in years]
    )
    w = np.sqrt(panel["pupils"].to_numpy(float))
    y = (panel["special_ed_cost"] / panel["pupils"]).to_numpy(float)
    lower = np.r_[-np.inf, np.zeros(len(inds)), np.full(len(years), -np.inf)]
    ref = lsq_linear(x * w[:, None], y * w, bounds=(lower, np.inf), tol=1e-12).x
    np.testing.assert_allclose(params.to_numpy(), ref, rtol=1e-6, atol=1e-6)
    fit = pd.read_csv(frozen / "panel_nonneg" / "model_fit.csv", dtype=str)
    held = dict(zip(fit["statistic"], fit["value"], strict=True)).get("at_zero")
    assert not isinstance(held, str) or "year" not in held


def test_report_reuses_the_intervals_whatever_the_spelling_of_the_paths(
    workdir, capsys, monkeypatch
):
    cfg = write_config(workdir, uncertainty={"method": "bootstrap", "replicates": 50})
    monkeypatch.chdir(workdir)
    assert main(["run", "config.toml", "--out", "out", "-q"]) == 0
    assert main(["report", str(cfg), "--out", str(workdir / "out")]) == 0
    assert "reused the 50 bootstrap draws" in capsys.readouterr().out
    assert not (workdir / "out" / ".needsmodel.lock").exists()


def test_given_coefficients_with_a_level_the_data_lack_run(tmp_path):
    cfg, pupils = _register_copy(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace('engine = "duckdb"', 'engine = "memory"')
    cfg.write_text(text, encoding="utf-8")
    nm.run(cfg).write(tmp_path / "y1")
    # next year no pupil has the background 'other': its term stays, its column is all zeros
    level = sorted(pupils["background"].unique())[-1]
    keep = pupils["background"] != level
    pupils.loc[keep].to_parquet(tmp_path / "pupils.parquet")
    cfg.write_text(
        text.replace("[model]\n", '[model]\ncoefficients = "y1/coefficients.csv"\n'),
        encoding="utf-8",
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "y2"), "-q"]) == 0


def test_run_and_report_without_out_write_beside_the_config(workdir, tmp_path, monkeypatch):
    cfg = write_config(
        workdir, output={"dir": None}, uncertainty={"method": "bootstrap", "replicates": 50}
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory is not the config's folder
    assert main(["run", str(cfg), "-q"]) == 0
    assert main(["report", str(cfg), "-q"]) == 0
    folder = workdir / "reports" / "run"
    assert (folder / "allocation_keys.csv").is_file() and (folder / "report.html").is_file()
    assert not any(elsewhere.iterdir())
