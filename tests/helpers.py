"""Helpers shared by the tests (imported as ``from helpers import ...``; fixtures stay in conftest)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_INDICATORS", "write_config"]

SAMPLE_INDICATORS = ["parents_low_education", "parents_outside_labour_market", "single_parent"]


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
