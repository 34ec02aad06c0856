"""Exceptions and warnings raised by needsmodel.

Every error the package raises on purpose derives from :class:`NeedsModelError`.
Errors caused by the user's input (a file, a column, a config key, an argument)
derive from :class:`InputError`; the command line turns those into exit code 2
with one readable line. Anything else is an internal error (exit code 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "AllocationError",
    "AmbiguousNumberError",
    "CollinearityError",
    "ConfigError",
    "DataError",
    "DuplicateColumnError",
    "DuplicateIdError",
    "EstimationError",
    "FileFormatError",
    "HiddenRowsWarning",
    "InfeasibleRuleError",
    "InfluenceableIndicatorWarning",
    "InputError",
    "MissingColumnError",
    "MissingFileError",
    "MissingValueError",
    "NeedsModelError",
    "NeedsModelWarning",
    "NegativeValueError",
    "NonNumericError",
    "OutputError",
    "TooFewUnitsError",
    "TotalsRowError",
    "ZeroCurrentBudgetWarning",
    "ZeroExposureError",
    "format_ids",
]


def format_ids(ids: Iterable[object], limit: int = 5) -> str:
    """Format the first ``limit`` ids for an error message.

    Examples
    --------
    >>> format_ids(["D01", "D02"])
    "'D01', 'D02'"
    >>> format_ids(range(8), limit=3)
    '0, 1, 2 and 5 more'
    """
    ids = list(ids)
    head = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in ids[:limit])
    rest = len(ids) - limit
    return f"{head} and {rest} more" if rest > 0 else head


class NeedsModelError(Exception):
    """Base class of every error raised by needsmodel."""


class InputError(NeedsModelError):
    """The user's input (file, column, config key or argument) is not usable.

    Attributes
    ----------
    field : str or None
        The argument or setting at fault (``"method"``, ``"max_loss_pct"``),
        when one is; the config reader names its key from it.
    """

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class ConfigError(InputError):
    """A run configuration is invalid.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : Path, optional
        The config file.
    key : str, optional
        Dotted key in the config (``"allocation.budget"``).
    line : int, optional
        Line in the config file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.key = key
        self.line = line
        where = ""
        if self.path is not None:
            where = str(self.path)
            if line is not None:
                where += f", line {line}"
            where += ": "
        if key is not None:
            where += f"[{key}] "
        super().__init__(where + message)


class DataError(InputError):
    """A data file or table is not usable.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : Path or str, optional
        The file the table was read from.
    column : str, optional
        The offending column.
    ids : sequence, optional
        The first offending unit ids (or row numbers).
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        column: str | None = None,
        ids: Sequence[object] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.column = column
        self.ids = list(ids) if ids is not None else []
        prefix = f"{self.path}: " if self.path is not None else ""
        super().__init__(prefix + message)


class MissingFileError(DataError):
    """A data file does not exist."""


class FileFormatError(DataError):
    """A file cannot be read in the expected format."""


class MissingColumnError(DataError):
    """A column named in the specification is not in the table."""


class DuplicateColumnError(DataError):
    """A column name appears more than once in the header."""


class AmbiguousNumberError(DataError):
    """Numbers that read differently in Danish and English conventions (``1.234``)."""


class TotalsRowError(DataError):
    """The table has a totals row ("I alt", "Total") among the units."""


class DuplicateIdError(DataError):
    """The id column has repeated values."""


class MissingValueError(DataError):
    """A used column has missing values."""


class NonNumericError(DataError):
    """A used column has values that are not numbers."""


class NegativeValueError(DataError):
    """A cost or exposure column has negative values."""


class ZeroExposureError(DataError):
    """The exposure column sums to zero (or a unit has zero exposure)."""


class TooFewUnitsError(DataError):
    """There are too few units for the number of parameters."""


class CollinearityError(DataError):
    """Indicators are perfectly collinear.

    Attributes
    ----------
    indicators : list of str
        The indicators involved in the exact linear dependence.
    """

    def __init__(self, message: str, *, indicators: Sequence[str], **kwargs: object) -> None:
        self.indicators = list(indicators)
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class EstimationError(InputError):
    """A model could not be estimated on these data (separation, a singular design, no
    convergence): caused by the data, so the command line exits 2 with one line."""


class AllocationError(InputError):
    """An allocation cannot be computed from the given need and policy."""


class InfeasibleRuleError(AllocationError):
    """A transition rule cannot be met within the budget.

    Attributes
    ----------
    rule : str
        Name of the rule that cannot be met (``"max_loss_pct"``, ...).
    """

    def __init__(self, message: str, *, rule: str) -> None:
        self.rule = rule
        super().__init__(message)


class OutputError(InputError):
    """Outputs cannot be written where asked (e.g. they would overwrite an input)."""


class NeedsModelWarning(UserWarning):
    """Base class of the warnings emitted by needsmodel."""


class InfluenceableIndicatorWarning(NeedsModelWarning):
    """An indicator the unit can influence is used as an allocation criterion."""


class HiddenRowsWarning(NeedsModelWarning):
    """An Excel sheet has hidden rows; they are read as rows like any other."""


class ZeroCurrentBudgetWarning(NeedsModelWarning):
    """A unit with a current budget of 0 under a cap: the cap holds it at 0 kr."""
