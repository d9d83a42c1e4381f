"""`lms` commands: grading."""

from __future__ import annotations

from lms.cli import main  # noqa: F401
