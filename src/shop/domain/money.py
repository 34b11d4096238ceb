"""Money in integer minor units of one currency, and quantities of items.

Amounts are never floats: 12.50 EUR is ``Money(1250, "EUR")``. Rates are basis points
(1 % = 100 bp) and shares of money are rounded half-up to the minor unit with integers only.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from shop.domain.errors import CurrencyMismatch, InvalidValue

_CURRENCY = re.compile(r"[A-Z]{3}")
BASIS_POINTS_PER_UNIT = 10_000


def _amount_is_a_non_negative_integer(_: Any, __: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("amount", "A money amount must be a whole number of minor units.")
    if value < 0:
        raise InvalidValue("amount", f"A money amount cannot be negative (got {value}).")


def _currency_is_three_capital_letters(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidValue("currency", f"A currency is three capital letters, not {value!r}.")


@attrs.frozen
class Money:
    """An amount of one currency in minor units (cents); never negative."""

    amount: int = attrs.field(validator=_amount_is_a_non_negative_integer)
    currency: str = attrs.field(validator=_currency_is_three_capital_letters)

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        """Money of ``amount`` minor units of ``currency``."""
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money, in ``currency``."""
        return cls(0, currency)

    def __composite_values__(self) -> tuple[int, str]:
        """(amount, currency): how a mapper stores this value in columns."""
        return (self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        if other.amount > self.amount:
            raise InvalidValue("amount", f"Subtracting {other} from {self} would go below zero.")
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    def share(self, basis_points: int) -> Money:
        """This amount times ``basis_points`` / 10 000, rounded half-up to the minor unit."""
        if basis_points < 0:
            raise InvalidValue("rate", f"A rate cannot be negative (got {basis_points} bp).")
        return Money(
            round_half_up(self.amount * basis_points, BASIS_POINTS_PER_UNIT), self.currency
        )

    def __str__(self) -> str:
        return f"{self.amount // 100}.{self.amount % 100:02d} {self.currency}"


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` for non-negative integers, rounded half-up to an integer."""
    return (2 * numerator + denominator) // (2 * denominator)


def total(amounts: list[Money], currency: str) -> Money:
    """The sum of ``amounts``, zero in ``currency`` when empty; all must share that currency."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


def check_quantity(value: object, field: str = "quantity") -> int:
    """``value`` when it is a whole number of items greater than zero, else ``InvalidValue``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue(field, f"A quantity is a whole number greater than zero, not {value!r}.")
    return value
