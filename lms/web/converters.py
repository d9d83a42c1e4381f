"""URL converters: every `<int:...>` in a route is a database id, so it is bounded."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# PostgreSQL's INTEGER (our primary keys): a larger number can name nothing, so it is a 404
# rather than an overflow in the database driver.
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """Like werkzeug's `int`, but between 0 and MAX_ID (else the route does not match: 404)."""

    def __init__(
        self,
        map,
        fixed_digits: int = 0,
        min: int | None = 0,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Make `int` the bounded converter (before any route is added)."""
    app.url_map.converters["int"] = BoundedIntConverter
