"""The Atlas web application."""
