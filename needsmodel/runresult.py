"""The record of a run: what was configured, read, fitted and allocated.

Writers (the CSV/Excel export, the workbook, the report, the console, the
provenance block) take a :class:`RunResult`; they import this module, never the
pipeline that produces it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._deferred import paused_gc
from .allocation import Allocation, CriteriaWeights, KeyUncertainty
from .config import Config
from .console import summary_rows
from .dictionary import DataDictionary
from .display import DisplayMixin, Summary
from .estimate import NeedResults
from .estimate.retest import Retest
from .estimate.years import YearsResults
from .i18n import label
from .plausibility import Guard

__all__ = ["RunResult"]


@dataclass(frozen=True, eq=False, repr=False)
class RunResult(DisplayMixin):
    """Everything a run produced.

    Attributes
    ----------
    config : Config
        The configuration that was run.
    units : DataFrame
        The validated units table of the allocation, indexed by unit id.
    results : NeedResults
        The fitted need model (the pooled model when several years are used).
    allocation : Allocation
        The budget distributed over the units.
    inputs : dict
        SHA-256 of every input file, by path.
    years : YearsResults or None
        Pooled and per-year fits when the units table has several years.
    criteria : CriteriaWeights or None
        Criteria weights and unit amounts (additive models only).
    criteria_note : str
        Why there are no criteria weights, when there are none.
    uncertainty : KeyUncertainty or None
        Intervals for every unit's share and kroner (``[uncertainty]``).
    dictionary : DataDictionary or None
        The data dictionary (``[data] dictionary``).
    guards : tuple of Guard
        Plausibility findings (:func:`needsmodel.plausibility.check_model`),
        warnings first.
    retest : Retest or None
        Given coefficients applied to a year whose costs are known: how well
        the frozen model predicts them (:func:`needsmodel.estimate.retest.retest`).
    """

    config: Config
    units: pd.DataFrame
    results: NeedResults
    allocation: Allocation
    inputs: dict[str, str]
    years: YearsResults | None = None
    criteria: CriteriaWeights | None = None
    criteria_note: str = ""
    uncertainty: KeyUncertainty | None = None
    dictionary: DataDictionary | None = None
    guards: tuple[Guard, ...] = ()
    retest: Retest | None = None
    #: What the estimation handed to the allocation step (for :func:`needsmodel.reallocate`).
    state: object | None = field(default=None, repr=False, compare=False)

    def summary(self, lang: str | None = None) -> Summary:
        """What was run and allocated, in the config's language, with the keys per unit."""
        header = summary_rows(self, None, lang)
        name = self.config.path.name if self.config.path else "(config in memory)"
        return Summary(f"needsmodel run: {name}", header, self.allocation.summary().tables)

    def _describe(self) -> str:
        name = self.config.path.name if self.config.path else "config in memory"
        return (
            f"{name}: {self.results.method.upper()}, {self.allocation.budget:,} kr over "
            f"{len(self.allocation.table):,} units"
        )

    def display(self, column: str, lang: str | None = None) -> str:
        """A column's (or term's) label in the data dictionary, else its name.

        The model's intercept is named in the report language ("Konstantled").
        """
        lang = lang or self.config.output.lang
        if column == "Intercept":
            return label("Intercept", lang)
        if self.dictionary is None:
            return column
        return self.dictionary.label(column, lang)

    @property
    def labels(self) -> dict[str, str]:
        """Display name per unit id (``[data] label``), or empty."""
        col = self.config.data.label
        if not col or col not in self.units.columns:
            return {}
        return {str(k): str(v) for k, v in self.units[col].items()}

    def write(self, directory: Path | str | None = None, *, force: bool = False) -> list[Path]:
        """Write the keys, coefficients and workbook (see :mod:`needsmodel.export`).

        Parameters
        ----------
        directory : Path or str, optional
            Output folder (default: the config's ``[output] dir``).
        force : bool
            Overwrite files with output names that needsmodel did not write
            (see :func:`needsmodel.outputs.staged_outputs`).

        Returns
        -------
        list of Path
            The files written.
        """
        # the writers (Excel, the report, matplotlib) load only when something is written
        with paused_gc():
            export = importlib.import_module(".export", __package__)
        return export.write_outputs(
            self,
            Path(directory) if directory is not None else self.config.output.dir,
            force=force,
        )
