"""Alembic environment: our models' metadata, our engine settings (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

import lms.models  # noqa: F401 - registers every table on Base.metadata
from lms.extensions import make_engine
from lms.models import Base

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    """Run the migrations in one connection (SQLite: batch mode, as ALTER is limited there).

    On SQLite a batch migration copies a table and drops the old one; with foreign keys on,
    that drop cascades (a rebuilt `users` would delete every submission). So, as SQLite's own
    documentation prescribes for schema changes, foreign keys are off while migrating and
    checked once at the end: a migration that broke one fails instead of committing."""
    engine = make_engine(url)
    sqlite = url.startswith("sqlite")
    if sqlite:

        @event.listens_for(engine, "connect")
        def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
            # Runs after make_engine's own listener, outside any transaction (where it counts).
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows without their parent: {broken}")
    engine.dispose()


run_migrations_online()
