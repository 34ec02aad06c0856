"""Shared fixtures: the sample municipality and a scratch copy of it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from hypothesis import settings

import needsmodel as nm

matplotlib.use("Agg")

# Property tests are derandomised by default so the suite gives the same verdict on
# every run; HYPOTHESIS_PROFILE=explore searches new random cases.
settings.register_profile("default", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SAMPLE_INDICATORS = ["parents_low_education", "parents_outside_labour_market", "single_parent"]


@pytest.fixture(scope="session")
def sample_units() -> pd.DataFrame:
    """The sample district table as shipped."""
    return nm.datasets.load_sample()


@pytest.fixture
def sample_spec() -> nm.NeedSpec:
    """The sample config's model."""
    return nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch folder holding a copy of the sample config and district table."""
    src = nm.datasets.sample_dir()
    for name in ("school_districts.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def write_config(folder: Path, units: str = "school_districts.csv", **overrides: dict) -> Path:
    """Write a config into ``folder`` based on the sample one, with tables overridden."""
    tables: dict[str, dict] = {
        "data": {"units": units, "id": "district"},
        "model": {
            "target": "special_ed_cost",
            "exposure": "pupils",
            "indicators": SAMPLE_INDICATORS,
            "method": "wls",
            "cov": "HC3",
        },
        "allocation": {"budget": 130_000_000, "current": "budget_current", "round_to": 1000},
        "output": {"dir": "out"},
    }
    for section, values in overrides.items():
        tables[section] = {**tables.get(section, {}), **values}
        tables[section] = {k: v for k, v in tables[section].items() if v is not None}
    lines = []
    for section, values in tables.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            lines.append(f"{k} = {_toml(v)}")
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)
