"""Pricing: volume and tier discounts capped at 30 %, shipping free from 100.00."""

from __future__ import annotations

import pytest

from shop.domain import pricing
from shop.domain.errors import InvalidValue
from shop.domain.money import Money


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


@pytest.mark.parametrize(
    ("subtotal", "tier", "rate"),
    [
        (24_999, "bronze", 0),
        (25_000, "bronze", 200),
        (49_999, "bronze", 200),
        (50_000, "bronze", 500),
        (99_999, "bronze", 500),
        (100_000, "bronze", 1_000),
        (1_000, "silver", 200),
        (1_000, "gold", 500),
        (1_000, "platinum", 1_000),
        (100_000, "platinum", 2_000),
        (30_000, "gold", 700),
    ],
)
def test_volume_and_tier_discounts_add_up(subtotal: int, tier: str, rate: int) -> None:
    assert pricing.discount_rate(eur(subtotal), tier) == rate


def test_the_discount_is_capped_at_thirty_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(pricing.TIER_DISCOUNT_RATES, "platinum", 2_500)
    assert pricing.discount_rate(eur(100_000), "platinum") == 3_000
    assert pricing.discount(eur(100_000), "platinum") == eur(30_000)


@pytest.mark.parametrize(
    ("subtotal", "tier", "discount"),
    [
        (25_025, "bronze", 501),  # 2 % of 250.25 = 5.005 -> 5.01
        (25_024, "bronze", 500),  # 5.0048 -> 5.00
        (1_050, "gold", 53),  # 5 % of 10.50 = 0.525 -> 0.53
        (1_010, "gold", 51),  # 0.505 -> 0.51
        (1_009, "gold", 50),  # 0.5045 -> 0.50
    ],
)
def test_the_discount_is_rounded_half_up(subtotal: int, tier: str, discount: int) -> None:
    assert pricing.discount(eur(subtotal), tier) == eur(discount)


def test_shipping_is_a_base_fee_plus_a_fee_per_item() -> None:
    assert pricing.shipping_cost(eur(1_000), 1) == eur(549)
    assert pricing.shipping_cost(eur(1_000), 4) == eur(699)


def test_shipping_is_free_from_one_hundred_after_discount() -> None:
    assert pricing.shipping_cost(eur(10_000), 3) == eur(0)
    assert pricing.shipping_cost(eur(9_999), 3) == eur(649)


def test_free_shipping_looks_at_the_subtotal_after_discount() -> None:
    priced = pricing.price(eur(10_200), "gold", 2)  # 102.00 - 5.10 = 96.90 < 100.00
    assert priced.discount == eur(510)
    assert priced.shipping_cost == eur(599)
    assert priced.total == eur(10_200 - 510 + 599)


def test_total_is_subtotal_minus_discount_plus_shipping() -> None:
    priced = pricing.price(eur(100_000), "platinum", 10)
    assert priced == pricing.Pricing(discount=eur(20_000), shipping_cost=eur(0), total=eur(80_000))


def test_prices_stay_in_the_subtotals_currency() -> None:
    priced = pricing.price(Money.of(2_000, "USD"), "bronze", 1)
    assert priced.total == Money.of(2_549, "USD")


def test_an_unknown_tier_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue) as raised:
        pricing.discount_rate(eur(1), "diamond")
    assert raised.value.field == "tier"
