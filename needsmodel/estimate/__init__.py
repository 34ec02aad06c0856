"""Need estimation: specifications, estimators, results and comparisons."""

from .compare import Comparison, compare
from .design import Design
from .fit import fit, fit_persons, fit_units, prepare_units
from .regularized import RegularizedResults, fit_regularized
from .results import CVResult, NeedResults
from .spec import METHODS, NeedSpec
from .years import YearsResults, fit_years

__all__ = [
    "NeedSpec",
    "NeedResults",
    "CVResult",
    "Design",
    "METHODS",
    "fit",
    "fit_units",
    "fit_persons",
    "prepare_units",
    "compare",
    "Comparison",
    "fit_regularized",
    "RegularizedResults",
    "fit_years",
    "YearsResults",
]
