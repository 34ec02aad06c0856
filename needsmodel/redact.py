"""Secrets never printed: the passwords of database addresses, found by parsing, then hidden.

A database address can hold a password in three places: the user part of a
URL (``scheme://user:password@host``, where an unencoded password may contain
``/``, ``:``, ``@``, a space or quotes), a query parameter
(``?password=...``) and a libpq keyword string (``host=db password='x y'``).
:func:`secrets_in` parses an address into the passwords it holds;
:func:`redact` replaces every known password (also URL-encoded and as TOML
writes it) and every password-shaped part of any address in a text by
``***``. Reprs, messages, reports and workbooks go through :func:`redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus

__all__ = ["MASK", "MIN_SECRET", "redact", "redact_passwords", "secrets_in"]

MASK = "***"

#: Known passwords at least this long are hidden wherever they occur; a shorter one only where
#: an address holds it (hiding every "ab" of a report would hide nothing and garble the rest).
MIN_SECRET = 4

_KEYS = ("password", "pwd", "passwd")
# libpq: key = value, the value bare or single-quoted with backslash escapes
_KEYWORD = re.compile(
    r"(?P<key>\b(?:password|pwd|passwd)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|[^\s&;\"']*)",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def _userinfo_password(line: str, start: int) -> tuple[int, int] | None:
    """Span of the password in the URL whose ``://`` ends at ``start`` (None: no password).

    The user part runs to the last ``@`` of the line (a host has none), so a
    password with ``/``, spaces, quotes or ``@`` is found whole; the password
    starts after the first ``:`` of the user part.
    """
    at = line.rfind("@", start)
    if at < 0:
        return None
    colon = line.find(":", start, at)
    if colon < 0:
        return None
    return colon + 1, at


def _spans(line: str) -> list[tuple[int, int, bool]]:
    """Where ``line`` holds passwords: ``(start, end, quoted)`` of each URL user-part password
    and each ``password=`` / ``pwd=`` value (query parameter or libpq keyword; ``quoted`` for a
    single-quoted libpq value)."""
    spans: list[tuple[int, int, bool]] = []
    for m in _SCHEME.finditer(line):
        span = _userinfo_password(line, m.end())
        if span is not None and span[1] > span[0]:
            spans.append((*span, False))
    for m in _KEYWORD.finditer(line):
        if m.end("value") > m.start("value"):
            spans.append((m.start("value"), m.end("value"), m.group("value").startswith("'")))
    return spans


def secrets_in(address: str) -> list[str]:
    """The passwords a database address holds (URL user part, query, libpq keywords).

    Examples
    --------
    >>> secrets_in("postgresql://analyst:pa/ss w'rd@db/registers")
    ["pa/ss w'rd"]
    >>> secrets_in("host=db user=a password='x y\\\\'z'")
    ["x y'z"]
    """
    found: list[str] = []
    for a, b, quoted in _spans(address):
        value = address[a:b]
        if quoted:  # a libpq value in single quotes, with backslash escapes
            value = re.sub(r"\\(.)", r"\1", value[1:-1] if value.endswith("'") else value[1:])
        found.append(value)
    for m in _SCHEME.finditer(address):  # query parameters, URL-decoded
        query = address[m.end() :].partition("?")[2]
        found += [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() in _KEYS]
    return [s for s in dict.fromkeys(found) if s]


def _forms(secret: str) -> list[str]:
    """The ways a password may be written: as is, URL-encoded, escaped in TOML or a repr."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        secret.replace("\\", "\\\\").replace('"', '\\"'),
        secret.replace("\\", "\\\\").replace("'", "\\'"),
        repr(secret)[1:-1],
    }
    return sorted((f for f in forms if f), key=len, reverse=True)


def redact_passwords(text: str) -> str:
    """``text`` with every password-shaped part of a database address replaced by ``***``.

    Each line is parsed on its own: the user part of a URL up to the line's
    last ``@``, ``password=``/``pwd=`` query parameters and libpq keywords.

    Examples
    --------
    >>> redact_passwords('database = "postgresql://analyst:s3cret@db/registers"')
    'database = "postgresql://analyst:***@db/registers"'
    >>> redact_passwords("postgresql://analyst@db/registers?sslmode=require&password=s3cret")
    'postgresql://analyst@db/registers?sslmode=require&password=***'
    >>> redact_passwords("host=db password='a b'")
    'host=db password=***'
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for a, b, _ in sorted(_spans(line), reverse=True):
            if line[a:b] != MASK:
                line = line[:a] + MASK + line[b:]
        lines[i] = line
    return "\n".join(lines)


def redact(text: str, addresses: Iterable[str | None] = ()) -> str:
    """``text`` with the passwords of ``addresses`` (in any written form) and of any address in it
    replaced by ``***``.

    Examples
    --------
    >>> redact("login failed for 'x y/z'", ["postgresql://a:x y/z@db/r"])
    "login failed for '***'"
    """
    secrets = [s for a in addresses if a for s in secrets_in(a) if len(s) >= MIN_SECRET]
    for secret in secrets:
        for form in _forms(secret):
            text = text.replace(form, MASK)
    return redact_passwords(text)
