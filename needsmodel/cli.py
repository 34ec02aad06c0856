"""Command line: ``needsmodel run CONFIG``, ``needsmodel demo``, ``needsmodel validate CONFIG``.

Exit codes: 0 success, 2 bad input or config (one readable line on stderr),
1 internal error.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .allocation import compare_scenarios
from .config import load_config
from .console import summary_lines
from .datasets import sample_config_path
from .errors import InputError, NeedsModelError, NeedsModelWarning
from .export import write_csv
from .outputs import RunInterrupted, read_manifest, staged_outputs
from .pipeline import run, validate
from .report import write_report
from .reuse import reusable_uncertainty
from .workbook import write_scenarios

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = ["main"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _fmt_kr(v: float) -> str:
    return f"{v:,.0f} kr"


def _print_summary(result: RunResult, files: list[Path] | None) -> None:

    for line in summary_lines(result, files):
        print(line)


def _cmd_run(args: argparse.Namespace) -> int:

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


def _cmd_demo(args: argparse.Namespace) -> int:

    result = _with_out(run(sample_config_path()), args.out)
    files = result.write(force=args.force)
    if not args.quiet:
        print(f"Sample municipality: {sample_config_path()}")
        _print_summary(result, files)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:

    names = args.names or [Path(c).stem for c in args.configs]
    if len(names) != len(args.configs):
        raise InputError(f"--names gives {len(names)} names for {len(args.configs)} configs")
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must differ; got {', '.join(names)} (use --names)")
    results = {n: run(c) for n, c in zip(names, args.configs, strict=True)}
    table = compare_scenarios(results)
    inputs = {Path(p).resolve() for r in results.values() for p in r.inputs}
    inputs |= {Path(c).resolve() for c in args.configs}
    record = _record({Path(p): h for r in results.values() for p, h in r.inputs.items()}, "")
    lang = next(iter(results.values())).config.output.lang
    with staged_outputs(
        args.out, ("scenarios.csv", "scenarios.xlsx"), inputs, manifest=record, force=args.force
    ) as stage:
        digits = {c: 10 if str(c).endswith("_share") else 2 for c in table.columns[1:]}
        write_csv(table.round(digits), stage / "scenarios.csv")
        write_scenarios(table, list(names), stage / "scenarios.xlsx", lang)
    if not args.quiet:
        first, *others = names
        for other in others:
            col = f"{other}_vs_{first}"
            up = table.nlargest(1, col).iloc[0]
            down = table.nsmallest(1, col).iloc[0]
            moved = float(table[col].abs().sum()) / 2
            print(
                f"{other} vs {first}: {_fmt_kr(moved)} moves between units; largest gain "
                f"{up['unit']} {up[col]:+,.0f} kr, largest loss {down['unit']} {down[col]:+,.0f} kr"
            )
        out = Path(args.out)
        print(f"Wrote {out / 'scenarios.csv'} and {out / 'scenarios.xlsx'}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:

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


def _cmd_validate(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    units = validate(cfg)
    # the model is fitted too (nothing is written), so that a weak model is said before a run
    quick = replace(cfg, uncertainty=replace(cfg.uncertainty, method="none"))
    result = run(quick)
    lang = cfg.output.lang
    for guard in result.guards:
        label = (
            ("Advarsel" if lang == "da" else "Warning")
            if guard.severity == "warning"
            else ("Kontrol" if lang == "da" else "Check")
        )
        print(f"{label}: {guard.text(lang)}")
    print(f"OK: {args.config} and {cfg.data.units} ({len(units)} units) are valid; nothing written")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:

    p = argparse.ArgumentParser(
        prog="needsmodel",
        description="Estimate expenditure need and turn it into allocation keys and budgets.",
    )
    p.add_argument("--version", action="version", version=f"needsmodel {__version__}")
    p.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser(
        "run",
        help="run a whole allocation from a TOML config",
        description="Read the data, fit the need model, allocate the budget and "
        "write the keys (CSV and Excel) into the config's output folder.",
    )
    r.add_argument("config", type=Path, help="the run configuration (.toml)")
    r.add_argument("--out", type=Path, default=None, help="output folder (overrides [output] dir)")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    r.add_argument(
        "--force",
        action="store_true",
        help="overwrite files with output names that needsmodel did not write",
    )
    r.set_defaults(func=_cmd_run)

    d = sub.add_parser(
        "demo",
        help="run the bundled sample municipality",
        description="Run the sample config of a fictional municipality's 24 "
        "school districts and write the outputs into reports/demo.",
    )
    d.add_argument(
        "--out",
        type=Path,
        default=Path("reports/demo"),
        help="output folder (default: reports/demo)",
    )
    d.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    d.add_argument(
        "--force",
        action="store_true",
        help="overwrite files with output names that needsmodel did not write",
    )
    d.set_defaults(func=_cmd_demo)

    rp = sub.add_parser(
        "report",
        help="run a config and write only its HTML report",
        description="Run the config and write report.html (self-contained: plots embedded, "
        "no external files) into the output folder.",
    )
    rp.add_argument("config", type=Path, help="the run configuration (.toml)")
    rp.add_argument("--out", type=Path, default=None, help="output folder (overrides [output] dir)")
    rp.add_argument(
        "--lang", choices=("da", "en"), default=None, help="language (overrides [output] lang)"
    )
    rp.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    rp.add_argument(
        "--force",
        action="store_true",
        help="overwrite files with output names that needsmodel did not write",
    )
    rp.set_defaults(func=_cmd_report)

    c = sub.add_parser(
        "compare",
        help="run several configs on the same units and compare their allocations",
        description="Run two or more configs (e.g. two policies or two models on the same "
        "data) and write one table per unit: scenarios.csv.",
    )
    c.add_argument(
        "configs",
        type=Path,
        nargs="+",
        help="run configurations (.toml); the first is the baseline",
    )
    c.add_argument("--names", nargs="+", default=None, help="scenario names (default: file names)")
    c.add_argument(
        "--out",
        type=Path,
        default=Path("reports/compare"),
        help="output folder (default: reports/compare)",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    c.add_argument(
        "--force",
        action="store_true",
        help="overwrite files with output names that needsmodel did not write",
    )
    c.set_defaults(func=_cmd_compare)

    v = sub.add_parser(
        "validate",
        help="check a config and its data; write nothing",
        description="Check the config file and the data it points to. Writes nothing.",
    )
    v.add_argument("config", type=Path, help="the run configuration (.toml)")
    v.set_defaults(func=_cmd_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needsmodel`` command. Returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_OK
    previous_term = _terminate_as_interrupt()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NeedsModelWarning)
            code: int = args.func(args)
        for w in caught:
            if issubclass(w.category, NeedsModelWarning):
                print(f"needsmodel: warning: {w.message}", file=sys.stderr)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        return code
    except InputError as e:
        if args.traceback:
            traceback.print_exc()
        print(f"needsmodel: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`
        return EXIT_OK
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        if getattr(e, "committed", False):
            said = "the new outputs had been completely written before stopping"
        else:
            said = "nothing was written; previous outputs left as they were"
        print(f"needsmodel: interrupted ({signal.Signals(signum).name}); {said}", file=sys.stderr)
        return 128 + int(signum)
    except (NeedsModelError, Exception) as e:
        if args.traceback:
            traceback.print_exc()
        print(
            f"needsmodel: internal error: {type(e).__name__}: {e} "
            "(run with --traceback for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def _terminate_as_interrupt() -> Any:
    """Turn SIGTERM into an exception (like Ctrl-C) so that a stopped run cleans up after itself."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        raise RunInterrupted(signum)

    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
