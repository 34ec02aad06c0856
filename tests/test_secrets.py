"""Database passwords are never printed: reprs, config text, messages, in any written form."""

from __future__ import annotations

import json
import shutil
import string
from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.config import parse_config
from needsmodel.redact import redact, redact_passwords, secrets_in

_PRINTABLE = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + string.punctuation + " "),
    min_size=6,
    max_size=24,
).filter(lambda s: s.strip() == s and len(set(s)) > 2)


def _toml(folder_url: str) -> str:
    return (
        '[data]\nunits = "u.csv"\nid = "district"\n'
        f"database = {json.dumps(folder_url)}\n"
        'persons_table = "registers.pupils"\nunit_key = "district"\n'
        '[model]\ntarget = "cost"\nindicators = ["x"]\nmethod = "ols"\n'
        "[allocation]\nbudget = 1000\n"
    )


@given(password=_PRINTABLE)
def test_no_password_in_any_repr_or_text(password):
    url = f"postgresql+psycopg://analyst:{password}@db.example/registers"
    cfg = parse_config(_toml(url))
    shown = [
        repr(cfg),
        repr(cfg.data),
        str(cfg.data),
        cfg.redacted_text,
        repr(cfg.data.person_source),
        cfg.data.person_source.where,  # type: ignore[union-attr]
        redact_passwords(f"database = {json.dumps(url)}"),
        redact(f"login failed: password {password!r} refused", [url]),
    ]
    for text in shown:
        assert password not in text, text
    assert secrets_in(url) == [password]


@given(password=_PRINTABLE.filter(lambda s: "'" not in s and "\\" not in s))
def test_libpq_keyword_strings_and_query_parameters(password):
    for address in (
        f"host=db user=a password='{password}' dbname=r",
        # a query parameter is URL-encoded by definition
        f"postgresql://a@db/r?sslmode=require&password={quote_plus(password)}",
    ):
        assert password in secrets_in(address)
        assert password not in redact_passwords(address)
        assert password not in redact(f"got {address!r}", [address])
        assert quote_plus(password) not in redact(f"got {address!r}", [address])


def test_a_libpq_string_as_database_is_refused_without_echoing_the_password(tmp_path, capsys):
    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    text = (tmp_path / "special_education_register.toml").read_text(encoding="utf-8")
    cfg = tmp_path / "db.toml"
    cfg.write_text(
        text.replace(
            'persons = "pupils.parquet"',
            'database = "host=db user=a password=\'s3cret pw\'"\npersons_table = "pupils"',
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "database" in err and "s3cret" not in err


def test_traceback_flag_after_the_command(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.toml"), "--traceback"]) == 2
    assert "config file not found" in capsys.readouterr().err
