"""Every documented workflow in the README runs: its TOML blocks, its commands and its Python.

The README's fenced blocks are read from the file itself, so a documented
workflow cannot break unseen:

* a ``toml`` block whose first line names a file (``# apply_2028.toml: ...``) is
  written as that file; any other block is merged into the bundled config it
  belongs to (the register config for person files, else the sample config) and
  run through ``needsmodel validate`` and ``needsmodel run``;
* every ``needsmodel`` line of a ``sh`` block is run, in order, in a folder
  holding the sample data (``my_model.toml``, ``a.toml`` and ``b.toml`` are the
  sample config and a variant), and must exit 0;
* the ``python`` block is executed.

Files a block names that the sample does not ship (``Budget 2027.xlsx``,
``districts_2028.csv``) are made from the sample data first.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_NAMED = re.compile(r"^#\s*([\w.-]+\.toml)\b")


def _blocks(lang: str) -> list[str]:
    return [
        body for kind, body in _BLOCK.findall(README.read_text(encoding="utf-8")) if kind == lang
    ]


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{ "
            + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items())
            + " }"
        )
    return repr(v)


def _dump(config: dict[str, dict[str, object]]) -> str:
    lines = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A folder with the sample data, the files the README names, and cwd there."""
    src = nm.datasets.sample_dir()
    for p in src.iterdir():
        if p.is_file() and p.suffix in (".csv", ".parquet", ".toml"):
            shutil.copy(p, tmp_path / p.name)
    units = pd.read_csv(src / "school_districts.csv", dtype={"district": str})
    units.drop(columns=["special_ed_cost"]).to_csv(tmp_path / "districts_2028.csv", index=False)
    book = units.rename(columns={"district": "Distrikt"})
    total = book.sum(numeric_only=True).to_frame().T.assign(Distrikt="I alt", name="")
    with pd.ExcelWriter(tmp_path / "Budget 2027.xlsx") as xl:
        pd.concat([book, total]).to_excel(xl, sheet_name="Distrikter", index=False)
    sample = (src / "school_districts.toml").read_text(encoding="utf-8")
    (tmp_path / "my_model.toml").write_text(sample, encoding="utf-8")
    (tmp_path / "a.toml").write_text(sample, encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        sample.replace("max_loss_pct = 5 ", "max_loss_pct = 3 "), encoding="utf-8"
    )
    for body in _blocks("toml"):
        m = _NAMED.match(body)
        if m:
            (tmp_path / m.group(1)).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _merged(folder: Path, body: str) -> Path:
    block = tomllib.loads(body)
    data = block.get("data", {})
    person = "persons" in data or "persons_table" in data
    base_name = "special_education_register.toml" if person else "school_districts.toml"
    base = tomllib.loads((folder / base_name).read_text(encoding="utf-8"))
    if "Budget 2027.xlsx" in json.dumps(data, ensure_ascii=False):
        # the Danish workbook's id column is "Distrikt": the model's columns stay the sample's
        base["data"].pop("label", None)
    if "persons_table" in data:  # a table on the server instead of the sample's file
        base["data"].pop("persons", None)
    for section, values in block.items():
        base.setdefault(section, {}).update(values)
    base.setdefault("uncertainty", {})["replicates"] = 50  # the documented method, quickly
    path = folder / "merged.toml"
    path.write_text(_dump(base), encoding="utf-8")
    return path


_UNNAMED = [b for b in _blocks("toml") if not _NAMED.match(b) and "persons_table" not in b]


@pytest.mark.parametrize("body", _UNNAMED, ids=[f"toml-{i}" for i in range(len(_UNNAMED))])
def test_every_toml_block_runs(folder, body, capsys):
    cfg = _merged(folder, body)
    assert main(["validate", str(cfg)]) == 0, capsys.readouterr().err
    assert main(["run", str(cfg), "--out", str(folder / "out"), "-q"]) == 0, capsys.readouterr().err
    keys = pd.read_csv(folder / "out" / "allocation_keys.csv")
    assert keys["allocation"].sum() == tomllib.loads(cfg.read_text())["allocation"]["budget"]


def _commands() -> list[str]:
    out = []
    for body in _blocks("sh"):
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("needsmodel "):
                out.append(line)
    return out


def test_every_documented_command_runs_in_order(folder, capsys):
    commands = _commands()
    assert any("apply_2028.toml" in c for c in commands)  # the yearly cycle is documented
    for command in commands:
        args = shlex.split(command)[1:]
        try:
            code = main(args)
        except SystemExit as e:  # --help
            code = int(e.code or 0)
        assert code == 0, (command, capsys.readouterr().err)
    # the frozen model's run carries the year-1 coefficients unchanged
    assert (folder / "reports/2028/coefficients.csv").read_bytes() == (
        folder / "reports/2027/coefficients.csv"
    ).read_bytes()
    assert (folder / "reports/compare/scenarios.csv").is_file()


def test_the_python_example_runs(folder):
    (python,) = _blocks("python")
    (folder / "data" / "sample").mkdir(parents=True)
    for p in nm.datasets.sample_dir().iterdir():
        if p.is_file():
            shutil.copy(p, folder / "data" / "sample" / p.name)
    scope: dict[str, object] = {}
    exec(compile(python, "README.md", "exec"), scope)
    assert (folder / "reports" / "mine" / "allocation_keys.csv").is_file()


@pytest.mark.slow
def test_the_database_block_runs_on_a_real_server(folder, capsys):
    import sqlalchemy as sa
    from postgres import postgres_server

    (body,) = [b for b in _blocks("toml") if "persons_table" in b]
    with postgres_server() as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA skole"))
            pd.read_parquet(folder / "pupils.parquet").to_sql(
                "pupils", conn, schema="skole", index=False, chunksize=5000, method="multi"
            )
        engine.dispose()
        documented = re.search(r'database = "([^"]+)"', body)
        assert documented is not None
        cfg = _merged(folder, body.replace(documented.group(1), url))
        assert main(["validate", str(cfg)]) == 0, capsys.readouterr().err
        assert main(["run", str(cfg), "--out", str(folder / "db"), "-q"]) == 0, (
            capsys.readouterr().err
        )


_BUNDLED = sorted(p.name for p in nm.datasets.sample_dir().glob("*.toml"))


@pytest.mark.parametrize("name", _BUNDLED)
def test_every_bundled_config_validates_and_runs(folder, name, capsys):
    text = (folder / name).read_text(encoding="utf-8")
    config = tomllib.loads(text)
    if config.get("uncertainty", {}).get("method", "none") != "none":
        config["uncertainty"]["replicates"] = 50
        (folder / name).write_text(_dump(config), encoding="utf-8")
    assert main(["validate", name]) == 0, capsys.readouterr().err
    assert main(["run", name, "--out", f"out_{name}", "-q"]) == 0, capsys.readouterr().err
    assert (folder / f"out_{name}" / "report.html").is_file()
