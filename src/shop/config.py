"""Settings, read from the environment (CONTRACT §1) and nowhere else."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

import attrs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from shop.auth_config import AuthSettings
from shop.errors import ConfigurationInvalid

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-:]{0,63}$")
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_DATABASE_URL = "sqlite:///var/shop.db"
DEFAULT_PREFIX = "shop"
DEFAULT_LOG_LEVEL = "INFO"


def _check_database_url(url: str) -> None:
    """Refuse a URL that is malformed or whose dialect or driver cannot be loaded here."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationInvalid(f"DATABASE_URL is not a database URL: {url!r}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "postgresql":
        hint = "use postgresql+psycopg://USER:PASSWORD@HOST/DATABASE (psycopg 3)"
    else:
        hint = "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise ConfigurationInvalid(
            f"DATABASE_URL names an unknown kind of database: {shown!r}; {hint}"
        ) from None
    except ImportError as error:
        raise ConfigurationInvalid(
            f"DATABASE_URL needs a database driver that is not installed ({error}): {shown!r}; "
            f"{hint}"
        ) from None
    if dialect.is_async:
        raise ConfigurationInvalid(
            f"DATABASE_URL names an asyncio driver, which the shop cannot use: {shown!r}; {hint}"
        )


@attrs.frozen(kw_only=True)
class Settings:
    """Everything configurable about a running shop."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    channel_prefix: str = DEFAULT_PREFIX
    log_level: str = DEFAULT_LOG_LEVEL
    auth: AuthSettings = attrs.field(factory=AuthSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings; ``ConfigurationInvalid`` names the bad variable."""
        env = os.environ if environ is None else environ
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        _check_database_url(database_url)
        redis_url = env.get("REDIS_URL") or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationInvalid(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}"
            )
        prefix = env.get("SHOP_CHANNEL_PREFIX") or DEFAULT_PREFIX
        if not _PREFIX.match(prefix):
            raise ConfigurationInvalid(
                f"SHOP_CHANNEL_PREFIX must be 1-64 letters, digits, '_', '-' or ':', got {prefix!r}"
            )
        level = (env.get("SHOP_LOG_LEVEL") or DEFAULT_LOG_LEVEL).upper()
        if level not in _LEVELS:
            raise ConfigurationInvalid(
                f"SHOP_LOG_LEVEL must be one of {', '.join(_LEVELS)}, got {level!r}"
            )
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            channel_prefix=prefix,
            log_level=level,
            auth=AuthSettings.from_env(env),
        )

    @property
    def log_level_number(self) -> int:
        """The log level as the logging module's number."""
        return int(getattr(logging, self.log_level))
