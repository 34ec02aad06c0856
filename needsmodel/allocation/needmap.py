"""Which fitted rows make up each unit's need, so need can be recomputed for new coefficients.

A unit's need is the sum, over the rows that belong to it, of the model's
expected value times a scale: one row per unit with the exposure as scale for a
per-capita unit model, the unit's persons with scale 1 for a person-level model,
the allocation year's rows of a pooled several-year model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import DataError
from ..estimate.results import NeedResults
from ..estimate.years import split_unit_year

__all__ = ["NeedMap"]


@dataclass(frozen=True, eq=False)
class NeedMap:
    """Rows, scales and unit membership behind a need vector.

    Attributes
    ----------
    rows : DataFrame
        The rows whose predictions are summed (indicator columns).
    scale : ndarray
        Multiplier per row (exposure for per-capita unit models, else 1).
    units : Index
        The units, in allocation order.
    member : sparse matrix
        ``units × rows`` 0/1 matrix: which rows belong to which unit.
    """

    rows: pd.DataFrame
    scale: np.ndarray
    units: pd.Index
    member: sparse.csr_matrix

    @classmethod
    def from_results(cls, results: NeedResults, year: str | None = None) -> NeedMap:
        """The need map of fitted results (``year``: allocation year of a pooled fit)."""
        spec = results.spec
        data = results.data
        if results.extras.get("collapsed"):
            # rows are the cells; a unit's need is Σ over its cells of (weighted) persons × mean.
            # The unit × cell table stayed where it was built; it is collapsed again here.
            cells = results.extras["cells"]
            units = results.need.index
            unit_ids, table = results.extras["unit_cells"]()
            if int(table["cell"].max()) + 1 != len(cells) or not unit_ids.equals(
                results.extras["units"]
            ):
                raise DataError(
                    "the person data changed since the model was fitted: its cells or units "
                    "differ; fit again"
                )
            codes = units.get_indexer(unit_ids)[table["unit"].to_numpy()]
            member = sparse.csr_matrix(
                (table["sw"].to_numpy(float), (codes, table["cell"].to_numpy())),
                shape=(len(units), len(cells)),
            )
            return cls(rows=cells, scale=np.ones(len(cells)), units=units, member=member)
        if spec.is_person_level:
            labels = data[str(spec.unit_key)].to_numpy()
            units = results.need.index
            scale = np.ones(len(data))
        else:
            labels = np.asarray(data.index.astype(str))
            scale = (
                data[spec.exposure].to_numpy(dtype=float)
                if spec.per_capita and spec.exposure
                else np.ones(len(data))
            )
            if year is not None:
                unit_year = split_unit_year(labels)
                keep = np.asarray(unit_year.get_level_values("year") == str(year))
                data, scale = data.loc[keep], scale[keep]
                labels = np.asarray(unit_year.get_level_values("unit")[keep])
            units = pd.Index(list(dict.fromkeys(labels)), name=results.need.index.name)
        codes = units.get_indexer(pd.Index(labels))
        if np.any(codes < 0):  # pragma: no cover - rows always belong to a unit
            raise ValueError("a row belongs to no unit")
        member = sparse.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(units), len(codes))
        )
        return cls(rows=data, scale=scale, units=units, member=member)

    @property
    def one_row_per_unit(self) -> bool:
        """Whether row ``i`` is unit ``i`` (unit-level models): no summing needed."""
        m = self.member
        return bool(
            m.shape[0] == m.shape[1]
            and m.nnz == m.shape[0]
            and np.array_equal(m.indices, np.arange(m.shape[0]))
        )

    def need(self, row_means: np.ndarray) -> np.ndarray:
        """Need per unit from expected values per row (rows, or rows × draws)."""
        scaled = row_means * (self.scale if row_means.ndim == 1 else self.scale[:, None])
        if self.one_row_per_unit:
            return np.asarray(scaled)
        return np.asarray(self.member @ scaled)
