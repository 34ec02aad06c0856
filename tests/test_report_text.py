"""The demo report speaks the data's own words, in Danish and English."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.report import render_report


def _visible(html: str) -> str:
    """The text a reader sees, without the config listing, images and styles."""
    text = re.sub(r"<pre>.*?</pre>", " ", html, flags=re.S)
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<img[^>]*>", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def demo():
    return nm.run(nm.datasets.sample_config_path())


@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_raw_column_names_where_the_dictionary_has_labels(demo, lang):
    text = _visible(render_report(demo, lang=lang))
    dictionary = pd.read_csv(nm.datasets.sample_dir() / "dictionary.csv")
    raw = [c for c in dictionary["column"] if "_" in c]
    if lang == "da":
        raw += ["pupils", "Intercept", "leave-one-out"]
    leaks = [c for c in raw if re.search(rf"(?<![\w.]){re.escape(c)}(?![\w.])", text)]
    assert leaks == []


@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_paths_no_double_stops_no_plural_brackets(demo, lang):
    html = render_report(demo, lang=lang)
    text = _visible(html)
    assert "/work/" not in html and str(nm.datasets.sample_dir()) not in text
    assert "kr.." not in text
    assert "(er)" not in text and "(s)" not in text
    assert not re.search(r"\d\.\d+e[+-]\d", text)


def test_finance_style_tables(demo):
    html = render_report(demo, lang="da")
    assert "<tfoot>" in html and "I alt" in html  # total rows
    assert re.search(r"<td class=\"num\">\+\d", html)  # gains carry a sign
    assert 'class="flag"' in html  # flagged units are highlighted
    assert "@media print" in html and 'nav class="toc"' in html
    # amounts under a "(kr.)" header carry no "kr." in the cell
    body = html[html.index('<section id="allocation">') :]
    table = body[: body.index("</table>")]
    cells = re.findall(r'<td class="num">([^<]*)</td>', table)
    assert cells and not any(c.endswith("kr.") for c in cells)


def test_the_socioeconomic_share_is_stated(demo):
    text = _visible(render_report(demo, lang="en"))
    assert "is allocated by socioeconomic criteria" in text
    assert "75.7%" in text


def test_report_reuses_the_runs_draws_or_says_what_it_recomputes(tmp_path, capsys):
    import shutil

    from needsmodel.cli import main

    src = nm.datasets.sample_dir()
    for name in ("school_districts.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    cfg, out = tmp_path / "school_districts.toml", tmp_path / "out"
    assert main(["report", str(cfg), "--out", str(out)]) == 0
    assert "recomputed the model fit, the allocation and 2,000 bootstrap draws" in (
        capsys.readouterr().out
    )
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    assert main(["report", str(cfg), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "reused the 2,000 bootstrap draws of the run at" in said
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "2000 bootstrap" in html or "2.000 bootstrap" in html
    # a changed data file is not reused
    data = tmp_path / "school_districts.csv"
    data.write_text(data.read_text().replace("393,", "394,", 1))
    assert main(["report", str(cfg), "--out", str(out)]) == 0
    assert "recomputed" in capsys.readouterr().out.split("(")[1]


def test_no_minus_zero_and_no_negative_largest_gain(workdir, capsys):
    from helpers import write_config

    from needsmodel.cli import main
    from needsmodel.report import _Formats

    f = _Formats("da")
    assert [f.signed_kr(-0.3), f.signed_kr(0.2), f.signed_pct(-0.01)] == ["0", "0", "0,0 %"]
    assert f.signed_kr(-1500) == "-1.500" and f.signed_pct(2.5) == "+2,5 %"
    # every unit loses when the frame shrinks by a fifth: no "largest gain" is printed
    units = pd.read_csv(workdir / "school_districts.csv")
    units["budget_current"] = units["budget_current"] * 1.3
    units.to_csv(workdir / "u.csv", index=False)
    cfg = write_config(
        workdir, units="u.csv", allocation={"max_gain_pct": 0}, output={"lang": "en"}
    )
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Largest loss" in out and "Largest gain" not in out


def test_title_organisation_and_budget_year_head_the_report_and_the_printed_workbook(workdir):
    import openpyxl
    from helpers import write_config

    from needsmodel.cli import main

    cfg = write_config(
        workdir,
        allocation={"first_year": 2027, "budget_years": 2},
        output={
            "lang": "da",
            "title": "Specialundervisning: fordeling 2027",
            "organisation": "Ådal Kommune & Co",
        },
    )
    assert main(["run", str(cfg), "-q"]) == 0
    html = (workdir / "out" / "report.html").read_text(encoding="utf-8")
    assert "<h1>Specialundervisning: fordeling 2027</h1>" in html
    assert "Ådal Kommune &amp; Co · Budget 2027" in html
    book = openpyxl.load_workbook(workdir / "out" / "allocation_keys.xlsx")
    for ws in book.worksheets:
        assert ws.oddHeader.left.text == "Specialundervisning: fordeling 2027"
        assert ws.oddHeader.right.text == "Ådal Kommune && Co · Budget 2027"
        assert ws.oddFooter.right.text == "Side &P af &N"
        assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == "$1:$1"


@pytest.mark.parametrize(("lang", "symbol"), [("en", "£"), ("da", "EUR")])
def test_a_currency_other_than_kroner_labels_every_output(workdir, capsys, lang, symbol):
    import openpyxl
    from helpers import write_config

    from needsmodel.cli import main

    cfg = write_config(
        workdir, allocation={"max_loss_pct": 5}, output={"lang": lang, "currency": symbol}
    )
    assert main(["run", str(cfg)]) == 0
    console = capsys.readouterr().out
    html = (workdir / "out" / "report.html").read_text(encoding="utf-8")
    html = re.sub(r'src="data:image/png;base64,[^"]*"', "", html)  # figures, not text
    book = openpyxl.load_workbook(workdir / "out" / "allocation_keys.xlsx")
    cells = " ".join(
        str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
    )
    kroner = re.compile(r"(?<![A-Za-zæøåÆØÅ])kr\.?(?![A-Za-zæøåÆØÅ])")
    for where, text in (("console", console), ("report", html), ("workbook", cells)):
        assert symbol in text, where
        assert not kroner.search(text), (where, kroner.search(text))
