"""Command line: ``needsmodel run CONFIG``, ``needsmodel demo``, ``needsmodel validate CONFIG``.

Exit codes: 0 success, 2 bad input or config (one readable line on stderr),
1 internal error.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from ._deferred import paused_gc
from ._version import __version__
from .errors import InputError, NeedsModelError, NeedsModelWarning
from .outputs import RunInterrupted
from .redact import redact_passwords

__all__ = ["entry", "main"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:

    p = argparse.ArgumentParser(
        prog="needsmodel",
        description="Estimate expenditure need and turn it into allocation keys and budgets.",
    )
    p.add_argument("--version", action="version", version=f"needsmodel {__version__}")
    p.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    # --traceback also after the command (``needsmodel run x.toml --traceback``), as the hint says
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--traceback", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    r = sub.add_parser(
        "run",
        parents=[common],
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
    r.set_defaults(command_name="run")

    d = sub.add_parser(
        "demo",
        parents=[common],
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
    d.set_defaults(command_name="demo")

    rp = sub.add_parser(
        "report",
        parents=[common],
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
    rp.set_defaults(command_name="report")

    c = sub.add_parser(
        "compare",
        parents=[common],
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
    c.set_defaults(command_name="compare")

    v = sub.add_parser(
        "validate",
        parents=[common],
        help="check a config and its data; write nothing",
        description="Check the config file and the data it points to. Writes nothing.",
    )
    v.add_argument("config", type=Path, help="the run configuration (.toml)")
    v.set_defaults(command_name="validate")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needsmodel`` command. Returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "command_name", None) is None:
        parser.print_help()
        return EXIT_OK
    previous_term = _terminate_as_interrupt()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NeedsModelWarning)
            # the commands bring the statistics and output stacks: loaded only to run one
            module = ".validate_command" if args.command_name == "validate" else ".commands"
            with paused_gc():
                commands = importlib.import_module(module, __package__)
            code: int = getattr(commands, f"cmd_{args.command_name}")(args)
        for w in caught:
            if issubclass(w.category, NeedsModelWarning):
                print(f"needsmodel: warning: {redact_passwords(str(w.message))}", file=sys.stderr)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        return code
    except InputError as e:
        if args.traceback:
            traceback.print_exc()
        print(f"needsmodel: error: {redact_passwords(str(e))}", file=sys.stderr)
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
            f"needsmodel: internal error: {type(e).__name__}: {redact_passwords(str(e))} "
            "(run with --traceback for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def entry() -> NoReturn:
    """The ``needsmodel`` command: :func:`main`, then a quick exit with its code.

    When a command returns, every output is written, closed and moved into
    place. Tearing the interpreter down after that (clearing every module of
    pandas, SciPy, statsmodels and matplotlib, object by object) takes another
    0.25-0.35 s that nobody needs, so the command ends the process directly:
    the standard streams are flushed and the exit handlers run first (they
    remove temporary folders and flush logs), only the teardown is skipped.
    Calling :func:`main` from Python (tests, notebooks) never exits.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe or stream: nothing left to say
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def _terminate_as_interrupt() -> Any:
    """Turn SIGTERM into an exception (like Ctrl-C) so that a stopped run cleans up after itself."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        raise RunInterrupted(signum)

    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # pragma: no cover
    entry()
