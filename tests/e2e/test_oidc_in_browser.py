"""Signing in through the organisation's provider in Chromium: the button, the provider's round
trip (a real provider on loopback), and a declined consent explained on the sign-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from lms.extensions import db
from lms.models import User, UserRole
from tests.web.oidc_provider import OidcProvider

pytestmark = pytest.mark.e2e


def test_sign_in_with_the_organisation(app_factory, serve, browser_page: Page) -> None:
    provider = OidcProvider("atlas", "client-secret", redirect_uri="")
    try:
        app = app_factory(
            OIDC_ISSUER=provider.url,
            OIDC_CLIENT_ID="atlas",
            OIDC_CLIENT_SECRET="client-secret",
            OIDC_NAME="Example SSO",
        )
        with db.sessionmaker_for(app)() as session:
            session.add(User(email="trainee@example.org", role=UserRole.TRAINEE, password_hash="!"))
            session.commit()
        with serve(app) as base:
            provider.redirect_uri = f"{base}/login/oidc/callback"
            page = browser_page

            provider.behaviour.deny = True
            page.goto(f"{base}/login")
            page.get_by_role("link", name="Sign in with Example SSO").click()
            expect(page.get_by_text("You declined to sign in at Example SSO")).to_be_visible()

            provider.behaviour.deny = False
            page.get_by_role("link", name="Sign in with Example SSO").click()
            page.wait_for_url(f"{base}/learn")
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        provider.stop()
