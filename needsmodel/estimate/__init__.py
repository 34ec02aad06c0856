"""Need estimation: specifications, estimators and results."""

from .design import Design
from .fit import fit, fit_persons, fit_units, prepare_units
from .results import CVResult, NeedResults
from .spec import METHODS, NeedSpec

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
]
