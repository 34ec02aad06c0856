"""``needsmodel compare``: its own folder, the configs' language and CSV format."""

from __future__ import annotations

import pandas as pd
from helpers import write_config

from needsmodel.cli import main


def _two(workdir, **output):
    a = write_config(workdir, output={"dir": "a", **output})
    a = a.rename(workdir / "a.toml")
    b = write_config(workdir, allocation={"max_loss_pct": 3}, output={"dir": "b", **output})
    b = b.rename(workdir / "b.toml")
    return a, b


def test_compare_into_a_runs_folder_is_refused_and_deletes_nothing(workdir, capsys):
    a, b = _two(workdir)
    assert main(["run", str(a), "--out", str(workdir / "run"), "-q"]) == 0
    before = sorted(p.name for p in (workdir / "run").rglob("*"))
    assert main(["compare", str(a), str(b), "--out", str(workdir / "run"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "holds the outputs of 'needsmodel run'" in err
    assert sorted(p.name for p in (workdir / "run").rglob("*")) == before


def test_compare_honours_danish_language_and_csv_format(workdir):
    a, b = _two(workdir, lang="da", csv_format="da")
    out = workdir / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "-q"]) == 0
    raw = (out / "scenarios.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Danish Excel
    table = pd.read_csv(out / "scenarios.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert table.filter(like="allocation").sum().tolist() == [130_000_000, 130_000_000]
    text = raw.decode("utf-8-sig")
    assert ";" in text.splitlines()[0]
    assert not any(c.count(".") == 1 and c.replace(".", "").lstrip("-").isdigit()
                   for line in text.splitlines()[1:] for c in line.split(";"))  # fmt: skip
    # a second compare into its own folder replaces its own files
    assert main(["compare", str(a), str(b), "--out", str(out), "-q"]) == 0
