"""Money: integer minor units of one currency, never negative, half-up shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.domain.errors import CurrencyMismatch, InvalidValue
from shop.domain.money import Money, round_half_up, total

amounts = st.integers(min_value=0, max_value=10**12)
currencies = st.sampled_from(["EUR", "USD", "GBP"])


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


@given(amounts, amounts)
def test_addition_is_commutative(a: int, b: int) -> None:
    assert eur(a) + eur(b) == eur(b) + eur(a)


@given(amounts, amounts, amounts)
def test_addition_is_associative(a: int, b: int, c: int) -> None:
    assert (eur(a) + eur(b)) + eur(c) == eur(a) + (eur(b) + eur(c))


@given(amounts, currencies)
def test_zero_is_the_identity_of_addition(a: int, currency: str) -> None:
    assert Money.of(a, currency) + Money.zero(currency) == Money.of(a, currency)


@given(amounts, amounts)
def test_subtraction_undoes_addition(a: int, b: int) -> None:
    assert (eur(a) + eur(b)) - eur(b) == eur(a)


@given(amounts, st.integers(min_value=0, max_value=1000))
def test_multiplying_is_repeated_addition(a: int, n: int) -> None:
    assert eur(a) * n == total([eur(a)] * n, "EUR") == n * eur(a)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_money_never_goes_below_zero(a: int, extra: int) -> None:
    with pytest.raises(InvalidValue) as raised:
        eur(a) - eur(a + extra)
    assert raised.value.field == "amount"


def test_mixing_currencies_is_a_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatch):
        eur(1) + Money.of(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = eur(1) < Money.of(2, "USD")


@pytest.mark.parametrize("amount", [-1, 1.5, "10", True])
def test_an_amount_is_a_non_negative_whole_number(amount: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        Money(amount, "EUR")  # type: ignore[arg-type]
    assert raised.value.field == "amount"


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "", "E1R", 978])
def test_a_currency_is_three_capital_letters(currency: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        Money(1, currency)  # type: ignore[arg-type]
    assert raised.value.field == "currency"


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [(1000, 1000, 100), (5, 1000, 1), (4, 1000, 0), (15, 1000, 2), (25, 200, 1), (24, 200, 0)],
)
def test_a_share_is_rounded_half_up(amount: int, basis_points: int, expected: int) -> None:
    assert eur(amount).share(basis_points) == eur(expected)


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_matches_the_decimal_rule(numerator: int, denominator: int) -> None:
    from decimal import ROUND_HALF_UP, Decimal

    expected = (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    assert round_half_up(numerator, denominator) == int(expected)


def test_money_is_an_immutable_value() -> None:
    assert eur(100) == eur(100)
    assert hash(eur(100)) == hash(eur(100))
    assert str(eur(1234)) == "12.34 EUR"
