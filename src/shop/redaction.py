"""Secrets never shown: URLs with their password as ``***``, known secrets scrubbed from text.

``redact_url`` is how any URL is shown (the ready line, errors, ``db upgrade``);
``Redactor`` scrubs free text (log lines, error messages, dead letters) of the configured
passwords and of the password of any URL it contains (CONTRACT §1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

import attrs

MASK = "***"

#: Shorter passwords are not scrubbed from free text (they would mask ordinary words);
#: a URL's password is masked whatever its length.
SHORTEST_SCRUBBED = 4

# scheme://user:password@ — the password runs to the last "@" before a blank, which covers
# every parser's reading of it (SQLAlchemy stops at the first "@", urllib at the last "@" of
# the authority); in doubt, more is masked.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)\S*@")
_SECRET_NAMES = r"[?&](?:password|passwd|pwd|sslpassword|secret|token)="
# In a URL, a query secret runs to the next parameter; in free text, to a blank or a quote.
_URL_QUERY_SECRET = re.compile(rf"(?P<head>{_SECRET_NAMES})[^&#]*", re.IGNORECASE)
_QUERY_SECRET = re.compile(rf"(?P<head>{_SECRET_NAMES})[^&#\s'\"]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL as it may be shown: its password (in the authority or the query) as ``***``."""
    scheme, separator, rest = url.partition("://")
    if separator:
        userinfo, at, host = rest.rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.partition(":")[0]
            url = f"{scheme}://{user}:{MASK}@{host}"
    return _URL_QUERY_SECRET.sub(lambda m: m.group("head") + MASK, url)


def url_passwords(url: str | None) -> list[str]:
    """Every password a URL carries (as written and decoded), read leniently."""
    if not url:
        return []
    found: list[str] = []
    _, separator, rest = url.partition("://")
    if separator:
        userinfo, at, _ = rest.rpartition("@")
        if at and ":" in userinfo:
            found.append(userinfo.partition(":")[2])
    found.extend(m.group(0).partition("=")[2] for m in _URL_QUERY_SECRET.finditer(url))
    return found


@attrs.frozen
class Redactor:
    """Scrubs text of known secrets and of URL passwords."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        """A redactor of these secrets, in every spelling they may be shown in."""
        spellings: set[str] = set()
        for secret in secrets:
            for spelling in (secret, unquote(secret), quote(unquote(secret), safe="")):
                if len(spelling) >= SHORTEST_SCRUBBED:
                    spellings.add(spelling)
        # Longest first, so a secret containing another is masked whole.
        return cls(tuple(sorted(spellings, key=len, reverse=True)))

    @classmethod
    def of_urls(cls, *urls: str | None, secrets: Iterable[str] = ()) -> Redactor:
        """A redactor of the passwords of these URLs, and of other secrets."""
        return cls.of([*secrets, *(p for url in urls for p in url_passwords(url))])

    def __call__(self, text: str) -> str:
        """The text with every known secret and URL password masked."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if "://" in text:
            text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)
        if "=" in text:
            text = _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text)
        return text
