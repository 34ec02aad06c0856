"""Shared fixtures: the sample municipality and a scratch copy of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from helpers import SAMPLE_INDICATORS
from hypothesis import settings

import needsmodel as nm

matplotlib.use("Agg")

# The key that signs output manifests: one per test session, never the user's own
# (the command-line tests in fresh processes inherit it).
os.environ.setdefault(
    "NEEDSMODEL_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="needsmodel-key-")) / "outputs.key")
)

# Property tests are derandomised by default so the suite gives the same verdict on
# every run; HYPOTHESIS_PROFILE=explore searches new random cases.
settings.register_profile("default", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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
