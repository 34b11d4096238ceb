"""Settings, read from the environment (CONTRACT §1) and nowhere else."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

import attrs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from seedwork.core.errors import ConfigurationError
from shop.auth_config import AuthSettings
from shop.redaction import Redactor, redact_url

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-:]{0,63}$")
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_DATABASE_URL = "sqlite:///var/shop.db"
DEFAULT_PREFIX = "shop"
DEFAULT_LOG_LEVEL = "INFO"
LOG_FORMATS = ("text", "json")
DEFAULT_STREAM_MAXLEN = 1_000_000


def _check_database_url(url: str) -> None:
    """Refuse a URL that is malformed or whose dialect or driver cannot be loaded here."""
    shown = redact_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigurationError(
            f"DATABASE_URL is not a database URL (is the port a number?): {shown!r}"
        ) from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigurationError(f"DATABASE_URL has a port outside 1-65535: {shown!r}")
    if parsed.get_backend_name() == "postgresql":
        hint = "use postgresql+psycopg://USER:PASSWORD@HOST/DATABASE (psycopg 3)"
    else:
        hint = "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise ConfigurationError(
            f"DATABASE_URL names an unknown kind of database: {shown!r}; {hint}"
        ) from None
    except ImportError as error:
        raise ConfigurationError(
            f"DATABASE_URL needs a database driver that is not installed ({error}): {shown!r}; "
            f"{hint}"
        ) from None
    if dialect.is_async:
        raise ConfigurationError(
            f"DATABASE_URL names an asyncio driver, which the shop cannot use: {shown!r}; {hint}"
        )


def _check_redis_url(url: str) -> None:
    """Refuse a Redis URL that the client would reject, or read differently than written."""
    from urllib.parse import urlsplit

    from redis.connection import parse_url

    shown = redact_url(url)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, got {shown!r}"
        )
    try:
        port = urlsplit(url).port
        options = parse_url(url)  # type: ignore[no-untyped-call]
    except ValueError as error:
        raise ConfigurationError(f"REDIS_URL {shown!r}: {error}") from None
    if port == 0:
        raise ConfigurationError(f"REDIS_URL has a port outside 1-65535: {shown!r}")
    database = urlsplit(url).path.strip("/") if not url.startswith("unix://") else ""
    if database and not database.isdigit():
        raise ConfigurationError(
            f"REDIS_URL must end with a database number (/0, /1, ...), got {shown!r}"
        )
    if int(options.get("db") or 0) < 0:
        raise ConfigurationError(f"REDIS_URL names a negative database: {shown!r}")


def _redacted(url: str | None) -> str:
    return repr(url if url is None else redact_url(url))


def _stream_maxlen(value: str | None) -> int:
    """``SHOP_STREAM_MAXLEN``: a whole number of entries, at least 1."""
    if not value:
        return DEFAULT_STREAM_MAXLEN
    if not re.fullmatch(r"[0-9]{1,12}", value.strip()) or int(value) < 1:
        raise ConfigurationError(
            f"SHOP_STREAM_MAXLEN must be a whole number of entries, at least 1, got {value!r}"
        )
    return int(value)


@attrs.frozen(kw_only=True)
class Settings:
    """Everything configurable about a running shop."""

    database_url: str = attrs.field(default=DEFAULT_DATABASE_URL, repr=_redacted)
    redis_url: str | None = attrs.field(default=None, repr=_redacted)
    channel_prefix: str = DEFAULT_PREFIX
    log_level: str = DEFAULT_LOG_LEVEL
    #: ``text`` or ``json``; None: text on a terminal, json otherwise.
    log_format: str | None = None
    stream_maxlen: int = DEFAULT_STREAM_MAXLEN
    auth: AuthSettings = attrs.field(factory=AuthSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings; ``ConfigurationError`` names the bad variable."""
        env = os.environ if environ is None else environ
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        _check_database_url(database_url)
        redis_url = env.get("REDIS_URL") or None
        if redis_url is not None:
            _check_redis_url(redis_url)
        prefix = env.get("SHOP_CHANNEL_PREFIX") or DEFAULT_PREFIX
        if not _PREFIX.match(prefix):
            raise ConfigurationError(
                f"SHOP_CHANNEL_PREFIX must be 1-64 letters, digits, '_', '-' or ':', got {prefix!r}"
            )
        level = (env.get("SHOP_LOG_LEVEL") or DEFAULT_LOG_LEVEL).upper()
        if level not in _LEVELS:
            raise ConfigurationError(
                f"SHOP_LOG_LEVEL must be one of {', '.join(_LEVELS)}, got {level!r}"
            )
        log_format = (env.get("SHOP_LOG_FORMAT") or "").strip().lower() or None
        if log_format is not None and log_format not in LOG_FORMATS:
            raise ConfigurationError(
                f"SHOP_LOG_FORMAT must be text or json, got {env.get('SHOP_LOG_FORMAT')!r}"
            )
        _check_tracing(env)
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            channel_prefix=prefix,
            log_level=level,
            log_format=log_format,
            stream_maxlen=_stream_maxlen(env.get("SHOP_STREAM_MAXLEN")),
            auth=AuthSettings.from_env(env),
        )

    def redactor(self) -> Redactor:
        """What masks this configuration's secrets wherever text is shown: the URLs' passwords
        and the auth secret (CONTRACT §1)."""
        secrets = [self.auth.secret] if self.auth.secret else []
        return Redactor.of_urls(self.database_url, self.redis_url, secrets=secrets)

    @property
    def log_level_number(self) -> int:
        """The log level as the logging module's number."""
        return int(getattr(logging, self.log_level))


def _check_tracing(env: Mapping[str, str]) -> None:
    """The ``OTEL_*`` variables ask for exporters the shop has (read by ``bootstrap``)."""
    from seedwork.observability.settings import exporter_names

    exporter_names(env)
