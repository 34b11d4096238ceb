"""Errors of the shop application outside the domain (the domain has its own tree).

ShopApplicationError
└── StartupFailed: a process could not start (its port is taken, its embedded Redis failed)

A setting that cannot be used is a ``seedwork.core.errors.ConfigurationError`` (also a
``ValueError``), the one error for a shop wired or configured wrongly; its message names the
variable.
"""


class ShopApplicationError(Exception):
    """Base of the application's non-domain errors."""


class StartupFailed(ShopApplicationError):
    """A process could not start; the message says what is in the way."""
