"""Write statsmodels_glm_full.json from statsmodels' own published GLM test results.

Run from the repository root::

    python tests/reference/make_reference.py

The numbers come from ``statsmodels/genmod/tests/results/results_glm.py``
(classes ``Star98`` and ``Scotvote``), the values statsmodels' own test suite
checks against: Jeff Gill (2000), *Generalized Linear Models: A Unified
Approach*, Sage, chapters 3 and 6. Every coefficient and standard error is
written with the term names of the data sets, the constant as ``Intercept``.
"""

from __future__ import annotations

import json
from pathlib import Path

import statsmodels
import statsmodels.api as sm
from statsmodels.genmod.tests.results import results_glm

HERE = Path(__file__).resolve().parent


def _terms(names: list[str], values: tuple[float, ...]) -> dict[str, float]:
    """statsmodels lists the constant last; name it Intercept."""
    return {**{n: float(v) for n, v in zip(names, values[:-1], strict=True)},
            "Intercept": float(values[-1])}  # fmt: skip


def main() -> None:
    star = results_glm.Star98()
    star_names = list(sm.datasets.star98.load_pandas().exog.columns)
    scot = results_glm.Scotvote()
    scot_names = list(sm.datasets.scotland.load_pandas().exog.columns)
    out = {
        "source": (
            "statsmodels/genmod/tests/results/results_glm.py (classes Star98 and Scotvote), "
            f"read from statsmodels {statsmodels.__version__} by tests/reference/make_reference.py;"
            " Gill (2000), Generalized Linear Models: A Unified Approach, chapters 3 and 6"
        ),
        "star98": {
            "params": _terms(star_names, tuple(star.params)),
            "bse": _terms(star_names, tuple(star.bse)),
            "rtol_params": 1e-6,
            "rtol_bse": 1e-5,
        },
        "scotland": {
            "params": _terms(scot_names, tuple(scot.params)),
            "bse": _terms(scot_names, tuple(scot.bse)),
            "rtol_params": 1e-5,
            "rtol_bse": 1e-4,
        },
    }
    (HERE / "statsmodels_glm_full.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
