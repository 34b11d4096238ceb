"""Errors to problem answers: each family of the domain's error tree has its status."""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from seedwork.core.errors import ConcurrencyConflict, FieldError, InvalidPayload
from shop.domain.errors import Forbidden, InvalidValue, NotFound, RuleViolation, ShopError
from shop.entrypoints.http.problems import problem

log = logging.getLogger("shop.api")

RETRY_AFTER = "5"


def _invalid_payload(error: InvalidPayload) -> Response:
    return problem(422, "some fields are missing or invalid", errors=error.errors)


def _invalid_value(error: InvalidValue) -> Response:
    return problem(422, error.message, errors=[FieldError(error.field, error.message)])


def _forbidden(error: Forbidden) -> Response:
    return problem(403, str(error))


def _not_found(error: NotFound) -> Response:
    return problem(404, str(error))


def _rule_violation(error: ShopError) -> Response:
    return problem(409, str(error))


def _conflict(error: ConcurrencyConflict) -> Response:
    return problem(409, "a concurrent change to the same resource won; try again")


def _database_down(error: Exception) -> Response:
    log.warning("database unavailable: %s", error)
    return problem(
        503, "the database is unavailable; try again shortly", headers={"Retry-After": RETRY_AFTER}
    )


def _data_refused(error: DataError) -> Response:
    log.warning("the database refused a value: %s", error)
    return problem(422, "a value is out of the range the shop can store")


def _integrity(error: IntegrityError) -> Response:
    log.warning("integrity conflict: %s", error)
    return problem(409, "the change conflicts with data stored meanwhile; try again")


def register_error_handlers(app: Flask) -> None:
    """Map the domain, seedwork and database errors to problem answers."""
    app.register_error_handler(InvalidPayload, _invalid_payload)
    app.register_error_handler(InvalidValue, _invalid_value)
    app.register_error_handler(Forbidden, _forbidden)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(RuleViolation, _rule_violation)
    app.register_error_handler(ShopError, _rule_violation)
    app.register_error_handler(ConcurrencyConflict, _conflict)
    app.register_error_handler(DBAPIError, _database_down)
    app.register_error_handler(PoolTimeout, _database_down)
    app.register_error_handler(DataError, _data_refused)
    app.register_error_handler(IntegrityError, _integrity)
