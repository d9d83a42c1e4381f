"""WSGI entry point: `flask --app app run` or any WSGI server."""

from lms import create_app

app = create_app()
