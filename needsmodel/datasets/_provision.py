"""The type of special-education provision of each sample pupil, with known parameters.

The sample pupils get a column ``provision``: ``none``, ``special_class``,
``special_school`` or ``day_treatment``, drawn from a multinomial logit on the
pupil's family background (reference: ``none``; parents with a long higher
education, in the labour market, not a single parent). The draw uses its own
seed, so the other columns of the sample are unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PROVISION_COSTS", "PROVISION_TRUTH", "TYPES", "add_provision", "design_rows"]

TYPES = ("special_class", "special_school", "day_treatment")

#: True coefficients per provision type (log odds against ``none``).
PROVISION_TRUTH: dict[str, dict[str, float]] = {
    "special_class": {
        "Intercept": -4.1, "parents_education[basic]": 0.9,
        "parents_education[short_medium_higher]": 0.2, "parents_education[vocational]": 0.45,
        "parents_outside_labour_market": 0.5, "single_parent": 0.4,
    },
    "special_school": {
        "Intercept": -5.0, "parents_education[basic]": 1.1,
        "parents_education[short_medium_higher]": 0.25, "parents_education[vocational]": 0.5,
        "parents_outside_labour_market": 0.7, "single_parent": 0.3,
    },
    "day_treatment": {
        "Intercept": -6.0, "parents_education[basic]": 1.3,
        "parents_education[short_medium_higher]": 0.3, "parents_education[vocational]": 0.6,
        "parents_outside_labour_market": 0.9, "single_parent": 0.6,
    },
}  # fmt: skip

#: Yearly cost of a pupil in each provision (kr): the tariffs of the type-split model.
PROVISION_COSTS: dict[str, float] = {
    "special_class": 180_000.0,
    "special_school": 420_000.0,
    "day_treatment": 650_000.0,
}

_TERMS = tuple(PROVISION_TRUTH["special_class"])


def design_rows(pupils: pd.DataFrame) -> np.ndarray:
    """The design matrix of the generating model (columns in the order of the truth)."""
    edu = pupils["parents_education"].astype(str).to_numpy()
    return np.column_stack(
        [
            np.ones(len(pupils)),
            edu == "basic",
            edu == "short_medium_higher",
            edu == "vocational",
            pupils["parents_outside_labour_market"].to_numpy(dtype=float),
            pupils["single_parent"].to_numpy(dtype=float),
        ]
    ).astype(float)


def probabilities(pupils: pd.DataFrame) -> np.ndarray:
    """True P(none), P(special_class), P(special_school), P(day_treatment) per pupil."""
    x = design_rows(pupils)
    eta = np.column_stack([x @ np.array([PROVISION_TRUTH[t][k] for k in _TERMS]) for t in TYPES])
    expo = np.exp(eta)
    denom = 1.0 + expo.sum(axis=1, keepdims=True)
    return np.column_stack([1.0 / denom, expo / denom])


def add_provision(pupils: pd.DataFrame, seed: int = 20260107) -> pd.DataFrame:
    """``pupils`` with a ``provision`` column drawn from the true multinomial logit."""
    p = probabilities(pupils)
    rng = np.random.default_rng(seed)
    u = rng.random(len(pupils))
    choice = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    labels = np.array(("none", *TYPES))
    return pupils.assign(provision=labels[np.minimum(choice, len(labels) - 1)])
