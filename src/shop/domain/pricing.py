"""Pricing domain services: the discount an order earns and what its shipping costs.

Thresholds and fees are in minor units of the order's currency (100_000 = 1000.00);
rates are basis points (100 bp = 1 %).
"""

from __future__ import annotations

import attrs

from shop.domain.errors import InvalidValue
from shop.domain.kernel import Tier
from shop.domain.money import Money

# (subtotal at least, rate): the first step the subtotal reaches applies.
VOLUME_DISCOUNT_STEPS: tuple[tuple[int, int], ...] = (
    (100_000, 1_000),
    (50_000, 500),
    (25_000, 200),
)
TIER_DISCOUNT_RATES: dict[Tier, int] = {
    Tier.BRONZE: 0,
    Tier.SILVER: 200,
    Tier.GOLD: 500,
    Tier.PLATINUM: 1_000,
}
MAX_DISCOUNT_RATE = 3_000
SHIPPING_BASE_FEE = 499
SHIPPING_FEE_PER_ITEM = 50
FREE_SHIPPING_FROM = 10_000


@attrs.frozen
class Pricing:
    """What an order's subtotal becomes: its discount, shipping cost and total."""

    discount: Money
    shipping_cost: Money
    total: Money


def volume_discount_rate(subtotal: Money) -> int:
    """Bigger orders earn a larger discount: 10 %, 5 % or 2 % from 1000, 500 or 250."""
    for threshold, rate in VOLUME_DISCOUNT_STEPS:
        if subtotal.amount >= threshold:
            return rate
    return 0


def tier_discount_rate(tier: Tier) -> int:
    """Loyal customers earn a discount: silver 2 %, gold 5 %, platinum 10 %."""
    try:
        return TIER_DISCOUNT_RATES[tier]
    except KeyError:
        raise InvalidValue("tier", f"{tier!r} is not a customer tier.") from None


def discount_rate(subtotal: Money, tier: Tier) -> int:
    """Volume and tier discounts add up, capped at 30 %."""
    return min(volume_discount_rate(subtotal) + tier_discount_rate(tier), MAX_DISCOUNT_RATE)


def discount(subtotal: Money, tier: Tier) -> Money:
    """The discount on ``subtotal``, rounded half-up to the minor unit."""
    return subtotal.share(discount_rate(subtotal, tier))


def shipping_cost(discounted_subtotal: Money, item_count: int) -> Money:
    """4.99 plus 0.50 per item, free when the discounted subtotal reaches 100.00."""
    currency = discounted_subtotal.currency
    if item_count <= 0 or discounted_subtotal.amount >= FREE_SHIPPING_FROM:
        return Money.zero(currency)
    return Money(SHIPPING_BASE_FEE + SHIPPING_FEE_PER_ITEM * item_count, currency)


def price(subtotal: Money, tier: Tier, item_count: int) -> Pricing:
    """Discount, shipping cost and total of an order: total = subtotal - discount + shipping."""
    off = discount(subtotal, tier)
    after_discount = subtotal - off
    shipping = shipping_cost(after_discount, item_count)
    return Pricing(discount=off, shipping_cost=shipping, total=after_discount + shipping)
