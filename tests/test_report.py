"""The HTML report: every section, both languages, embedded images, no external references."""

from __future__ import annotations

import base64
import re

import openpyxl
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.report import REPORT_SECTIONS, render_report


@pytest.fixture(scope="module")
def demo():
    return nm.run(nm.datasets.sample_config_path())


@pytest.fixture(scope="module", params=["da", "en"])
def html(request, demo):
    return request.param, render_report(demo, lang=request.param)


def test_every_section_is_there(html):
    lang, text = html
    for section in (*REPORT_SECTIONS, "winners", "criteria"):
        assert f'<section id="{section}">' in text, section
    assert f'<html lang="{lang}">' in text


def test_headings_are_in_the_language(html):
    lang, text = html
    if lang == "da":
        for h in (
            "Sammenfatning",
            "Koefficienter",
            "Diagnostik",
            "Vindere og tabere",
            "Overgangsordning",
            "Kriterievægte",
            "Usikkerhed på fordelingsnøglerne",
            "Reproducerbarhed",
        ):
            assert f"<h2>{h}</h2>" in text, h
        assert "Udgiftsbehov (kr.)" in text and "Behovsindeks" in text
    else:
        for h in (
            "Summary",
            "Coefficients",
            "Diagnostics",
            "Winners and losers",
            "Transition",
            "Criteria weights",
            "Uncertainty of the keys",
            "Reproducibility",
        ):
            assert f"<h2>{h}</h2>" in text, h


def test_number_formats(html):
    lang, text = html
    if lang == "da":
        assert "130.000.000 kr." in text
        assert re.search(r"\d+,\d %", text)  # 12,3 %
        assert "130,000,000" not in text
    else:
        assert "130,000,000 kr" in text and "130,000,000 kr." not in text
        assert re.search(r"\d+\.\d%", text)  # 12.3%
        assert "130.000.000" not in text


def test_images_are_embedded_pngs(html):
    _, text = html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    # coefficients, observed vs predicted, residuals, QQ, influence, need index, allocation,
    # winners and losers, criteria weights
    assert len(images) == 9
    for img in images:
        assert base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_external_reference(html):
    _, text = html
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "<link" not in text and "<script" not in text
    assert "@import" not in text and "url(" not in text


def test_diagnostic_findings_and_reproducibility(html, demo):
    lang, text = html
    assert (
        "Cooks afstand" if lang == "da" else "Cook&#39;s distance"
    ) in text  # escaped apostrophe
    digest = next(iter(demo.inputs.values()))
    assert digest in text
    assert nm.__version__ in text
    assert "max_loss_pct = 5" in text  # the config itself


def test_person_level_report_has_predictive_ratios():
    run = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    text = render_report(run, lang="en")
    assert "Person-level fit" in text and "Predictive ratio" in text
    assert "background" in text
    assert '<section id="criteria">' not in text  # multiplicative model: no criteria weights


def test_phase_in_path_is_shown(workdir):
    run = nm.run(write_config(workdir, allocation={"phase_in_years": 3}))
    text = render_report(run, lang="en")
    assert "Phase-in over 3 years." in text and "Year 3" in text


def test_run_writes_the_report_and_plots(workdir):
    result = nm.run(write_config(workdir, output={"lang": "da"}))
    files = result.write()
    assert workdir / "out" / "report.html" in files
    assert (workdir / "out" / "plots" / "influence.png").read_bytes()[:4] == b"\x89PNG"
    wb = openpyxl.load_workbook(workdir / "out" / "allocation_keys.xlsx")
    assert wb.sheetnames[:4] == ["budget pr. enhed", "nøgler", "koefficienter", "modeltilpasning"]
    header = [c.value for c in wb["nøgler"][1]][:6]
    assert header == [
        "Enhed",
        "Antal",
        "Udgiftsbehov (kr.)",
        "Behovsindeks",
        "Andel",
        "Tildeling (kr.)",
    ]
    # CSV column names stay English
    assert (
        (workdir / "out" / "allocation_keys.csv")
        .read_text(encoding="utf-8")
        .startswith("unit,exposure,need")
    )
