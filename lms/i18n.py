"""Marking text for translation where Flask is not: services and models mark, the web translates.

A service raises `lms.errors.DomainError(N_("Exercise %(slug)s does not exist."), slug=...)`;
the web layer (``lms.web.errors``) looks the message up in the user's language and fills in the
parameters. This is gettext's classic ``gettext_noop``: extraction finds ``N_``
(``pybabel extract -k N_``), and the domain stays free of Flask and of the request's locale.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for translation; it is returned unchanged (translated later, by the web)."""
    return message
