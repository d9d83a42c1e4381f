"""Alembic migrations of Atlas's schema (`lms db upgrade`)."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for our migrations against `database_url` (no .ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option, so a '%' in a password needs no escaping.
    config.attributes["database_url"] = database_url
    # New revision scripts come out ruff-formatted (autogenerate writes very long lines).
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        hooks = {"ruff_fix": "check --fix --quiet", "ruff_format": "format"}
        config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
        for name, arguments in hooks.items():
            config.set_section_option("post_write_hooks", f"{name}.type", "exec")
            config.set_section_option("post_write_hooks", f"{name}.executable", str(ruff))
            config.set_section_option(
                "post_write_hooks", f"{name}.options", f"{arguments} REVISION_SCRIPT_FILENAME"
            )
    return config


def revision(database_url: str, message: str) -> None:
    """Write a new revision script from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema at `database_url` up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
