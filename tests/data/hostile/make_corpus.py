"""Write the hostile-input corpus in this folder from the sample district table.

Run from the repository root: ``python tests/data/hostile/make_corpus.py``.
Every file imitates something finance teams really receive; the expected
outcome of each is in ``tests/test_hostile_input.py``.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample" / "school_districts.csv"

COLUMNS = [
    "district",
    "name",
    "pupils",
    "parents_low_education",
    "parents_outside_labour_market",
    "single_parent",
    "special_ed_cost",
    "budget_current",
]


def danish(v: float, decimals: int) -> str:
    """1234567.5 -> '1.234.567,5' (Danish grouping and decimal comma)."""
    text = f"{v:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def table() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype={"district": str})[COLUMNS]


def danish_rows(df: pd.DataFrame) -> list[list[str]]:
    rows = []
    for r in df.itertuples(index=False):
        rows.append(
            [
                r.district,
                r.name,
                danish(r.pupils, 0),
                danish(r.parents_low_education, 4),
                danish(r.parents_outside_labour_market, 4),
                danish(r.single_parent, 4),
                danish(r.special_ed_cost, 0),
                danish(r.budget_current, 0),
            ]
        )
    return rows


def write_text(name: str, lines: list[str], encoding: str, newline: str = "\n") -> None:
    (HERE / name).write_bytes(newline.join(lines).encode(encoding) + newline.encode(encoding))


def main() -> None:
    df = table()
    header = ";".join(COLUMNS)
    dk = [";".join(r) for r in danish_rows(df)]
    # 1. a Danish Excel export: cp1252, semicolons, decimal comma, thousands dots, CRLF
    write_text("danish_excel_export.csv", [header, *dk], "cp1252", "\r\n")
    # 2. UTF-8 with BOM, English conventions
    (HERE / "utf8_bom.csv").write_bytes(
        b"\xef\xbb\xbf" + df.to_csv(index=False, lineterminator="\n").encode()
    )
    # 3. Latin-1, semicolons
    write_text("latin1_semicolon.csv", [header, *dk], "latin-1")
    # 4. shares written as percentages, amounts with "kr."
    pct = []
    for r in df.itertuples(index=False):
        pct.append(
            ";".join(
                [
                    r.district,
                    r.name,
                    str(r.pupils),
                    danish(100 * r.parents_low_education, 2) + " %",
                    danish(100 * r.parents_outside_labour_market, 2) + " %",
                    danish(100 * r.single_parent, 2) + " %",
                    danish(r.special_ed_cost, 0) + " kr.",
                    danish(r.budget_current, 0) + " kr.",
                ]
            )
        )
    write_text("percent_and_kroner.csv", [header, *pct], "utf-8")
    # 5. ambiguous: every amount has exactly three digits after one dot
    amb = ["district;pupils;parents_low_education;special_ed_cost;budget_current"]
    for i, r in enumerate(df.itertuples(index=False)):
        amb.append(
            f"{r.district};{r.pupils};{i % 5};{i % 9 + 1}.{(37 * i) % 1000:03d};{i % 7 + 2}.500"
        )
    write_text("ambiguous_thousands.csv", amb, "utf-8")
    # 6. one column with decimal points, another with decimal commas
    mixed = ["district;pupils;parents_low_education;special_ed_cost"]
    for r in df.itertuples(index=False):
        mixed.append(
            f"{r.district};{r.pupils};{r.parents_low_education:.4f};{danish(r.special_ed_cost + 0.5, 1)}"
        )
    write_text("conflicting_decimals.csv", mixed, "utf-8")
    # 7. ids with surrounding spaces
    spaced = df.copy()
    spaced["district"] = "  " + spaced["district"] + " "
    spaced.to_csv(HERE / "trailing_spaces_ids.csv", index=False, lineterminator="\n")
    # 8. a totals row at the bottom
    total = [
        "I alt",
        "",
        danish(df["pupils"].sum(), 0),
        "",
        "",
        "",
        danish(df["special_ed_cost"].sum(), 0),
        danish(df["budget_current"].sum(), 0),
    ]
    write_text("totals_row.csv", [header, *dk, ";".join(total)], "utf-8")
    # 9. Excel with numbers stored as text (Danish)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Distrikter"
    ws.append(COLUMNS)
    for row in danish_rows(df):
        ws.append(row)
    wb.save(HERE / "numbers_as_text.xlsx")
    # 10. Excel: a cover sheet, then a sheet with a merged title row above the header
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Forside"
    cover["A1"] = "Budget 2027 - specialundervisning"
    ws = wb.create_sheet("Data")
    ws["A1"] = "Skoledistrikter, budgetår 2027"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.append(COLUMNS)
    for r in df.itertuples(index=False):
        ws.append(list(r))
    ws.append([])
    wb.save(HERE / "merged_header.xlsx")
    # 11-15. degenerate files
    (HERE / "empty.csv").write_bytes(b"")
    write_text("header_only.csv", [",".join(COLUMNS)], "utf-8")
    dup = df.copy()
    dup.insert(3, "pupils_copy", dup["pupils"])
    dup.to_csv(HERE / "duplicate_columns.csv", index=False, lineterminator="\n")
    text = (
        (HERE / "duplicate_columns.csv")
        .read_text(encoding="utf-8")
        .replace("pupils_copy", "pupils", 1)
    )
    (HERE / "duplicate_columns.csv").write_text(text, encoding="utf-8")
    missing = df.copy()
    missing["single_parent"] = ""
    missing.to_csv(HERE / "all_missing_column.csv", index=False, lineterminator="\n")
    df.to_csv(HERE / "windows_crlf.csv", index=False, lineterminator="\r\n")
    print(f"wrote the corpus to {HERE}")


if __name__ == "__main__":
    main()
