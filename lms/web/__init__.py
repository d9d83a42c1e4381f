"""Web blueprints: thin views over lms.services."""
