"""Need estimation: specifications, estimators, results and comparisons."""

from .compare import Comparison, compare
from .design import Design
from .fit import fit, fit_persons, fit_units, prepare_units
from .given import GivenCoefficients, apply_persons, apply_units, read_coefficients
from .regularized import RegularizedResults, fit_regularized
from .results import CVResult, NeedResults
from .spec import METHODS, NeedSpec
from .typesplit import TypeSplitResults, compare_keys, fit_type_split
from .years import YearsResults, fit_years

__all__ = [
    "METHODS",
    "CVResult",
    "Comparison",
    "Design",
    "GivenCoefficients",
    "NeedResults",
    "NeedSpec",
    "RegularizedResults",
    "TypeSplitResults",
    "YearsResults",
    "apply_persons",
    "apply_units",
    "compare",
    "compare_keys",
    "fit",
    "fit_persons",
    "fit_regularized",
    "fit_type_split",
    "fit_units",
    "fit_years",
    "prepare_units",
    "read_coefficients",
]
