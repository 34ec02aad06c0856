"""``needsmodel validate``: check a config and its data, fit the model, write nothing.

Apart from :mod:`needsmodel.commands` so that checking imports neither the
report, Excel nor plotting stacks.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from .cli import EXIT_OK
from .config import load_config
from .pipeline import run, validate

__all__ = ["cmd_validate"]


def cmd_validate(args: argparse.Namespace) -> int:
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
