"""Type-split special-education models: one probability per provision type × its cost.

The Danish special-education allocation models (the KORA/VIVE reports for
Kerteminde, Svendborg, Lolland, Viborg, København) estimate, on register
data, each pupil's probability of each *type* of segregated provision
(special class, special school, day treatment, ...) and multiply it by the
cost of that type. :func:`fit_type_split` does this with statsmodels'
multinomial logit (:class:`statsmodels.discrete.discrete_model.MNLogit`,
reference: no provision): a pupil's expected cost is ``Σ_type P(type) ×
cost(type)``, summed to the units. Its predictive ratios are shown per type;
:func:`compare_keys` shows who wins and loses by choosing it over a pooled
model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..casechecks import check_mapping, check_values
from ..display import DisplayMixin, Summary
from ..errors import DataError, InputError, format_ids
from .design import Design

__all__ = ["TypeSplitResults", "compare_keys", "fit_type_split"]


@dataclass(frozen=True, eq=False, repr=False)
class TypeSplitResults(DisplayMixin):
    """A fitted type-split model.

    Attributes
    ----------
    params, bse : DataFrame
        Coefficients and standard errors: terms × provision types (log odds
        against the base level).
    costs : Series
        Cost per provision type (kr).
    need : Series
        Expected cost per unit: Σ over its persons of Σ_type P(type) × cost.
    expected_cost : Series
        Expected cost per person.
    probabilities : DataFrame
        P(type) per person (base level first).
    ratios : DataFrame
        Predictive ratios per type: ``type, observed, predicted, ratio``
        (counts of pupils; 1 = the type's count is reproduced).
    result : object
        The statsmodels MNLogit result.
    """

    params: pd.DataFrame
    bse: pd.DataFrame
    costs: pd.Series
    need: pd.Series
    expected_cost: pd.Series
    probabilities: pd.DataFrame
    ratios: pd.DataFrame
    design: Design
    base: str
    result: object

    def summary(self) -> Summary:
        """Coefficients per type, the costs and the predictive ratios."""
        header = [
            ("Base level", self.base),
            ("Persons", f"{len(self.expected_cost):,}"),
            ("Units", f"{len(self.need):,}"),
        ]
        return Summary(
            "Type-split model (multinomial logit)",
            header,
            [("Coefficients", self.params), ("Standard errors", self.bse),
             ("Cost per type", self.costs.to_frame("cost")),
             ("Predictive ratios per type", self.ratios.set_index("type"))],
        )  # fmt: skip

    def _describe(self) -> str:
        return f"{len(self.costs)} provision types, {len(self.need)} units"


def fit_type_split(
    persons: pd.DataFrame,
    *,
    target: str,
    costs: Mapping[str, float],
    indicators: Sequence[str],
    unit_key: str,
    categorical: Sequence[str] = (),
    reference: Mapping[str, object] | None = None,
    base: str = "none",
    units: Sequence[str] | pd.Index | None = None,
) -> TypeSplitResults:
    """Fit P(type) by a multinomial logit and sum Σ P(type) × cost(type) to the units.

    Parameters
    ----------
    persons : DataFrame
        One row per person: the unit key, the indicators and ``target``, the
        provision type of each person (``base`` for none).
    costs : mapping
        Cost per provision type (kr a year); every type of ``target`` but the
        base level needs one.
    indicators, categorical, reference
        As for :class:`~needsmodel.NeedSpec`.
    unit_key : str
        The unit column.
    base : str
        The level meaning "no provision" (the reference of the logit).
    units : sequence, optional
        The units to report (default: those of the persons).
    """
    for c in (target, unit_key, *indicators):
        if c not in persons.columns:
            raise DataError(f"column '{c}' not found in the person table", column=c)
    check_mapping(costs, "fit_type_split(costs)", nonnegative=True)
    if persons[target].isna().any():
        raise DataError(
            f"column '{target}' has {int(persons[target].isna().sum())} missing provision "
            "type(s); every person needs one (the base level for none)",
            column=target,
        )
    y = persons[target].astype(str)
    levels = sorted(set(y))
    if base not in levels:
        raise DataError(f"the base level {base!r} does not occur in '{target}'", column=target)
    types = [lv for lv in levels if lv != base]
    missing = [t for t in types if t not in costs]
    if missing:
        raise InputError(f"no cost given for provision type(s) {format_ids(missing)}")
    extra = [t for t in costs if t not in types]
    if extra:
        raise InputError(f"cost given for type(s) {format_ids(extra)} that no person has")
    design = Design.learn(persons, indicators, categorical=categorical, reference=reference)
    x = design.frame(persons)
    order = [base, *types]
    codes = pd.Categorical(y, categories=order).codes
    from statsmodels.discrete.discrete_model import MNLogit

    res = MNLogit(codes, x).fit(method="newton", disp=False, maxiter=100)
    params = pd.DataFrame(np.asarray(res.params), index=design.terms, columns=types)
    bse = pd.DataFrame(np.asarray(res.bse), index=design.terms, columns=types)
    prob = pd.DataFrame(np.asarray(res.predict(x)), index=persons.index, columns=order)
    cost = pd.Series({t: float(costs[t]) for t in types}, name="cost")
    expected = (prob[types] * cost).sum(axis=1).rename("expected_cost")
    unit_of = persons[unit_key].astype(str)
    need = expected.groupby(unit_of).sum()
    if units is not None:
        idx = pd.Index([str(u) for u in units])
        stray = sorted(set(need.index) - set(idx))
        if stray:
            raise DataError(f"persons in unit(s) {format_ids(stray)} that are not listed")
        need = need.reindex(idx).fillna(0.0)
    need = need.rename("need")
    observed = pd.Series([(y == t).sum() for t in types], index=types, dtype=float)
    predicted = prob[types].sum()
    ratios = pd.DataFrame(
        {"type": types, "observed": observed.to_numpy(), "predicted": predicted.to_numpy()}
    )
    ratios["ratio"] = ratios["predicted"] / ratios["observed"]
    return TypeSplitResults(params, bse, cost, need, expected, prob, ratios, design, base, res)


def compare_keys(a: pd.Series, b: pd.Series, names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Shares of the same budget by two models' need, and who wins and loses by the choice.

    Returns
    -------
    DataFrame
        Per unit: ``share_<a>``, ``share_<b>`` and ``change_pct`` (the second
        model's share against the first, %), sorted by the change.
    """
    for name, need in zip(names, (a, b), strict=True):
        check_values(need, f"compare_keys({name})", nonnegative=True)
        if not need.sum() > 0:
            raise InputError(f"compare_keys({name}): the need sums to zero, so it has no shares")
    only = sorted(set(a.index.astype(str)) ^ set(b.index.astype(str)))
    if only:
        raise InputError(
            f"compare_keys: unit(s) {format_ids(only)} are in one model's need but not the "
            "other's; compare the same units"
        )
    idx = a.index
    sa = a / a.sum()
    sb = b.reindex(idx) / b.sum()
    out = pd.DataFrame({f"share_{names[0]}": sa, f"share_{names[1]}": sb})
    out["change_pct"] = 100.0 * (sb / sa - 1.0)
    return out.sort_values("change_pct", ascending=False)
