"""Two policies or two configs on the same data, as one table."""

from __future__ import annotations

import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.errors import AllocationError


def test_two_policies_on_the_same_need():
    run = nm.run(nm.datasets.sample_config_path())
    units = run.units
    free = nm.allocate(
        run.results.need,
        130_000_000,
        exposure=units["pupils"],
        current=units["budget_current"],
        round_to=1000,
    )
    t = nm.compare_scenarios({"free": free, "capped": run})
    assert list(t.columns) == [
        "unit",
        "current",
        "free_share",
        "free_allocation",
        "capped_share",
        "capped_allocation",
        "capped_vs_free",
        "capped_vs_free_pct",
    ]
    assert t["capped_vs_free"].sum() == 0  # same budget: money only moves between units
    assert (t["capped_vs_free"] == t["capped_allocation"] - t["free_allocation"]).all()


def test_scenarios_must_cover_the_same_units():
    a = nm.allocate(pd.Series([1.0, 2.0], index=["a", "b"]), 100)
    b = nm.allocate(pd.Series([1.0, 2.0], index=["a", "c"]), 100)
    with pytest.raises(AllocationError, match="allocates other units"):
        nm.compare_scenarios({"a": a, "b": b})


def test_compare_command(tmp_path, capsys):
    src = nm.datasets.sample_dir()
    text = (
        (src / "school_districts.toml")
        .read_text(encoding="utf-8")
        .replace('units = "school_districts.csv"', f'units = "{src / "school_districts.csv"}"')
        .replace('dictionary = "dictionary.csv"', f'dictionary = "{src / "dictionary.csv"}"')
    )
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        text.replace("max_loss_pct = 5 ", "max_loss_pct = 2 "), encoding="utf-8"
    )
    assert (
        main(
            [
                "compare",
                str(tmp_path / "a.toml"),
                str(tmp_path / "b.toml"),
                "--names",
                "five",
                "two",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    t = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert "two_vs_five" in t.columns and t["two_vs_five"].sum() == 0
    assert "flyttes mellem enhederne" in capsys.readouterr().out  # the configs are Danish
