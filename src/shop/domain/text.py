"""Text fields: one rule per kind of field, and which characters each allows.

Every text field is checked here (a rule is also an attrs validator, saying its JSON Schema),
whatever door it came through: not blank (at least one visible character: a zero-width space
alone is blank), never a NUL or other control character, never a lone surrogate, never a
bidirectional embedding, override or isolate control (U+202A to U+202E, U+2066 to U+2069, which
make text read differently from what it is), never a line or paragraph separator (U+2028,
U+2029). Free text (names, address lines, a tracking number) allows every other character; a
cancel reason may also break lines. Identifiers that are part of a URL (batch references, ids)
also refuse ``/ ? #`` and spaces around them; a sku has its own pattern.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import attrs

from shop.domain.errors import InvalidValue

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")
LINE_BREAKS = frozenset("\t\n\r")
URL_RESERVED = frozenset("/?#")

# Letters that render as nothing (Hangul fillers, the Braille blank): they do not make text visible.
# Space and the visible ASCII characters (letters, digits, punctuation, symbols).
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

_FREE = "letters, digits, punctuation, symbols and spaces, at least one of them visible"
_REFUSED = "no control characters, line separators (U+2028, U+2029) or bidirectional controls"
_IDENTIFIER = (
    "visible characters and spaces inside, except / ? and # (it is part of a URL), not '.' or '..'"
)


def is_visible(character: str) -> bool:
    """Whether a character shows on its own: a letter, digit, punctuation or symbol."""
    return unicodedata.category(character)[0] in "LNPS" and character not in _BLANK_LETTERS


def _refused(character: str, *, line_breaks: bool, reserved: frozenset[str]) -> bool:
    if character in LINE_BREAKS:
        return not line_breaks
    if character in BIDI_CONTROLS or character in LINE_SEPARATORS or character in reserved:
        return True
    return unicodedata.category(character) in ("Cc", "Cs")


@attrs.frozen
class TextRule:
    """What one kind of text field allows: 1 to ``longest`` characters, as ``allows`` says."""

    longest: int
    allows: str = f"{_FREE}; {_REFUSED}"
    line_breaks: bool = False
    reserved: frozenset[str] = frozenset()
    trimmed: bool = False
    pattern: re.Pattern[str] | None = None

    def check(self, field: str, value: object) -> str:
        """``value`` when it follows the rule, else ``InvalidValue`` saying what is allowed."""
        if not isinstance(value, str) or not self._follows(value):
            raise InvalidValue(field, self.describe(field))
        return value

    def __call__(self, _: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        """As an attrs validator: the field follows the rule (its schema says it too)."""
        self.check(attribute.name, value)

    def describe(self, field: str) -> str:
        """What the field allows, in a sentence."""
        label = field.replace("_", " ")
        if self.pattern is not None:
            return f"The {label} is {self.allows}."
        return f"The {label} has 1 to {self.longest} characters: {self.allows}."

    def json_schema(self) -> dict[str, Any]:
        """The rule as JSON Schema keywords: the length, the pattern, and in words the rest."""
        schema: dict[str, Any] = {"minLength": 1, "maxLength": self.longest}
        if self.pattern is not None:
            schema["pattern"] = f"^{self.pattern.pattern}$"
        schema["description"] = self.allows[:1].upper() + self.allows[1:] + "."
        return schema

    def _follows(self, value: str) -> bool:
        if not 1 <= len(value) <= self.longest:
            return False
        if self.pattern is not None:
            return self.pattern.fullmatch(value) is not None
        if self.trimmed and (value != value.strip() or value in (".", "..")):
            return False
        if _PRINTABLE_ASCII.fullmatch(value) is not None:
            # Spaces and visible characters only (most text): none refused but reserved ones.
            return self.reserved.isdisjoint(value) and not value.isspace()
        return self._each_character_follows(value)

    def _each_character_follows(self, value: str) -> bool:
        if any(_refused(c, line_breaks=self.line_breaks, reserved=self.reserved) for c in value):
            return False
        return any(is_visible(character) for character in value)


#: Names of products and customers, address lines, tracking numbers; text parsed further.
NAME = TextRule(200)
ADDRESS_LINE = TextRule(200)
TRACKING_NUMBER = TextRule(100)
EMAIL = TextRule(254)
TIER = TextRule(20)
COUNTRY = TextRule(2)

#: A cancel reason may run over several lines.
REASON = TextRule(
    500, f"{_FREE}, tabs and line breaks; no other control characters", line_breaks=True
)

#: Ids and batch references are part of URLs (``/batches/<reference>/quantity``).
REFERENCE = TextRule(100, f"{_IDENTIFIER}; {_REFUSED}", reserved=URL_RESERVED, trimmed=True)
ID = REFERENCE

#: A sku: capital letters, digits and dashes.
SKU = TextRule(
    32,
    "2 to 32 capital letters A-Z, digits 0-9 or dashes, not starting with a dash",
    pattern=re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}"),
)
