"""Need estimation: specifications, estimators and results."""

from .fit import fit, prepare_units
from .results import CVResult, NeedResults
from .spec import NeedSpec

__all__ = ["CVResult", "NeedResults", "NeedSpec", "fit", "prepare_units"]
