"""`python -m lms.cli` runs the `lms` command."""

from lms.cli import main

main()
