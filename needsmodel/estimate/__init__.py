"""Need estimation: specifications, estimators, results and comparisons."""

from .compare import Comparison, compare
from .design import Design
from .fit import fit, fit_persons, fit_units, prepare_units
from .regularized import RegularizedResults, fit_regularized
from .results import CVResult, NeedResults
from .spec import METHODS, NeedSpec
from .years import YearsResults, fit_years

__all__ = [
    "METHODS",
    "CVResult",
    "Comparison",
    "Design",
    "NeedResults",
    "NeedSpec",
    "RegularizedResults",
    "YearsResults",
    "compare",
    "fit",
    "fit_persons",
    "fit_regularized",
    "fit_units",
    "fit_years",
    "prepare_units",
]
