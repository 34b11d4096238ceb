"""Money in integer minor units of one currency, and quantities of items.

Amounts are never floats: 12.50 EUR is ``Money(1250, "EUR")``. Rates are basis points
(1 % = 100 bp) and shares of money are rounded half-up to the minor unit with integers only.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from seedwork.core.schema import METADATA_KEY
from shop.domain.errors import CurrencyMismatch, InvalidValue

_CURRENCY = re.compile(r"[A-Z]{3}")
BASIS_POINTS_PER_UNIT = 10_000

#: The active ISO 4217 currency codes a price may be set in: ISO 4217 list one as shipped by
#: Debian's iso-codes 4.15 (/usr/share/iso-codes/json/iso_4217.json, 2023), brought up to the
#: amendments published to 2026: HRK withdrawn (Croatia, euro 2023-01-01), ZWL replaced by ZWG
#: (2024), ANG replaced by XCG (2025), BGN withdrawn (Bulgaria, euro 2026-01-01). Left out are
#: the codes that are no currency or have no minor unit, so a price in minor units means nothing:
#: XTS (testing), XXX (no currency), the precious metals XAG, XAU, XPD, XPT, the bond-market
#: units XBA, XBB, XBC, XBD, and XDR, XSU, XUA. Review when ISO publishes an amendment.
ACTIVE_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
    PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a block of codes reads best
)


def _amount_is_a_non_negative_integer(_: Any, __: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("amount", "A money amount must be a whole number of minor units.")
    if value < 0:
        raise InvalidValue("amount", f"A money amount cannot be negative (got {value}).")


def _currency_is_three_capital_letters(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidValue("currency", f"A currency is three capital letters, not {value!r}.")


def check_currency(code: object) -> str:
    """``code`` when it is an active ISO 4217 currency (``ACTIVE_CURRENCIES``), else invalid.

    Checked where a price is set, not on every ``Money``: amounts stored in a currency withdrawn
    since still load.
    """
    if not isinstance(code, str) or code not in ACTIVE_CURRENCIES:
        raise InvalidValue(
            "currency",
            f"A currency is an active ISO 4217 code of three capital letters (EUR, USD, JPY …), "
            f"not {code!r}.",
        )
    return code


@attrs.frozen
class Money:
    """An amount of one currency in minor units (cents); never negative."""

    amount: int = attrs.field(
        validator=_amount_is_a_non_negative_integer, metadata={METADATA_KEY: {"minimum": 0}}
    )
    currency: str = attrs.field(
        validator=_currency_is_three_capital_letters,
        metadata={METADATA_KEY: {"pattern": "^[A-Z]{3}$"}},
    )

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
