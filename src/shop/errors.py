"""Errors of the shop application outside the domain (the domain has its own tree).

ShopApplicationError
├── ConfigurationInvalid (also ValueError): a setting that cannot be used
└── StartupFailed: a process could not start (its port is taken, its embedded Redis failed)
"""


class ShopApplicationError(Exception):
    """Base of the application's non-domain errors."""


class ConfigurationInvalid(ShopApplicationError, ValueError):
    """A configuration value is malformed; the message names the variable."""


class StartupFailed(ShopApplicationError):
    """A process could not start; the message says what is in the way."""
