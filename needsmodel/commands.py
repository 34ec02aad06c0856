"""The commands of the ``needsmodel`` program (``needsmodel.cli`` parses and dispatches).

Kept apart from the parser so that ``needsmodel --help`` and argument errors
answer without importing the statistics, Excel and plotting stacks.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._version import __version__
from .allocation import compare_scenarios
from .cli import EXIT_OK
from .config import load_config
from .console import summary_lines
from .datasets import sample_config_path
from .errors import InputError
from .export import write_csv
from .i18n import fmt_kr, say
from .outputs import read_manifest, staged_outputs
from .pipeline import run
from .report import write_report
from .reuse import reusable_uncertainty
from .runresult import RunResult
from .workbook import write_scenarios

__all__ = ["cmd_compare", "cmd_demo", "cmd_report", "cmd_run"]


def _print_summary(result: RunResult, files: list[Path] | None) -> None:

    for line in summary_lines(result, files):
        print(line)


def cmd_run(args: argparse.Namespace) -> int:

    result = run(args.config)
    if args.out is not None:
        result = _with_out(result, args.out)
    previous = read_manifest(result.config.output.dir)
    files = result.write(force=args.force)
    if not args.quiet:
        _print_summary(result, files)
        if previous is not None:
            print(f"Note: {previous.describe(result.inputs)}")
    return EXIT_OK


def _with_out(result: RunResult, out: Path) -> RunResult:
    return replace(result, config=result.config.with_output_dir(out))


def cmd_demo(args: argparse.Namespace) -> int:

    result = _with_out(run(sample_config_path()), args.out)
    files = result.write(force=args.force)
    if not args.quiet:
        print(f"Sample municipality: {sample_config_path()}")
        _print_summary(result, files)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:

    names = args.names or [Path(c).stem for c in args.configs]
    if len(names) != len(args.configs):
        raise InputError(f"--names gives {len(names)} names for {len(args.configs)} configs")
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must differ; got {', '.join(names)} (use --names)")
    results = {n: run(c) for n, c in zip(names, args.configs, strict=True)}
    table = compare_scenarios(results)
    inputs = {Path(p).resolve() for r in results.values() for p in r.inputs}
    inputs |= {Path(c).resolve() for c in args.configs}
    configs = ", ".join(Path(c).name for c in args.configs)
    record = _record({Path(p): h for r in results.values() for p, h in r.inputs.items()}, configs)
    first_cfg = next(iter(results.values())).config.output
    with staged_outputs(
        args.out,
        ("scenarios.csv", "scenarios.xlsx"),
        inputs,
        manifest=record,
        force=args.force,
        command="compare",
    ) as stage:
        digits = {c: 10 if str(c).endswith("_share") else 2 for c in table.columns[1:]}
        write_csv(table.round(digits), stage / "scenarios.csv", first_cfg.csv_format)
        write_scenarios(table, list(names), stage / "scenarios.xlsx", first_cfg.lang)
    if not args.quiet:
        lang = first_cfg.lang
        first, *others = names
        for other in others:
            col = f"{other}_vs_{first}"
            up = table.nlargest(1, col).iloc[0]
            down = table.nsmallest(1, col).iloc[0]
            moved = float(table[col].abs().sum()) / 2
            print(
                say(
                    "compare_line",
                    lang,
                    other=other,
                    first=first,
                    moved=fmt_kr(moved, lang),
                    up=up["unit"],
                    up_kr=("+" if up[col] > 0 else "") + fmt_kr(float(up[col]), lang),
                    down=down["unit"],
                    down_kr=fmt_kr(float(down[col]), lang),
                )
            )
        out = Path(args.out)
        print(say("compare_wrote", lang, csv=out / "scenarios.csv", xlsx=out / "scenarios.xlsx"))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:

    cfg = load_config(args.config)
    out = Path(args.out if args.out is not None else cfg.output.dir)
    reused = reusable_uncertainty(cfg, out)
    if reused is not None:  # the intervals of the run in this folder, same config and data
        quick = replace(cfg, uncertainty=replace(cfg.uncertainty, method="none"))
        result = replace(run(quick), config=cfg, uncertainty=reused.uncertainty)
        said = reused.message
    else:
        result = run(cfg)
        said = _recomputed(cfg)
    inputs = {Path(p).resolve() for p in result.inputs} | {Path(args.config).resolve()}
    record = _record(result.inputs, str(result.config.path or ""))
    record["config_sha256"] = hashlib.sha256(cfg.text.encode("utf-8")).hexdigest()
    with staged_outputs(
        out, ("report.html",), inputs, manifest=record, force=args.force, update=True
    ) as stage:
        write_report(result, stage / "report.html", lang=args.lang)
    if not args.quiet:
        print(f"Report: {out / 'report.html'} ({said})")
    return EXIT_OK


def _recomputed(cfg: Any) -> str:
    u = cfg.uncertainty
    if u.method == "none":
        return "recomputed the model fit and the allocation"
    return (
        f"recomputed the model fit, the allocation and {u.replicates:,} {u.method} draws: "
        "no run of this config and data in the folder to reuse"
    )


def _record(inputs: dict[str, str] | dict[Path, str], config: str) -> dict[str, object]:

    return {
        "version": __version__,
        "config": config,
        "inputs": {str(k): v for k, v in inputs.items()},
    }
