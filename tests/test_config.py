"""Run configuration: parsing, defaults and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.errors import ConfigError


def test_sample_config_loads():
    cfg = nm.load_config(nm.datasets.sample_config_path())
    assert cfg.data.units == nm.datasets.sample_dir() / "school_districts.csv"
    assert cfg.model.indicators == (
        "parents_low_education",
        "parents_outside_labour_market",
        "single_parent",
    )
    assert cfg.model.method == "wls"
    assert cfg.allocation.budget == 130_000_000
    assert cfg.output.lang == "da"
    assert "[allocation]" in cfg.text


def test_relative_paths_follow_the_config_file(tmp_path):
    path = write_config(tmp_path)
    cfg = nm.load_config(path)
    assert cfg.data.units == tmp_path / "school_districts.csv"
    assert cfg.output.dir == tmp_path / "out"


def test_unknown_key_is_named_with_suggestion_and_line(tmp_path):
    path = write_config(tmp_path, model={"indicator": ["a"]})
    with pytest.raises(ConfigError) as e:
        nm.load_config(path)
    msg = str(e.value)
    assert msg.startswith(
        f"{path}, line 11: [model.indicator] unknown key 'indicator'; did you mean 'indicators'?"
    )
    assert "allowed keys: target, indicators, exposure" in msg
    assert e.value.key == "model.indicator" and e.value.line == 11


def test_unknown_table(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[data]\nunits="u.csv"\nid="x"\n[modle]\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=re.escape("unknown table [modle]; did you mean 'model'?")
    ):
        nm.load_config(path)


def test_value_outside_allowed_set_lists_them(tmp_path):
    path = write_config(tmp_path, model={"cov": "HC4"})
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "[model.cov] must be one of 'auto', 'nonrobust', 'HC0', 'HC1', 'HC2', 'HC3', 'cluster'; got 'HC4' (str); did you mean 'HC3'?"
        ),
    ):
        nm.load_config(path)


def test_wrong_type(tmp_path):
    path = write_config(tmp_path, allocation={"budget": "lots"})
    with pytest.raises(
        ConfigError,
        match=re.escape("[allocation.budget] expected a whole number, got 'lots' (str)"),
    ):
        nm.load_config(path)


def test_missing_required_key(tmp_path):
    path = write_config(tmp_path, model={"target": None})
    with pytest.raises(ConfigError, match=re.escape("[model] missing required key 'target'")):
        nm.load_config(path)


def test_toml_syntax_error_gives_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[data]\nunits = "u.csv"\nid = \n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{path}, line 3: not valid TOML")):
        nm.load_config(path)


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        nm.load_config(tmp_path / "none.toml")


def test_budget_not_a_multiple_of_round_to(tmp_path):
    path = write_config(tmp_path, allocation={"budget": 1_000_500, "round_to": 1000})
    with pytest.raises(ConfigError, match="budget 1000500 is not a multiple of round_to 1000"):
        nm.load_config(path)


def test_wls_without_exposure(tmp_path):
    path = write_config(tmp_path, model={"exposure": None, "method": "wls"})
    with pytest.raises(
        ConfigError, match=re.escape("[model.method] method='wls' weights by exposure")
    ):
        nm.load_config(path)


def test_cv_accepts_k(tmp_path):
    cfg = nm.load_config(write_config(tmp_path, model={"cv": 5}))
    assert cfg.model.cv == 5
    with pytest.raises(ConfigError, match="k-fold cross-validation needs k >= 2"):
        nm.load_config(write_config(tmp_path, model={"cv": 1}))


def test_duplicate_indicator(tmp_path):
    path = write_config(tmp_path, model={"indicators": ["single_parent", "single_parent"]})
    with pytest.raises(ConfigError, match="lists single_parent more than once"):
        nm.load_config(path)


def test_reading_options_from_the_config(tmp_path):
    path = write_config(
        tmp_path,
        data={
            "sep": ";",
            "decimal": ",",
            "encoding": "cp1252",
            "header_row": 2,
            "drop_totals": True,
        },
    )
    opts = nm.load_config(path).data.read_options()
    assert (
        opts.sep,
        opts.decimal,
        opts.thousands,
        opts.encoding,
        opts.header_row,
        opts.drop_totals,
    ) == (";", ",", None, "cp1252", 2, True)
    assert opts.convention.thousands == "."
    tab = nm.load_config(write_config(tmp_path, data={"sep": "tab"})).data.read_options()
    assert tab.sep == "\t"


def test_reading_option_errors(tmp_path):
    with pytest.raises(
        ConfigError, match=re.escape("[data.decimal] must be one of ',', '.'; got ';' (str)")
    ):
        nm.load_config(write_config(tmp_path, data={"decimal": ";"}))
    with pytest.raises(ConfigError, match=re.escape("[data.header_row] must be 1 or more")):
        nm.load_config(write_config(tmp_path, data={"header_row": 0}))
    with pytest.raises(
        ConfigError,
        match=re.escape("[data.thousands] thousands separator and decimal mark must differ"),
    ):
        nm.load_config(write_config(tmp_path, data={"decimal": ",", "thousands": ","}))
    with pytest.raises(ConfigError, match="unknown key 'drop_total'; did you mean 'drop_totals'"):
        nm.load_config(write_config(tmp_path, data={"drop_total": True}))


@pytest.mark.parametrize(
    ("model", "key", "message"),
    [
        ({"cov": "cluster"}, "model.cov", "cov='cluster' needs cluster="),
        ({"cluster": "district"}, "model.cluster", "cluster is set but cov is 'HC3'"),
        ({"categorical": ["pupils"]}, "model.categorical", "categorical lists 'pupils'"),
        (
            {"indicators": ["pupils", "single_parent"]},
            "model.indicators",
            "exposure 'pupils' is also listed as an indicator",
        ),
        (
            {"indicators": ["special_ed_cost"]},
            "model.indicators",
            "target 'special_ed_cost' is also listed as an indicator",
        ),
        ({"alpha": 1.5}, "model.alpha", "alpha must be between 0 and 1"),
    ],
)
def test_model_settings_are_checked_once_by_the_spec_and_name_their_key(
    workdir, model, key, message
):
    """The config does not repeat NeedSpec's checks; NeedSpec's error names the config key."""
    cfg = write_config(workdir, model=model)
    with pytest.raises(ConfigError, match=re.escape(f"[{key}] ") + ".*" + re.escape(message)):
        nm.load_config(cfg)
