"""Alembic environment: our models' metadata, our engine settings (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context

import lms.models  # noqa: F401 - registers every table on Base.metadata
from lms.extensions import make_engine
from lms.models import Base

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    """Run the migrations in one connection (SQLite: batch mode, as ALTER is limited there)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
