"""needsmodel: estimate expenditure need and turn it into allocation keys.

The public API:

- :class:`NeedSpec`, :func:`fit`, :class:`NeedResults`: estimate need from
  indicators the units cannot influence (OLS, WLS, log-linear, GLMs, two-part
  and cell models; unit or person level);
- :func:`compare`, :func:`fit_regularized`, :func:`fit_years`: compare
  specifications, check for over-fitting, check stability across years;
- :func:`allocate`, :class:`Allocation`, :class:`AllocationPolicy`: need →
  need index → shares → kroner summing exactly to the budget, with pools and
  transition rules; :func:`criteria_weights`, :func:`key_uncertainty`,
  :func:`compare_scenarios`;
- :func:`load_config`, :func:`run`, :class:`RunResult`: the whole pipeline from
  one TOML file;
- :func:`read_table`, :func:`validate_units`: reading and checking unit tables;
- :mod:`needsmodel.diagnostics`, :mod:`needsmodel.plots`: diagnostics and figures;
- :mod:`needsmodel.demography`, :mod:`needsmodel.benchmark`,
  :mod:`needsmodel.funding`, :mod:`needsmodel.effect_tariffs`,
  :mod:`needsmodel.capacity`, :mod:`needsmodel.result_funding`: demographic
  models, benchmarking (expected vs actual, DEA), baseline and tariff funding,
  carry-over, effect tariffs with a risk-adjusted expected progression ("Care
  for You"), capacity budgets, result-based funding of teaching;
- :mod:`needsmodel.datasets`: the sample municipality and real data sets;
- :mod:`needsmodel.errors`: the exceptions and warnings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._deferred import paused_gc as _paused_gc
from ._version import __version__

if TYPE_CHECKING:  # every name loads with its module on first use (see __getattr__)
    from . import datasets, errors
    from .allocation import (
        Allocation,
        AllocationPolicy,
        CriteriaWeights,
        KeyUncertainty,
        allocate,
        compare_scenarios,
        criteria_weights,
        key_uncertainty,
        largest_remainder,
        need_index,
    )
    from .collapse import DatabaseTable
    from .config import Config, load_config, parse_config
    from .data import read_table, validate_units
    from .estimate import (
        CVResult,
        NeedResults,
        NeedSpec,
        RegularizedResults,
        YearsResults,
        fit_regularized,
        fit_type_split,
        fit_years,
        read_coefficients,
    )
    from .estimate.compare import Comparison, compare
    from .estimate.fit import fit
    from .pipeline import run, validate
    from .runresult import RunResult

__all__ = [
    "Allocation",
    "AllocationPolicy",
    "CVResult",
    "Comparison",
    "Config",
    "CriteriaWeights",
    "DatabaseTable",
    "KeyUncertainty",
    "NeedResults",
    "NeedSpec",
    "RegularizedResults",
    "RunResult",
    "YearsResults",
    "__version__",
    "allocate",
    "benchmark",
    "capacity",
    "compare",
    "compare_scenarios",
    "criteria_weights",
    "datasets",
    "demography",
    "diagnostics",
    "effect_tariffs",
    "errors",
    "fit",
    "fit_regularized",
    "fit_type_split",
    "fit_years",
    "funding",
    "key_uncertainty",
    "largest_remainder",
    "load_config",
    "need_index",
    "parse_config",
    "plots",
    "read_coefficients",
    "read_table",
    "reallocate",
    "result_funding",
    "run",
    "validate",
    "validate_units",
]

# Submodules and names load on first use, so that ``import needsmodel`` and
# ``needsmodel --help`` are quick, and ``nm.fit`` on a register file does not
# import the report and plotting stack.
_LAZY = (
    "benchmark",
    "capacity",
    "datasets",
    "demography",
    "diagnostics",
    "effect_tariffs",
    "errors",
    "funding",
    "plots",
    "register",
    "report",
    "result_funding",
)

_LAZY_NAMES = {
    **dict.fromkeys(
        (
            "Allocation",
            "AllocationPolicy",
            "CriteriaWeights",
            "KeyUncertainty",
            "allocate",
            "compare_scenarios",
            "criteria_weights",
            "key_uncertainty",
            "largest_remainder",
            "need_index",
        ),
        "allocation",
    ),
    "DatabaseTable": "collapse",
    **dict.fromkeys(("Config", "load_config", "parse_config"), "config"),
    **dict.fromkeys(("read_table", "validate_units"), "data"),
    **dict.fromkeys(
        (
            "CVResult",
            "Comparison",
            "NeedResults",
            "NeedSpec",
            "RegularizedResults",
            "YearsResults",
            "compare",
            "fit",
            "fit_regularized",
            "fit_type_split",
            "fit_years",
            "read_coefficients",
        ),
        "estimate",
    ),
    "RunResult": "runresult",
    "run": "pipeline",
    "reallocate": "pipeline",
    "validate": "pipeline",
}


def __getattr__(name: str) -> object:
    if name in _LAZY or name in _LAZY_NAMES:
        import importlib

        with _paused_gc():
            module = importlib.import_module(f".{_LAZY_NAMES.get(name, name)}", __name__)
        value = getattr(module, name) if name in _LAZY_NAMES else module
        globals()[name] = value
        return value
    import importlib
    import importlib.util

    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)  # any other submodule
    raise AttributeError(f"module 'needsmodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
