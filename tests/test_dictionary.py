"""The data dictionary: labels, unit checks and influenceable indicators."""

from __future__ import annotations

import re

import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.dictionary import read_dictionary
from needsmodel.errors import DataError, InfluenceableIndicatorWarning
from needsmodel.report import render_report


@pytest.fixture
def dictionary():
    return read_dictionary(nm.datasets.sample_dir() / "dictionary.csv")


def test_labels_in_both_languages(dictionary):
    assert dictionary.label("single_parent", "da") == "Enlig forsørger"
    assert dictionary.label("single_parent", "en") == "Single parent"
    assert (
        dictionary.label("parents_education[basic]", "en") == "Parents' highest education [basic]"
    )
    assert dictionary.label("not_there", "da") == "not_there"
    assert dictionary.unit("pupils") == "persons"
    assert dictionary.influenceable == ("special_ed_pupils",)


def test_report_uses_the_labels(workdir):
    run = nm.run(write_config(workdir, data={"dictionary": "dictionary.csv"}))
    assert "Enlig forsørger" in render_report(run, lang="da")
    assert "Single parent" in render_report(run, lang="en")


def test_influenceable_indicator_from_the_dictionary_warns(workdir, capsys):
    cfg = write_config(
        workdir,
        data={"dictionary": "dictionary.csv"},
        model={"indicators": ["parents_low_education", "special_ed_pupils"]},
    )
    with pytest.warns(
        InfluenceableIndicatorWarning, match="'special_ed_pupils' is marked as influenceable"
    ):
        nm.run(cfg)
    assert main(["run", str(cfg), "-q"]) == 0
    assert "needsmodel: warning: indicator 'special_ed_pupils'" in capsys.readouterr().err


def test_a_share_above_one_is_refused(workdir):
    text = (workdir / "school_districts.csv").read_text(encoding="utf-8").splitlines()
    head, first, rest = text[0], text[1].split(","), text[2:]
    first[3] = "38.42"  # parents_low_education written as a percentage
    (workdir / "school_districts.csv").write_text(
        "\n".join([head, ",".join(first), *rest]) + "\n", encoding="utf-8"
    )
    cfg = write_config(workdir, data={"dictionary": "dictionary.csv"})
    with pytest.raises(
        DataError,
        match=re.escape(
            "column 'parents_low_education' is a share in the data dictionary, so it must lie between 0 and 1; unit(s) 'D01' have 38.42 (percentages where shares were expected?)"
        ),
    ):
        nm.run(cfg)


def test_dictionary_errors(tmp_path):
    bad = tmp_path / "d.csv"
    bad.write_text("column,label_dk\nx,y\n", encoding="utf-8")
    with pytest.raises(
        DataError, match="unknown column 'label_dk' in the data dictionary; did you mean 'label_da'"
    ):
        read_dictionary(bad)
    bad.write_text("column,influenceable\nx,maybe\n", encoding="utf-8")
    with pytest.raises(
        DataError,
        match=re.escape(
            "row 2: influenceable must be yes/no (ja/nej, true/false, 1/0); got 'maybe'"
        ),
    ):
        read_dictionary(bad)
    bad.write_text("column\nx\nx\n", encoding="utf-8")
    with pytest.raises(DataError, match="column 'x' is listed twice"):
        read_dictionary(bad)
    bad.write_text("name,label_da\nx,y\n", encoding="utf-8")
    with pytest.raises(DataError, match="a data dictionary needs a 'column' column"):
        read_dictionary(bad)


def test_dictionary_is_an_input_with_a_hash(workdir):
    run = nm.run(write_config(workdir, data={"dictionary": "dictionary.csv"}))
    assert str(workdir / "dictionary.csv") in run.inputs
