"""Which failures the shop waits out and how it names them: the core's, the database's and
Redis's together (``seedwork.core.failures``)."""

from __future__ import annotations

from seedwork.core.failures import CORE, Failures
from seedwork.redis.failures import REDIS
from seedwork.sqlalchemy.failures import DATABASE

FAILURES: Failures = CORE | DATABASE | REDIS
