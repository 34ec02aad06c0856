"""The needsmodel command: run, demo, validate; exit codes and messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main


def test_run_writes_outputs_and_prints_summary(workdir, capsys):
    cfg = write_config(workdir)
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "WLS of special_ed_cost" in out
    assert "sum 130,000,000 kr" in out
    assert "Wrote 20 files" in out and "Report: " in out  # no uncertainty in this config
    assert re.search(r"^Criteria +parents_low_education", out, re.M)
    assert (workdir / "out" / "allocation_keys.xlsx").is_file()


def test_cli_and_python_give_identical_numbers(workdir):
    cfg = write_config(workdir)
    assert main(["run", str(cfg), "--out", str(workdir / "cli"), "-q"]) == 0
    api = nm.run(cfg)
    keys = pd.read_csv(workdir / "cli" / "allocation_keys.csv", dtype={"unit": str})
    assert keys["allocation"].tolist() == api.allocation.table["allocation"].tolist()
    assert keys["unit"].tolist() == api.allocation.table["unit"].tolist()
    np.testing.assert_allclose(keys["need"], api.results.need.to_numpy(), atol=0.005)
    coefs = pd.read_csv(workdir / "cli" / "coefficients.csv").set_index("term")
    np.testing.assert_allclose(coefs["estimate"], api.results.params, rtol=1e-11)
    np.testing.assert_allclose(coefs["std_error"], api.results.bse, rtol=1e-11)


def test_demo_writes_into_reports_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert (tmp_path / "reports" / "demo" / "allocation_keys.csv").is_file()
    assert "Sample municipality" in capsys.readouterr().out


def test_validate_writes_nothing(workdir, capsys):
    cfg = write_config(workdir)
    assert main(["validate", str(cfg)]) == 0
    assert "24 units" in capsys.readouterr().out
    assert not (workdir / "out").exists()


def _corrupt(workdir: Path, change) -> Path:
    df = pd.read_csv(workdir / "school_districts.csv", dtype={"district": str})
    df = change(df)
    df.to_csv(workdir / "bad.csv", index=False)
    return write_config(workdir, units="bad.csv")


def _dup(df):
    df.loc[1, "district"] = "D01"
    return df


def _missing(df):
    df["single_parent"] = df["single_parent"].astype(object)
    df.loc[2, "single_parent"] = None
    return df


def _text(df):
    df["pupils"] = df["pupils"].astype(object)
    df.loc[0, "pupils"] = "mange"
    return df


def _neg(df):
    df.loc[0, "special_ed_cost"] = -1
    return df


def _zero(df):
    df["pupils"] = 0
    return df


def _collinear(df):
    df["single_parent"] = 1 - df["parents_low_education"]
    return df


BAD = {
    "duplicate id": (_dup, "id column 'district' has duplicate values: 'D01'"),
    "missing column": (
        lambda df: df.drop(columns="single_parent"),
        "column 'single_parent' not found",
    ),
    "missing id column": (lambda df: df.drop(columns="district"), "column 'district' not found"),
    "missing value": (_missing, "column 'single_parent' has 1 missing value(s), for unit(s) 'D03'"),
    "non-numeric": (_text, "column 'pupils' must be numeric; unit(s) 'D01' have 'mange'"),
    "negative cost": (
        _neg,
        "column 'special_ed_cost' must not be negative; negative for unit(s) 'D01'",
    ),
    "zero exposure": (_zero, "exposure column 'pupils' sums to zero"),
    "too few units": (lambda df: df.head(4), "4 units is too few for a model with 4 parameters"),
    "collinear": (
        _collinear,
        "indicators 'parents_low_education' and 'single_parent' are perfectly collinear",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_and_no_output(workdir, capsys, case):
    change, message = BAD[case]
    cfg = _corrupt(workdir, change)
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"needsmodel: error: {workdir / 'bad.csv'}: ")
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (workdir / "out").exists()


@pytest.mark.parametrize("command", ["validate", "run", "report"])
def test_missing_data_file_exits_2_naming_the_key(workdir, capsys, command):
    cfg = write_config(workdir, units="nowhere.csv")
    assert main([command, str(cfg)]) == 2
    assert f"[data.units] file not found: {workdir / 'nowhere.csv'}" in capsys.readouterr().err
    for key in ("dictionary", "exposure_forecast"):
        cfg = write_config(workdir, data={key: f"no_{key}.csv"}, allocation={"first_year": 2027})
        assert main([command, str(cfg)]) == 2
        assert f"[data.{key}] file not found" in capsys.readouterr().err


def test_config_error_exits_2(workdir, capsys):
    cfg = write_config(workdir, model={"metod": "wls"})
    assert main(["run", str(cfg)]) == 2
    assert "unknown key 'metod'; did you mean 'method'?" in capsys.readouterr().err


def test_internal_error_exits_1(workdir, capsys, monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("needsmodel.pipeline.fit_units", broken)
    assert main(["run", str(write_config(workdir))]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == "needsmodel: internal error: ZeroDivisionError: oops (run with --traceback for details)\n"
    )


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["demo", "--help"], ["validate", "--help"]]
)
def test_help(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 0
    assert "usage: needsmodel" in capsys.readouterr().out


def test_console_script_runs_in_a_fresh_process(workdir):
    cfg = _corrupt(workdir, _dup)
    exe = Path(sys.executable).parent / "needsmodel"
    proc = subprocess.run([str(exe), "run", str(cfg)], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("needsmodel: error: ") and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("model", "stat"),
    [
        ({"method": "ols"}, "r2"),
        ({"method": "loglinear"}, "smearing"),
        ({"method": "gamma", "cov": "HC0"}, "deviance"),
        ({"method": "poisson", "target": "special_ed_pupils", "cov": "HC0"}, "aic"),
        ({"method": "binomial", "target": "special_ed_pupils", "cov": "nonrobust"}, "pseudo_r2"),
        ({"method": "tweedie", "var_power": 1.6, "cov": "HC0"}, "deviance"),
    ],
)
def test_every_unit_method_runs_from_a_config(workdir, model, stat):
    cfg = write_config(workdir, model=model)
    assert main(["run", str(cfg), "-q"]) == 0
    fit = pd.read_csv(workdir / "out" / "model_fit.csv").set_index("statistic")["value"]
    assert stat in fit.index and "cv_rmse" in fit.index
    api = nm.run(cfg)
    assert float(fit.loc["cv_rmse"]) == pytest.approx(api.results.fit_stats["cv_rmse"], rel=1e-10)
    assert pd.read_csv(workdir / "out" / "allocation_keys.csv")["allocation"].sum() == 130_000_000


@pytest.mark.parametrize("name", ["special_education_pupils", "school_districts_panel"])
def test_bundled_configs_run(tmp_path, name, capsys):
    cfg = nm.datasets.sample_dir() / f"{name}.toml"
    assert main(["run", str(cfg), "--out", str(tmp_path)]) == 0
    files = {p.name for p in tmp_path.iterdir()}
    extra = "predictive_ratios.csv" if name.startswith("special") else "coefficient_stability.csv"
    assert extra in files
    out = capsys.readouterr().out
    # the summary speaks the config's language (Danish for the pupils config)
    pattern = r"^Personer +10\.393" if name.startswith("special") else r"^Years +2022, 2023, 2024"
    assert re.search(pattern, out, re.M)


def test_cell_model_from_config(tmp_path):
    src = nm.datasets.sample_dir()
    cfg = tmp_path / "cells.toml"
    cfg.write_text(
        f'[data]\nunits = "{src / "school_districts.csv"}"\nid = "district"\npersons = "{src / "pupils.csv"}"\n'
        'unit_key = "district"\n[model]\ntarget = "special_ed_cost"\n'
        'indicators = ["parents_education", "single_parent", "income_quartile"]\nmethod = "cells"\n'
        'min_cell_size = 40\nsmall_cells = "shrink"\n[allocation]\nbudget = 1_000_000\n',
        encoding="utf-8",
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "-q"]) == 0
    cells = pd.read_csv(tmp_path / "out" / "cells.csv")
    assert cells["rule"].str.startswith("shrunk").all()


def test_influenceable_indicator_warns_on_the_command_line(workdir, capsys):
    cfg = write_config(
        workdir,
        model={
            "indicators": ["parents_low_education", "special_ed_pupils"],
            "influenceable": ["special_ed_pupils"],
        },
    )
    assert main(["run", str(cfg), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "needsmodel: warning: indicator 'special_ed_pupils' is marked as influenceable"
    )


def test_glm_with_hc3_is_a_config_error(workdir, capsys):
    cfg = write_config(workdir, model={"method": "gamma", "cov": "HC3"})
    assert main(["validate", str(cfg)]) == 2
    assert "cov='HC3' is not available for method 'gamma'" in capsys.readouterr().err


def test_bare_needsmodel_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: needsmodel" in out and "run" in out and "demo" in out


def _modules_after(code: str) -> set[str]:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_help_and_validate_load_only_what_they_use():
    """--help answers without the statistics stack; validate without report, Excel or plots."""
    helped = _modules_after(
        "import contextlib, io\nfrom needsmodel.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert not {"pandas", "numpy", "statsmodels", "matplotlib", "duckdb"} & helped
    sample = nm.datasets.sample_config_path()
    validated = _modules_after(
        "import contextlib, io\nfrom needsmodel.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): assert main(['validate', {str(sample)!r}]) == 0"
    )
    assert "needsmodel.pipeline" in validated
    assert not {"matplotlib", "jinja2", "openpyxl", "needsmodel.report"} & validated


def _entry(argv: list[str], before: str = "") -> subprocess.CompletedProcess[str]:
    """The console command's entry point in a fresh process."""
    import os

    args = ["needsmodel", *argv]
    code = f"import sys\n{before}\nfrom needsmodel.cli import entry\nsys.argv = {args!r}\nentry()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )


def test_the_command_exits_with_mains_code_after_its_exit_handlers(tmp_path):
    # the quick exit skips only the interpreter's teardown: codes, streams, handlers stay
    handler = (
        "import atexit, tempfile, weakref, shutil\n"
        f"d = tempfile.mkdtemp(dir={str(tmp_path)!r})\n"
        "class Holder: pass\n"
        "h = Holder(); weakref.finalize(h, shutil.rmtree, d)\n"
        "atexit.register(lambda: print('handler ran', flush=True))"
    )
    sample = nm.datasets.sample_config_path()
    ok = _entry(["validate", str(sample)], before=handler)
    assert ok.returncode == 0, ok.stderr
    # the command's output is all there, and the handler ran after it
    assert ok.stdout.rstrip().splitlines()[-2:] == [
        f"OK: {sample} and {sample.with_suffix('.csv')} (24 units) are valid; nothing written",
        "handler ran",
    ]
    assert list(tmp_path.iterdir()) == []  # the finalizer removed its folder
    plain = _entry(["validate", str(sample)])  # piped stdout is buffered: flushed at exit
    assert plain.returncode == 0
    assert plain.stdout.rstrip().splitlines()[-1].startswith(f"OK: {sample} and ")
    # an error exits with 2 and one line; what was printed before is not lost
    bad = _entry(["validate", str(tmp_path / "missing.toml")], before="print('said before')")
    assert bad.returncode == 2
    assert bad.stdout == "said before\n"
    assert bad.stderr.strip().splitlines() == [
        f"needsmodel: error: {tmp_path / 'missing.toml'}: config file not found"
    ]
