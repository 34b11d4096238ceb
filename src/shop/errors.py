"""Errors of the shop application outside the domain (the domain has its own tree).

ShopApplicationError
└── ConfigurationInvalid (also ValueError): a setting that cannot be used
"""


class ShopApplicationError(Exception):
    """Base of the application's non-domain errors."""


class ConfigurationInvalid(ShopApplicationError, ValueError):
    """A configuration value is malformed; the message names the variable."""
