"""One rule per kind of text field: which characters it allows, and saying so when refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.domain import text
from shop.domain.errors import InvalidValue
from shop.domain.money import ACTIVE_CURRENCIES, Money, check_currency

FREE_RULES = [text.NAME, text.ADDRESS_LINE, text.TRACKING_NUMBER, text.REASON]
ALL_RULES = [*FREE_RULES, text.REFERENCE, text.ID, text.SKU]
REFUSED_EVERYWHERE = [
    *["\x00", "\x07", "\x7f", "\x85", "\ud800", "\u2028", "\u2029"],
    *sorted(text.BIDI_CONTROLS),
]


@pytest.mark.parametrize(
    "blank", ["\u200b", " ", "\u200b\u200c\u200d", "\ufeff", "\u3164", "\u2800", "\u0301", "\u00a0"]
)
def test_text_of_only_invisible_characters_is_blank(blank: str):
    with pytest.raises(InvalidValue, match="at least one of them visible"):
        text.NAME.check("name", blank)


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE)
@pytest.mark.parametrize("rule", ALL_RULES)
def test_control_separator_and_bidi_characters_are_refused_by_every_rule(
    rule: text.TextRule, character: str
):
    with pytest.raises(InvalidValue):
        rule.check("field", f"AB{character}CD")


def test_a_right_to_left_override_is_refused_and_the_message_says_what_is_allowed():
    with pytest.raises(InvalidValue) as caught:
        text.NAME.check("name", "\u202eriahc der")
    assert caught.value.field == "name"
    assert caught.value.message == (
        "The name has 1 to 200 characters: letters, digits, punctuation, symbols and spaces, "
        "at least one of them visible; no control characters, line separators (U+2028, U+2029) "
        "or bidirectional controls."
    )


@pytest.mark.parametrize("reference", ["b?1", "b#1", "b/1", "b\u20281", " b1", "b1 ", ".", ".."])
def test_a_reference_is_part_of_a_url(reference: str):
    with pytest.raises(InvalidValue, match=r"except / \? and #"):
        text.REFERENCE.check("reference", reference)


@pytest.mark.parametrize(
    "value",
    [
        "Chaise \u00e0 bascule",
        "\u0645\u0642\u0639\u062f",
        "\U0001f468\u200d\U0001f469",
        "A",
        "x" * 200,
    ],
)
def test_real_names_in_any_script_are_fine(value: str):
    assert text.NAME.check("name", value) == value


def test_only_a_reason_may_break_lines():
    assert text.REASON.check("reason", "Changed my mind.\r\nSorry.\tBye") == (
        "Changed my mind.\r\nSorry.\tBye"
    )
    with pytest.raises(InvalidValue):
        text.NAME.check("name", "Red\nchair")


@given(st.text(max_size=40))
def test_whatever_a_rule_accepts_is_visible_text_without_refused_characters(value: str):
    for rule in ALL_RULES:
        try:
            rule.check("field", value)
        except InvalidValue:
            continue
        assert any(text.is_visible(c) for c in value)
        assert not set(value) & (set(REFUSED_EVERYWHERE) | text.BIDI_CONTROLS)
        assert all(c not in "\x00\x0b\x0c" for c in value)


@pytest.mark.parametrize("code", ["ZZZ", "ABC", "XTS", "XXX", "XAU", "HRK", "eur", "EURO", ""])
def test_only_active_iso_4217_currencies_are_prices(code: str):
    with pytest.raises(InvalidValue, match="active ISO 4217") as caught:
        check_currency(code)
    assert caught.value.field == "currency"


def test_the_active_currencies_are_three_capital_letters_and_include_the_usual_ones():
    assert {"EUR", "USD", "JPY", "GBP", "CHF", "XCG", "ZWG"} <= ACTIVE_CURRENCIES
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in ACTIVE_CURRENCIES)


def test_money_in_a_currency_withdrawn_since_still_exists():
    assert Money(100, "HRK").currency == "HRK"


@given(value=st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30))
def test_plain_ascii_is_judged_as_character_by_character(value: str):
    # Printable ASCII takes a shortcut; it must judge as the full check does.
    for rule in (text.NAME, text.ADDRESS_LINE, text.REASON, text.REFERENCE):
        if rule.trimmed and (value != value.strip() or value in (".", "..")):
            continue
        full = 1 <= len(value) <= rule.longest and rule._each_character_follows(value)
        try:
            rule.check("field", value)
            followed = True
        except InvalidValue:
            followed = False
        assert followed == full, (rule, value)
