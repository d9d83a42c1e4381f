"""Security headers on every response."""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request

# Our pages load only our own assets; no inline script, no plugin, no foreign frame.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
# Assets may be cached; everything else may hold someone's data (reports, CSV, PDF, a new
# password or link on an admin page) and must not stay in a browser's or a proxy's cache.
CACHEABLE_ENDPOINTS = {"static", "pygments_css"}
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This response's nonce for the <style> elements our own scripts create (the code
    editor's); a page that asks for it gets `style-src 'self' 'nonce-...'` in its CSP."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def page_csp() -> str:
    """The CSP of this response: PAGE_CSP, plus the style nonce if the page used one."""
    if "csp_nonce" not in g:
        return PAGE_CSP
    return f"{PAGE_CSP}; style-src 'self' 'nonce-{g.csp_nonce}'"


def register(app: Flask) -> None:
    """Add the headers (a response that set its own CSP keeps it)."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", page_csp())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.status_code == 405 and "Allow" not in response.headers:
            response.headers["Allow"] = ", ".join(sorted(_allowed_methods()))
        return response


def _allowed_methods() -> set[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return set(adapter.allowed_methods()) | {"OPTIONS"}
